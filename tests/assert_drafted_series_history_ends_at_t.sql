-- Every drafted series has its history up to T, the period before its first
-- forecast date, numbered 1..N without a gap, so the page's chart of the
-- history joins the draft. Rows returned fail.
with

draft as (
    select * from {{ ref('fct_forecast_draft') }}
),

history as (
    select * from {{ ref('fct_series_history') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

drafted_series as (
    select distinct
        tenant_id,
        sku_id
    from draft
),

history_spans as (
    select
        tenant_id,
        sku_id,
        max(period_date) as last_period_date,
        max(period_index) as last_period_index,
        count(*) as period_count
    from history
    group by tenant_id, sku_id
),

final as (
    select
        drafted_series.tenant_id,
        drafted_series.sku_id
    from drafted_series
    inner join tenants
        on drafted_series.tenant_id = tenants.tenant_id
    left join history_spans
        on
            drafted_series.tenant_id = history_spans.tenant_id
            and drafted_series.sku_id = history_spans.sku_id
    where
        history_spans.sku_id is null
        or history_spans.last_period_date != tenants.history_end_period_start
        or history_spans.period_count != history_spans.last_period_index
)

select * from final
