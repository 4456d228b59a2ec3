-- Forecasts are never negative (forecast-methods.md): rows returned fail.
select
    tenant_id,
    sku_id,
    forecast_date,
    draft_qty
from {{ ref('fct_forecast_draft') }}
where draft_qty < 0
