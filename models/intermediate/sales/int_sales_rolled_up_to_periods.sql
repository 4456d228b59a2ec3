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

sku_days as (
    select * from {{ ref('int_sales_summed_to_sku_days') }}
),

tenants as (
    select * from {{ ref('int_tenants_configured') }}
),

sku_days_with_period as (
    select
        sku_days.tenant_id,
        sku_days.sku_id,
        tenants.grain,
        sku_days.units_sold,
        sku_days.last_loaded_at,
        {{ period_start('tenants.grain', 'sku_days.sale_date') }}
            as period_start
    from sku_days
    inner join tenants
        on sku_days.tenant_id = tenants.tenant_id
),

{% if is_incremental() %}
    -- On an incremental run: the periods with a SKU day summed since the
    -- last run, and every period of a tenant not built yet. Read from the
    -- table, not from the CTE: DuckDB copies a CTE read twice whole.
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

sku_days_to_roll_up as (
    {% if is_incremental() %}
        -- Every day of those periods.
        select sku_days_with_period.*
        from sku_days_with_period
        inner join changed_periods
            on
                sku_days_with_period.tenant_id = changed_periods.tenant_id
                and sku_days_with_period.sku_id = changed_periods.sku_id
                and sku_days_with_period.period_start
                = changed_periods.period_start
    {% else %}
        select * from sku_days_with_period
    {% endif %}
),

final as (
    select
        tenant_id,
        sku_id,
        period_start,
        grain,
        sum(units_sold) as units_sold,
        max(last_loaded_at) as last_loaded_at,
        {{ build_started_at() }} as built_at
    from sku_days_to_roll_up
    group by tenant_id, sku_id, period_start, grain
)

select * from final
