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
        sku_days.units_sold,
        {{ period_start('tenants.grain', 'sku_days.sale_date') }}
            as period_start
    from sku_days
    inner join tenants
        on sku_days.tenant_id = tenants.tenant_id
),

final as (
    select
        tenant_id,
        sku_id,
        period_start,
        sum(units_sold) as units_sold
    from sku_days_with_period
    group by tenant_id, sku_id, period_start
)

select * from final
