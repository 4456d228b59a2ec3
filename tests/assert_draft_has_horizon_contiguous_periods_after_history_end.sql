-- Every forecast series has exactly h periods, steps 1..h, and step k is
-- the k-th period after T at the tenant's grain: contiguous, none at or
-- before T. Rows returned fail.
with

draft as (
    select * from {{ ref('fct_forecast_draft') }}
),

tenants as (
    select * from {{ ref('dim_tenant') }}
),

misplaced_periods as (
    select
        draft.tenant_id,
        draft.sku_id,
        'forecast_date is not step periods after T' as failure
    from draft
    inner join tenants
        on draft.tenant_id = tenants.tenant_id
    where
        draft.forecast_date
        != {{ add_periods(
            'tenants.grain', 'tenants.history_end_period_start', 'draft.step'
        ) }}
        or draft.forecast_date <= tenants.history_end_date
),

wrong_counts as (
    select
        draft.tenant_id,
        draft.sku_id,
        'not exactly steps 1..h' as failure
    from draft
    inner join tenants
        on draft.tenant_id = tenants.tenant_id
    group by draft.tenant_id, draft.sku_id, tenants.horizon_periods
    having
        count(*) != tenants.horizon_periods
        or count(distinct draft.step) != tenants.horizon_periods
        or min(draft.step) != 1
        or max(draft.step) != tenants.horizon_periods
)

select * from misplaced_periods
union all
select * from wrong_counts
