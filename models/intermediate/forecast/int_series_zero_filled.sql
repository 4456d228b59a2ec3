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
            series_to_rebuild.history_end_period_start,
            {{ periods_between(
                'series_to_rebuild.grain',
                'series_to_rebuild.first_period_start',
                'series_to_rebuild.first_rebuilt_period_start'
            ) }} as first_period_offset,
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

{% else %}

    series_rebuilt as (
        select
            tenant_id,
            sku_id,
            grain,
            min(period_start) as first_period_start,
            history_end_period_start,
            0 as first_period_offset,
            0 as previous_demand_count
        from periods_up_to_history_end
        group by tenant_id, sku_id, grain, history_end_period_start
    ),

{% endif %}

series_lengths as (
    select
        *,
        {{ periods_between(
            'grain', 'first_period_start', 'history_end_period_start'
        ) }} as last_period_offset
    from series_rebuilt
),

series_offsets as (
    {{ explode_integer_range(
        'series_lengths', 'first_period_offset', 'last_period_offset',
        'period_offset'
    ) }}
),

series_spined as (
    select
        tenant_id,
        sku_id,
        grain,
        previous_demand_count,
        period_offset + 1 as period_index,
        {{ add_periods('grain', 'first_period_start', 'period_offset') }}
            as period_start
    from series_offsets
),

series_zero_filled as (
    select
        series_spined.tenant_id,
        series_spined.sku_id,
        series_spined.grain,
        series_spined.previous_demand_count,
        series_spined.period_start,
        series_spined.period_index,
        coalesce(periods_up_to_history_end.units_sold, 0) as units_sold,
        periods_up_to_history_end.last_loaded_at
    from series_spined
    left join periods_up_to_history_end
        on
            series_spined.tenant_id = periods_up_to_history_end.tenant_id
            and series_spined.sku_id = periods_up_to_history_end.sku_id
            and series_spined.period_start
            = periods_up_to_history_end.period_start
),

final as (
    select
        tenant_id,
        sku_id,
        period_start,
        period_index,
        units_sold,
        -- How many periods up to this one sold anything: the position of
        -- this period's demand in z, the non-zero demands (Croston, TSB).
        previous_demand_count + sum(
            case when units_sold > 0 then 1 else 0 end
        ) over (
            partition by tenant_id, sku_id
            order by period_index
            rows between unbounded preceding and current row
        ) as demand_count,
        grain,
        last_loaded_at,
        {{ build_started_at() }} as built_at
    from series_zero_filled
)

select * from final
