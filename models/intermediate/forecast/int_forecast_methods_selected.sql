{#-
    The selected method per forecastable series: the lowest WAPE (the
    lowest MAE where WAPE is null, i.e. the holdout sold nothing), ties to
    the first in the fixed method order. Scores within
    var('selection_tie_tolerance') (relative above 1) of the best count as
    ties, so floating-point noise between mathematically equal forecasts
    (e.g. ses and naive on a flat series) cannot decide. Series with
    nothing to backtest use short_history_mean.
-#}
{%- set tolerance = var('selection_tie_tolerance') -%}

with

backtests as (
    select * from {{ ref('int_backtests_scored') }}
),

series_classified as (
    select * from {{ ref('int_series_classified') }}
),

forecast_methods as (
    select * from {{ ref('forecast_methods') }}
),

backtests_with_best as (
    select
        backtests.tenant_id,
        backtests.sku_id,
        backtests.method,
        backtests.wape,
        backtests.mae,
        forecast_methods.method_order,
        min(backtests.wape) over (
            partition by backtests.tenant_id, backtests.sku_id
        ) as best_wape,
        min(backtests.mae) over (
            partition by backtests.tenant_id, backtests.sku_id
        ) as best_mae
    from backtests
    inner join forecast_methods
        on backtests.method = forecast_methods.method
),

best_candidates as (
    select *
    from backtests_with_best
    where
        case
            when best_wape is not null
                then
                    wape
                    <= best_wape + {{ tolerance }} * greatest(1, best_wape)
            else mae <= best_mae + {{ tolerance }} * greatest(1, best_mae)
        end
),

selected_by_backtest as (
    {{ first_row_per_partition(
        'best_candidates', ['tenant_id', 'sku_id'], 'method_order'
    ) }}
),

selected_by_fallback as (
    select
        tenant_id,
        sku_id,
        'short_history_mean' as method
    from series_classified
    where is_forecastable and not has_backtest
),

final as (
    select
        tenant_id,
        sku_id,
        method,
        true as has_backtest
    from selected_by_backtest
    union all
    select
        tenant_id,
        sku_id,
        method,
        false as has_backtest
    from selected_by_fallback
)

select * from final
