{#-
    Incremental: a run picks the natural keys that got a new version since
    the last run (by loaded_at), re-resolves each of them over all of its
    versions, old and new, and replaces those keys (delete+insert). So a
    late-arriving older version changes nothing, a correction replaces the
    line, and the table always equals a --full-refresh build. The one
    deduplication of the sales history: fct_sales and the forecast series
    read it.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['tenant_id', 'sku_id', 'location_id', 'sale_date'],
        on_schema_change='fail',
    )
}}

{%- set version_window -%}
    partition by tenant_id, sku_id, location_id, sale_date
    {{ latest_version_order() }}
{%- endset %}

with

sales as (
    select * from {{ ref('stg_client__sales') }}
),

-- On an incremental run: every version of each key that got a new version
-- since the last run (the high-water mark of loaded_at). The versions that
-- changed are read from the view itself, not from the CTE: DuckDB copies a
-- CTE read twice whole, here every version of every line.
sales_to_resolve as (
    select *
    from sales
    {% if is_incremental() %}
        where exists (
                select 1 as has_newer_version
                from {{ ref('stg_client__sales') }} as changed
                where
                    changed.loaded_at > {{ high_water_mark() }}
                    and changed.tenant_id = sales.tenant_id
                    and changed.sku_id = sales.sku_id
                    and changed.location_id = sales.location_id
                    and changed.sale_date = sales.sale_date
            )
    {% endif %}
),

-- All three windows share one partitioning and order, so the warehouse
-- sorts the versions once (on DuckDB three times faster than separate
-- windows on 20M rows). The latest version is then kept by its rank, in
-- plain SQL that every warehouse runs (DuckDB plans it as a qualify).
sales_versions_ranked as (
    select
        *,
        row_number() over ({{ version_window }}) as version_rank,
        count(*) over (
            {{ version_window }}
            rows between unbounded preceding and unbounded following
        ) as version_count,
        max(loaded_at) over (
            {{ version_window }}
            rows between unbounded preceding and unbounded following
        ) as last_loaded_at
    from sales_to_resolve
),

sales_deduplicated as (
    select *
    from sales_versions_ranked
    where version_rank = 1
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
    from sales_deduplicated
)

select * from final
