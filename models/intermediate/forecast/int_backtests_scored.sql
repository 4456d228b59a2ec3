{#-
    Backtest scores of the methods that take part: a method takes part in
    a series only if it is eligible in every window the series has. Its
    scores pool the points of all those windows (WAPE = sum |y - yhat| /
    sum |y|, MAE = sum |y - yhat| / points, bias = sum (yhat - y) / sum
    |y|; WAPE and bias null where sum |y| = 0); the same on window 1 alone,
    and WAPE and MAE on windows 2..k (what the nested members are ranked
    on; null with a single window).
-#}

with

method_forecasts as (
    select * from {{ ref('int_method_forecasts_computed') }}
),

series as (
    select * from {{ ref('int_series_trimmed') }}
),

series_classified as (
    select * from {{ ref('int_series_classified') }}
),

holdout_errors as (
    select
        method_forecasts.tenant_id,
        method_forecasts.sku_id,
        method_forecasts.method,
        method_forecasts.window_index,
        method_forecasts.forecast_qty,
        cast(series.units_sold as {{ type_double() }}) as actual_qty
    from method_forecasts
    inner join series
        on
            method_forecasts.tenant_id = series.tenant_id
            and method_forecasts.sku_id = series.sku_id
            and method_forecasts.fit_periods + method_forecasts.step
            = series.period_index
    where method_forecasts.window_index >= 1
),

error_totals as (
    select
        tenant_id,
        sku_id,
        method,
        count(distinct window_index) as window_count,
        count(*) as holdout_periods,
        sum(abs(actual_qty - forecast_qty)) as absolute_error_total,
        sum(forecast_qty - actual_qty) as error_total,
        sum(abs(actual_qty)) as actual_total,
        sum(case when window_index = 1 then 1 else 0 end) as window_1_periods,
        sum(
            case
                when window_index = 1 then abs(actual_qty - forecast_qty)
            end
        ) as window_1_absolute_error_total,
        sum(
            case when window_index = 1 then forecast_qty - actual_qty end
        ) as window_1_error_total,
        sum(case when window_index = 1 then abs(actual_qty) end)
            as window_1_actual_total,
        sum(case when window_index >= 2 then 1 else 0 end)
            as earlier_windows_periods,
        sum(
            case
                when window_index >= 2 then abs(actual_qty - forecast_qty)
            end
        ) as earlier_windows_absolute_error_total,
        sum(case when window_index >= 2 then abs(actual_qty) end)
            as earlier_windows_actual_total
    from holdout_errors
    group by tenant_id, sku_id, method
),

-- Eligible in every window of the series, or not at all.
taking_part as (
    select error_totals.*
    from error_totals
    inner join series_classified
        on
            error_totals.tenant_id = series_classified.tenant_id
            and error_totals.sku_id = series_classified.sku_id
            and error_totals.window_count = series_classified.window_count
),

final as (
    select
        tenant_id,
        sku_id,
        method,
        window_count,
        holdout_periods,
        absolute_error_total,
        error_total,
        actual_total,
        absolute_error_total / nullif(actual_total, 0) as wape,
        absolute_error_total / holdout_periods as mae,
        error_total / nullif(actual_total, 0) as bias,
        window_1_periods,
        window_1_absolute_error_total,
        window_1_error_total,
        window_1_actual_total,
        window_1_absolute_error_total / nullif(window_1_actual_total, 0)
            as window_1_wape,
        window_1_absolute_error_total / window_1_periods as window_1_mae,
        window_1_error_total / nullif(window_1_actual_total, 0)
            as window_1_bias,
        earlier_windows_absolute_error_total
        / nullif(earlier_windows_actual_total, 0) as earlier_windows_wape,
        earlier_windows_absolute_error_total
        / nullif(earlier_windows_periods, 0) as earlier_windows_mae
    from taking_part
)

select * from final
