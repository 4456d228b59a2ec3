{#-
    Incremental: a run takes the lines int_sales_deduplicated re-resolved
    since this table's last run, i.e. those whose last_loaded_at (the
    landing of their latest version) is past this table's high-water mark,
    and replaces those keys (delete+insert). Every key that got a new
    version, winning or not, has such a last_loaded_at, so the table always
    equals int_sales_deduplicated and a --full-refresh build.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'sku_id', 'location_id', 'sale_date'],
        on_schema_change='fail',
    )
}}

with

sales_deduplicated as (
    select * from {{ ref('int_sales_deduplicated') }}
),

-- On an incremental run: the lines re-resolved since the last run.
sales_to_replace as (
    select *
    from sales_deduplicated
    {% if is_incremental() %}
        where
            last_loaded_at > {{ high_water_mark() }}
    {% endif %}
),

final as (
    select
        tenant_id,
        sku_id,
        location_id,
        sale_date,
        units_sold,
        net_revenue,
        currency_code,
        updated_at,
        version_count,
        source_file,
        source_file_seq,
        source_line,
        last_loaded_at,
        {{ build_started_at() }} as built_at
    from sales_to_replace
)

select * from final
