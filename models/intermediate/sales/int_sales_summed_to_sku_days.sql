{#-
    Incremental: a run sums again, over all their locations, the SKU days
    that have a line int_sales_deduplicated re-resolved since this table's
    high-water mark (last_loaded_at), and replaces those SKU days
    (delete+insert). Lines are never removed, so every SKU day that
    changed has such a line, and the table always equals a --full-refresh
    build.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'sku_id', 'sale_date'],
        on_schema_change='fail',
    )
}}

with

sales as (
    select * from {{ ref('int_sales_deduplicated') }}
),

{% if is_incremental() %}
    -- On an incremental run: the SKU days with a line re-resolved since the
    -- last run. Read from the table, not from the CTE: DuckDB copies a CTE
    -- read twice whole.
    changed_sku_days as (
        select distinct
            tenant_id,
            sku_id,
            sale_date
        from {{ ref('int_sales_deduplicated') }}
        where last_loaded_at > {{ high_water_mark() }}
    ),
{% endif %}

sales_to_sum as (
    {% if is_incremental() %}
        -- Every line of those SKU days.
        select sales.*
        from sales
        inner join changed_sku_days
            on
                sales.tenant_id = changed_sku_days.tenant_id
                and sales.sku_id = changed_sku_days.sku_id
                and sales.sale_date = changed_sku_days.sale_date
    {% else %}
        select * from sales
    {% endif %}
),

final as (
    select
        tenant_id,
        sku_id,
        sale_date,
        sum(units_sold) as units_sold,
        count(*) as location_count,
        max(last_loaded_at) as last_loaded_at,
        {{ build_started_at() }} as built_at
    from sales_to_sum
    group by tenant_id, sku_id, sale_date
)

select * from final
