{#-
    Roll-up per tenant: errors and actuals are summed over the series
    first, so WAPE = sum |e| / sum |y| across series (a big seller weighs
    more than a slow one, as in the planners' total), MAE = sum |e| over
    all holdout periods, bias = sum e / sum |y|. A method's row covers the
    series where it was eligible; 'selected' covers each series with its
    selected method, i.e. what best-fit selection buys.
-#}

with

accuracy as (
    select * from {{ ref('fct_forecast_accuracy') }}
),

accuracy_by_method as (
    select
        tenant_id,
        method,
        absolute_error_total,
        error_total,
        actual_total,
        holdout_periods
    from accuracy
    union all
    select
        tenant_id,
        'selected' as method,
        absolute_error_total,
        error_total,
        actual_total,
        holdout_periods
    from accuracy
    where is_selected
),

totals as (
    select
        tenant_id,
        method,
        count(*) as series_count,
        sum(holdout_periods) as holdout_periods,
        sum(absolute_error_total) as absolute_error_total,
        sum(error_total) as error_total,
        sum(actual_total) as actual_total
    from accuracy_by_method
    group by tenant_id, method
),

final as (
    select
        tenant_id,
        method,
        cast(series_count as integer) as series_count,
        cast(holdout_periods as integer) as holdout_periods,
        cast(
            absolute_error_total / nullif(actual_total, 0)
            as {{ type_double() }}
        ) as wape,
        cast(
            absolute_error_total / holdout_periods as {{ type_double() }}
        ) as mae,
        cast(
            error_total / nullif(actual_total, 0) as {{ type_double() }}
        ) as bias,
        cast(absolute_error_total as {{ type_double() }})
            as absolute_error_total,
        cast(actual_total as {{ type_double() }}) as actual_total
    from totals
)

select * from final
