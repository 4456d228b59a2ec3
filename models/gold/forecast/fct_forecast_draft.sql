{#-
    The draft of every forecastable series, step k = 1..h dated k periods
    after T. A series with a backtest window gets top3_median: the median
    of its three members refit on the whole series, with the interval
    max(0, draft - q) .. draft + q; a series without one gets
    short_history_mean and no interval.
-#}

with

combined_forecasts as (
    select * from {{ ref('int_member_forecasts_combined') }}
),

combined_scores as (
    select * from {{ ref('int_combined_forecasts_scored') }}
),

ranked_methods as (
    select * from {{ ref('int_forecast_methods_ranked') }}
),

method_forecasts as (
    select * from {{ ref('int_method_forecasts_computed') }}
),

tenants as (
    select * from {{ ref('int_tenants_configured') }}
),

-- The members in rank order, comma-separated: "ses,naive,tsb".
members_listed as (
    select
        tenant_id,
        sku_id,
        max(case when method_rank = 1 then method end)
        || ','
        || max(case when method_rank = 2 then method end)
        || ','
        || max(case when method_rank = 3 then method end) as members
    from ranked_methods
    where is_member
    group by tenant_id, sku_id
),

top3_median_drafts as (
    select
        combined_forecasts.tenant_id,
        combined_forecasts.sku_id,
        combined_forecasts.step,
        combined_forecasts.combined_qty as draft_qty,
        greatest(
            combined_forecasts.combined_qty - combined_scores.interval_width, 0
        ) as lower_qty,
        combined_forecasts.combined_qty + combined_scores.interval_width
            as upper_qty,
        'top3_median' as method,
        members_listed.members
    from combined_forecasts
    inner join combined_scores
        on
            combined_forecasts.tenant_id = combined_scores.tenant_id
            and combined_forecasts.sku_id = combined_scores.sku_id
    inner join members_listed
        on
            combined_forecasts.tenant_id = members_listed.tenant_id
            and combined_forecasts.sku_id = members_listed.sku_id
    where
        combined_forecasts.combination = 'top3_median'
        and combined_forecasts.window_index = 0
),

short_history_drafts as (
    select
        tenant_id,
        sku_id,
        step,
        forecast_qty as draft_qty,
        cast(null as {{ type_double() }}) as lower_qty,
        cast(null as {{ type_double() }}) as upper_qty,
        method,
        cast(null as {{ dbt.type_string() }}) as members
    from method_forecasts
    where method = 'short_history_mean' and window_index = 0
),

drafts as (
    select * from top3_median_drafts
    union all
    select * from short_history_drafts
),

final as (
    select
        drafts.tenant_id,
        drafts.sku_id,
        {{ add_periods(
            'tenants.grain',
            'tenants.history_end_period_start',
            'drafts.step',
        ) }} as forecast_date,
        cast(drafts.step as integer) as step,
        cast(drafts.draft_qty as {{ type_double() }}) as draft_qty,
        cast(drafts.lower_qty as {{ type_double() }}) as lower_qty,
        cast(drafts.upper_qty as {{ type_double() }}) as upper_qty,
        drafts.method,
        drafts.members,
        {{ build_started_at() }} as built_at
    from drafts
    inner join tenants
        on drafts.tenant_id = tenants.tenant_id
)

select * from final
