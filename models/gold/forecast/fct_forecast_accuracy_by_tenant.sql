{#-
    Roll-up per tenant, all on window 1 so that every row is scored on the
    same kind of points: for each method, over the series where it took
    part; for top3_median, the nested forecasts of the series with at least
    two windows (the only honest score of the combination), with the share
    of their window-1 points inside the nested interval, to compare with
    the tenant's level L. Errors and actuals are summed over the series
    before dividing (WAPE = sum |e| / sum |y| across series), so a big
    seller weighs more than a slow one, as in the planners' totals.
-#}

with

accuracy as (
    select * from {{ ref('fct_forecast_accuracy') }}
),

tenants as (
    select * from {{ ref('int_tenants_configured') }}
),

totals as (
    select
        tenant_id,
        method,
        count(*) as series_count,
        sum(window_1_periods) as holdout_periods,
        sum(window_1_absolute_error_total) as absolute_error_total,
        sum(window_1_error_total) as error_total,
        sum(window_1_actual_total) as actual_total,
        sum(window_1_covered_periods) as covered_periods
    from accuracy
    -- top3_median of a series with a single window has no nested score.
    where window_1_periods is not null
    group by tenant_id, method
),

final as (
    select
        totals.tenant_id,
        totals.method,
        cast(totals.series_count as integer) as series_count,
        cast(totals.holdout_periods as integer) as holdout_periods,
        cast(
            totals.absolute_error_total / nullif(totals.actual_total, 0)
            as {{ type_double() }}
        ) as wape,
        cast(
            totals.absolute_error_total / totals.holdout_periods
            as {{ type_double() }}
        ) as mae,
        cast(
            totals.error_total / nullif(totals.actual_total, 0)
            as {{ type_double() }}
        ) as bias,
        cast(
            cast(totals.covered_periods as {{ type_double() }})
            / totals.holdout_periods
            as {{ type_double() }}
        ) as interval_coverage,
        cast(
            case when totals.method = 'top3_median' then tenants.interval_level end
            as {{ type_double() }}
        ) as interval_level,
        cast(totals.absolute_error_total as {{ type_double() }})
            as absolute_error_total,
        cast(totals.actual_total as {{ type_double() }}) as actual_total
    from totals
    inner join tenants
        on totals.tenant_id = tenants.tenant_id
)

select * from final
