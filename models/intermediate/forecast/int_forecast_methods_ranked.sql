{#-
    The methods of each backtested series in rank order: by score (WAPE;
    MAE where WAPE is null, i.e. the windows sold nothing) rounded to 9
    decimal places (macro ranking_score_key), then by the fixed method
    order. The members are the first three; they make the draft.

    The nested rank is the same ranking on windows 2..k only (null with a
    single window); the nested members, its first three, are scored on
    window 1, points their ranking never saw.
-#}

with

backtests as (
    select * from {{ ref('int_backtests_scored') }}
),

forecast_methods as (
    select * from {{ ref('forecast_methods') }}
),

backtests_ranked as (
    select
        backtests.*,
        row_number() over (
            partition by backtests.tenant_id, backtests.sku_id
            order by
                {{ ranking_score_key(
                    'coalesce(backtests.wape, backtests.mae)'
                ) }},
                forecast_methods.method_order
        ) as method_rank,
        row_number() over (
            partition by backtests.tenant_id, backtests.sku_id
            order by
                {{ ranking_score_key(
                    'coalesce(backtests.earlier_windows_wape,'
                    ~ ' backtests.earlier_windows_mae)'
                ) }},
                forecast_methods.method_order
        ) as earlier_windows_rank
    from backtests
    inner join forecast_methods
        on backtests.method = forecast_methods.method
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
        wape,
        mae,
        bias,
        window_1_periods,
        window_1_absolute_error_total,
        window_1_error_total,
        window_1_actual_total,
        window_1_wape,
        window_1_mae,
        window_1_bias,
        method_rank,
        case when window_count >= 2 then earlier_windows_rank end
            as nested_rank,
        method_rank <= 3 as is_member,
        window_count >= 2 and earlier_windows_rank <= 3 as is_nested_member
    from backtests_ranked
)

select * from final
