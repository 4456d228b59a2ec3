with

sales as (
    select * from {{ ref('int_sales_deduplicated') }}
),

final as (
    select
        tenant_id,
        sku_id,
        sale_date,
        sum(units_sold) as units_sold,
        count(*) as location_count
    from sales
    group by tenant_id, sku_id, sale_date
)

select * from final
