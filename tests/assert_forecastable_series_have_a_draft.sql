-- Every series that should be forecast has a draft, and no other SKU has
-- one (inactive, discontinued on or before the last day of T, or without
-- sales up to T). Rows returned fail.
with

series as (
    select * from {{ ref('int_series_classified') }}
),

drafted as (
    select distinct
        tenant_id,
        sku_id
    from {{ ref('fct_forecast_draft') }}
)

select
    coalesce(series.tenant_id, drafted.tenant_id) as tenant_id,
    coalesce(series.sku_id, drafted.sku_id) as sku_id,
    series.is_forecastable,
    drafted.sku_id is not null as has_draft
from series
full outer join drafted
    on
        series.tenant_id = drafted.tenant_id
        and series.sku_id = drafted.sku_id
where coalesce(series.is_forecastable, false) != (drafted.sku_id is not null)
