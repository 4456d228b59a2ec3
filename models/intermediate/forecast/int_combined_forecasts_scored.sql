{#-
    Per backtested series: the interval half-width q of the draft, the
    members' median scored over every window, and the honest score of the
    combination (the nested members' median on window 1) with the coverage
    of its interval.

    q is the L-quantile of |y - median| over a set of backtest points, with
    linear interpolation between order statistics: for the n errors in
    ascending order e_0..e_(n-1), position = L * (n - 1), and q = e_lo +
    (e_hi - e_lo) * (position - lo) with lo = floor(position), hi = min(lo
    + 1, n - 1). The draft's q uses every window's points; the nested
    interval's q windows 2..k only, and covers a window-1 point when
    max(0, median - q) <= y <= median + q.
-#}

with

combined_forecasts as (
    select * from {{ ref('int_member_forecasts_combined') }}
),

series_classified as (
    select * from {{ ref('int_series_classified') }}
),

backtest_errors as (
    select
        combined_forecasts.tenant_id,
        combined_forecasts.sku_id,
        combined_forecasts.combination,
        combined_forecasts.window_index,
        combined_forecasts.combined_qty,
        combined_forecasts.actual_qty,
        abs(combined_forecasts.actual_qty - combined_forecasts.combined_qty)
            as absolute_error,
        series_classified.interval_level
    from combined_forecasts
    inner join series_classified
        on
            combined_forecasts.tenant_id = series_classified.tenant_id
            and combined_forecasts.sku_id = series_classified.sku_id
    where combined_forecasts.window_index >= 1
),

interval_errors as (
    select
        tenant_id,
        sku_id,
        combination,
        absolute_error,
        interval_level,
        row_number() over (
            partition by tenant_id, sku_id, combination
            order by absolute_error
        ) - 1 as error_position,
        count(*) over (
            partition by tenant_id, sku_id, combination
        ) as error_count
    from backtest_errors
    where combination = 'top3_median' or window_index >= 2
),

interval_positions as (
    select
        *,
        interval_level * (error_count - 1) as quantile_position,
        floor(interval_level * (error_count - 1)) as low_position
    from interval_errors
),

interval_bounds as (
    select
        tenant_id,
        sku_id,
        combination,
        max(quantile_position - low_position) as fraction,
        max(case when error_position = low_position then absolute_error end)
            as low_error,
        max(
            case
                when error_position = least(low_position + 1, error_count - 1)
                    then absolute_error
            end
        ) as high_error
    from interval_positions
    group by tenant_id, sku_id, combination
),

interval_widths as (
    select
        tenant_id,
        sku_id,
        combination,
        low_error + (high_error - low_error) * fraction as interval_width
    from interval_bounds
),

combination_totals as (
    select
        tenant_id,
        sku_id,
        count(*) as holdout_periods,
        sum(absolute_error) as absolute_error_total,
        sum(combined_qty - actual_qty) as error_total,
        sum(abs(actual_qty)) as actual_total
    from backtest_errors
    where combination = 'top3_median'
    group by tenant_id, sku_id
),

nested_totals as (
    select
        backtest_errors.tenant_id,
        backtest_errors.sku_id,
        max(interval_widths.interval_width) as nested_interval_width,
        count(*) as window_1_periods,
        sum(backtest_errors.absolute_error) as window_1_absolute_error_total,
        sum(backtest_errors.combined_qty - backtest_errors.actual_qty)
            as window_1_error_total,
        sum(abs(backtest_errors.actual_qty)) as window_1_actual_total,
        sum(
            case
                when
                    backtest_errors.actual_qty
                    >= greatest(
                        backtest_errors.combined_qty
                        - interval_widths.interval_width,
                        0
                    )
                    and backtest_errors.actual_qty
                    <= backtest_errors.combined_qty
                    + interval_widths.interval_width
                    then 1
                else 0
            end
        ) as window_1_covered_periods
    from backtest_errors
    inner join interval_widths
        on
            backtest_errors.tenant_id = interval_widths.tenant_id
            and backtest_errors.sku_id = interval_widths.sku_id
            and backtest_errors.combination = interval_widths.combination
    where
        backtest_errors.combination = 'nested'
        and backtest_errors.window_index = 1
    group by backtest_errors.tenant_id, backtest_errors.sku_id
),

final as (
    select
        combination_totals.tenant_id,
        combination_totals.sku_id,
        series_classified.window_count,
        interval_widths.interval_width,
        combination_totals.holdout_periods,
        combination_totals.absolute_error_total,
        combination_totals.error_total,
        combination_totals.actual_total,
        combination_totals.absolute_error_total
        / nullif(combination_totals.actual_total, 0) as wape,
        combination_totals.absolute_error_total
        / combination_totals.holdout_periods as mae,
        combination_totals.error_total
        / nullif(combination_totals.actual_total, 0) as bias,
        nested_totals.nested_interval_width,
        nested_totals.window_1_periods,
        nested_totals.window_1_absolute_error_total,
        nested_totals.window_1_error_total,
        nested_totals.window_1_actual_total,
        nested_totals.window_1_absolute_error_total
        / nullif(nested_totals.window_1_actual_total, 0) as window_1_wape,
        nested_totals.window_1_absolute_error_total
        / nested_totals.window_1_periods as window_1_mae,
        nested_totals.window_1_error_total
        / nullif(nested_totals.window_1_actual_total, 0) as window_1_bias,
        nested_totals.window_1_covered_periods,
        cast(nested_totals.window_1_covered_periods as {{ type_double() }})
        / nested_totals.window_1_periods as window_1_coverage
    from combination_totals
    inner join series_classified
        on
            combination_totals.tenant_id = series_classified.tenant_id
            and combination_totals.sku_id = series_classified.sku_id
    inner join interval_widths
        on
            combination_totals.tenant_id = interval_widths.tenant_id
            and combination_totals.sku_id = interval_widths.sku_id
            and interval_widths.combination = 'top3_median'
    left join nested_totals
        on
            combination_totals.tenant_id = nested_totals.tenant_id
            and combination_totals.sku_id = nested_totals.sku_id
)

select * from final
