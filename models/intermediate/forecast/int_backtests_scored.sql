with

method_forecasts as (
    select * from {{ ref('int_method_forecasts_computed') }}
),

series as (
    select * from {{ ref('int_series_zero_filled') }}
),

holdout_errors as (
    select
        method_forecasts.tenant_id,
        method_forecasts.sku_id,
        method_forecasts.method,
        method_forecasts.forecast_qty,
        cast(series.units_sold as {{ type_double() }}) as actual_qty
    from method_forecasts
    inner join series
        on
            method_forecasts.tenant_id = series.tenant_id
            and method_forecasts.sku_id = series.sku_id
            and method_forecasts.fit_periods + method_forecasts.step
            = series.period_index
    where method_forecasts.fit_kind = 'backtest'
),

error_totals as (
    select
        tenant_id,
        sku_id,
        method,
        count(*) as holdout_periods,
        sum(abs(actual_qty - forecast_qty)) as absolute_error_total,
        sum(forecast_qty - actual_qty) as error_total,
        sum(abs(actual_qty)) as actual_total
    from holdout_errors
    group by tenant_id, sku_id, method
),

final as (
    select
        tenant_id,
        sku_id,
        method,
        holdout_periods,
        absolute_error_total,
        error_total,
        actual_total,
        absolute_error_total / nullif(actual_total, 0) as wape,
        absolute_error_total / holdout_periods as mae,
        error_total / nullif(actual_total, 0) as bias
    from error_totals
)

select * from final
