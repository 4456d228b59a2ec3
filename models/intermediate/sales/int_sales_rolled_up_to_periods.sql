{#-
    Incremental: a run rolls up again, over all their days, the periods
    that have a SKU day summed since this table's high-water mark
    (last_loaded_at), and every period of a tenant the table does not
    hold yet, and replaces those periods (delete+insert). A tenant whose
    grain changed is deleted first (pre-hook) and so rolled up again
    whole. The table always equals a --full-refresh build.
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

tenants as (
    select * from {{ ref('int_tenants_configured') }}
),

{% if is_incremental() %}
    -- On an incremental run: the periods with a SKU day summed since the
    -- last run, and every period of a tenant not built yet.
    changed_periods as (
        select distinct
            changed_days.tenant_id,
            changed_days.sku_id,
            {{ period_start('tenants.grain', 'changed_days.sale_date') }}
                as period_start
        from {{ ref('int_sales_summed_to_sku_days') }} as changed_days
        inner join tenants
            on changed_days.tenant_id = tenants.tenant_id
        where
            changed_days.last_loaded_at > {{ high_water_mark() }}
            or changed_days.tenant_id not in (
                select built.tenant_id from {{ this }} as built
            )
    ),
{% endif %}

-- A day is its own period (a SKU has one row a day): nothing to sum.
-- The two CTEs read the table each: DuckDB copies a CTE read twice whole.
day_periods as (
    select
        sku_days.tenant_id,
        sku_days.sku_id,
        cast(sku_days.sale_date as date) as period_start,
        tenants.grain,
        sku_days.units_sold,
        sku_days.last_loaded_at
    from {{ ref('int_sales_summed_to_sku_days') }} as sku_days
    inner join tenants
        on sku_days.tenant_id = tenants.tenant_id
    {%- if is_incremental() %}
        -- Every day of those periods.
        inner join changed_periods
            on
                sku_days.tenant_id = changed_periods.tenant_id
                and sku_days.sku_id = changed_periods.sku_id
                and {{ period_start('tenants.grain', 'sku_days.sale_date') }}
                = changed_periods.period_start
    {%- endif %}
    where tenants.grain = 'day'
),

-- A week or a month sums its days.
longer_periods as (
    select
        sku_days.tenant_id,
        sku_days.sku_id,
        {{ period_start('tenants.grain', 'sku_days.sale_date') }}
            as period_start,
        tenants.grain,
        sum(sku_days.units_sold) as units_sold,
        max(sku_days.last_loaded_at) as last_loaded_at
    from {{ ref('int_sales_summed_to_sku_days') }} as sku_days
    inner join tenants
        on sku_days.tenant_id = tenants.tenant_id
    {%- if is_incremental() %}
        -- Every day of those periods.
        inner join changed_periods
            on
                sku_days.tenant_id = changed_periods.tenant_id
                and sku_days.sku_id = changed_periods.sku_id
                and {{ period_start('tenants.grain', 'sku_days.sale_date') }}
                = changed_periods.period_start
    {%- endif %}
    where tenants.grain != 'day'
    group by 1, 2, 3, 4
),

periods as (
    select * from day_periods
    union all
    select * from longer_periods
),

final as (
    select
        *,
        {{ build_started_at() }} as built_at
    from periods
)

select * from final
