{#-
    Incremental: a run rebuilds each series only from the first period
    that changed since the last run and replaces those periods
    (delete+insert). A period changed when one of its days was summed
    again since this table's high-water mark (last_loaded_at), when it is
    past the T of the last run (T moved on: new periods, zeros included),
    or when its tenant is not built yet. A series whose first period moved
    earlier, and a new series, are rebuilt whole; the others keep their
    period_index, and demand_count goes on from the row before the first
    period rebuilt. A tenant whose grain changed is deleted first
    (pre-hook) and built again whole. The table always equals a
    --full-refresh build.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'sku_id', 'period_start'],
        on_schema_change='fail',
        pre_hook="{{ delete_rows_of_regrained_tenants() }}",
    )
}}

with

sales_periods as (
    select * from {{ ref('int_sales_rolled_up_to_periods') }}
),

tenants as (
    select * from {{ ref('int_tenants_configured') }}
),

-- A series runs from the first period with a sales row up to T, the
-- tenant's last complete period; later, incomplete periods are left out.
periods_up_to_history_end as (
    select
        sales_periods.tenant_id,
        sales_periods.sku_id,
        sales_periods.period_start,
        sales_periods.units_sold,
        sales_periods.last_loaded_at,
        tenants.grain,
        tenants.history_end_period_start
    from sales_periods
    inner join tenants
        on sales_periods.tenant_id = tenants.tenant_id
    where sales_periods.period_start <= tenants.history_end_period_start
),

{% if is_incremental() %}

    -- What the last run built: each tenant's T and each series' first period.
    built_tenants as (
        select
            tenant_id,
            max(period_start) as built_history_end_period_start
        from {{ this }}
        group by tenant_id
    ),

    built_series as (
        select
            tenant_id,
            sku_id,
            period_start as built_first_period_start
        from {{ this }}
        where period_index = 1
    ),

    -- The periods up to T that changed. Read from the table, not from the
    -- CTE: DuckDB copies a CTE read twice whole.
    changed_series as (
        select
            changed_periods.tenant_id,
            changed_periods.sku_id,
            min(changed_periods.period_start) as first_changed_period_start
        from {{ ref('int_sales_rolled_up_to_periods') }} as changed_periods
        inner join tenants
            on changed_periods.tenant_id = tenants.tenant_id
        left join built_tenants
            on changed_periods.tenant_id = built_tenants.tenant_id
        where
            changed_periods.period_start <= tenants.history_end_period_start
            and (
                built_tenants.tenant_id is null
                or changed_periods.period_start
                > built_tenants.built_history_end_period_start
                or changed_periods.last_loaded_at > {{ high_water_mark() }}
            )
        group by changed_periods.tenant_id, changed_periods.sku_id
    ),

    series_with_changes as (
        select
            coalesce(built_series.tenant_id, changed_series.tenant_id)
                as tenant_id,
            coalesce(built_series.sku_id, changed_series.sku_id) as sku_id,
            built_series.built_first_period_start,
            changed_series.first_changed_period_start
        from built_series
        full outer join changed_series
            on
                built_series.tenant_id = changed_series.tenant_id
                and built_series.sku_id = changed_series.sku_id
    ),

    series_with_bounds as (
        select
            series_with_changes.tenant_id,
            series_with_changes.sku_id,
            tenants.grain,
            tenants.history_end_period_start,
            series_with_changes.built_first_period_start,
            coalesce(
                least(
                    series_with_changes.built_first_period_start,
                    series_with_changes.first_changed_period_start
                ),
                series_with_changes.built_first_period_start,
                series_with_changes.first_changed_period_start
            ) as first_period_start,
            -- The built series gets at least the periods after the last T.
            least(
                coalesce(
                    series_with_changes.first_changed_period_start,
                    {{ add_periods(
                        'tenants.grain',
                        'built_tenants.built_history_end_period_start',
                        '1'
                    ) }}
                ),
                {{ add_periods(
                    'tenants.grain',
                    'built_tenants.built_history_end_period_start',
                    '1'
                ) }}
            ) as first_rebuilt_period_start
        from series_with_changes
        inner join tenants
            on series_with_changes.tenant_id = tenants.tenant_id
        left join built_tenants
            on series_with_changes.tenant_id = built_tenants.tenant_id
    ),

    series_to_rebuild as (
        select
            tenant_id,
            sku_id,
            grain,
            first_period_start,
            history_end_period_start,
            -- New, or starting earlier than built: rebuilt whole.
            case
                when
                    built_first_period_start is null
                    or first_period_start < built_first_period_start
                    then first_period_start
                else first_rebuilt_period_start
            end as first_rebuilt_period_start
        from series_with_bounds
    ),

    -- demand_count goes on from the built row before the first rebuilt one.
    series_rebuilt as (
        select
            series_to_rebuild.tenant_id,
            series_to_rebuild.sku_id,
            series_to_rebuild.grain,
            series_to_rebuild.first_period_start,
            series_to_rebuild.first_rebuilt_period_start,
            series_to_rebuild.history_end_period_start,
            coalesce(previous_period.demand_count, 0) as previous_demand_count
        from series_to_rebuild
        left join {{ this }} as previous_period
            on
                series_to_rebuild.tenant_id = previous_period.tenant_id
                and series_to_rebuild.sku_id = previous_period.sku_id
                and series_to_rebuild.first_rebuilt_period_start
                > series_to_rebuild.first_period_start
                and previous_period.period_start = {{ add_periods(
                    'series_to_rebuild.grain',
                    'series_to_rebuild.first_rebuilt_period_start',
                    '-1'
                ) }}
        where
            series_to_rebuild.first_rebuilt_period_start
            <= series_to_rebuild.history_end_period_start
    ),

    -- The rebuilt part of each series: its sales periods from the first
    -- period rebuilt, and a row of no sales at that period, so that the
    -- part starts there when its first periods sold nothing.
    rebuilt_rows as (
        select
            periods_up_to_history_end.tenant_id,
            periods_up_to_history_end.sku_id,
            periods_up_to_history_end.grain,
            periods_up_to_history_end.history_end_period_start,
            periods_up_to_history_end.period_start,
            periods_up_to_history_end.units_sold,
            periods_up_to_history_end.last_loaded_at,
            series_rebuilt.first_period_start,
            series_rebuilt.previous_demand_count,
            true as is_sales_period
        from periods_up_to_history_end
        inner join series_rebuilt
            on
                periods_up_to_history_end.tenant_id = series_rebuilt.tenant_id
                and periods_up_to_history_end.sku_id = series_rebuilt.sku_id
                and periods_up_to_history_end.period_start
                >= series_rebuilt.first_rebuilt_period_start

        union all

        select
            tenant_id,
            sku_id,
            grain,
            history_end_period_start,
            first_rebuilt_period_start as period_start,
            0 as units_sold,
            null as last_loaded_at,
            first_period_start,
            previous_demand_count,
            false as is_sales_period
        from series_rebuilt
    ),

{% else %}

    rebuilt_rows as (
        select
            tenant_id,
            sku_id,
            grain,
            history_end_period_start,
            period_start,
            units_sold,
            last_loaded_at,
            0 as previous_demand_count,
            true as is_sales_period
        from periods_up_to_history_end
    ),

{% endif %}

-- One window over the rows, in period order: where the series starts,
-- where the next row starts, and how many periods up to this one sold
-- anything (the position of this period's demand in z, the non-zero
-- demands of Croston and TSB). The periods between two rows sold nothing.
rows_in_series_order as (
    select
        tenant_id,
        sku_id,
        grain,
        history_end_period_start,
        period_start,
        units_sold,
        last_loaded_at,
        {% if is_incremental() -%}
            first_period_start,
        {%- else -%}
            first_value(period_start) over (
                partition by tenant_id, sku_id
                order by period_start, is_sales_period
                rows between unbounded preceding and current row
            ) as first_period_start,
        {%- endif %}
        lead(period_start) over (
            partition by tenant_id, sku_id
            order by period_start, is_sales_period
        ) as next_period_start,
        previous_demand_count + sum(
            case when units_sold > 0 then 1 else 0 end
        ) over (
            partition by tenant_id, sku_id
            order by period_start, is_sales_period
            rows between unbounded preceding and current row
        ) as demand_count
    from rebuilt_rows
),

-- Each row spans its own period and the periods without sales after it,
-- up to the next row or to T.
spans as (
    select
        tenant_id,
        sku_id,
        grain,
        period_start as span_start,
        units_sold,
        last_loaded_at,
        demand_count,
        cast({{ periods_between(
            'grain', 'first_period_start', 'period_start'
        ) }} as bigint) + 1 as span_period_index,
        {{ periods_between(
            'grain',
            'period_start',
            'coalesce(next_period_start, '
            ~ add_periods('grain', 'history_end_period_start', '1') ~ ')'
        ) }} - 1 as last_period_offset
    from rows_in_series_order
),

span_periods as (
    {{ explode_integer_range(
        'spans', '0', 'last_period_offset', 'period_offset'
    ) }}
),

final as (
    select
        tenant_id,
        sku_id,
        {{ add_periods('grain', 'span_start', 'period_offset') }}
            as period_start,
        span_period_index + period_offset as period_index,
        case when period_offset = 0 then units_sold else 0 end as units_sold,
        demand_count,
        grain,
        case when period_offset = 0 then last_loaded_at end as last_loaded_at,
        {{ build_started_at() }} as built_at
    from span_periods
)

select * from final
