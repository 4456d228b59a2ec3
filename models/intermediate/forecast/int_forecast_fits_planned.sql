{#-
    The fits of every forecastable series: the final fit on all N periods
    (window_index 0, h steps) and, for each backtest window i = 1..k of the
    series, a fit on y_1 .. y_(N - i*b) that forecasts the b held-out
    periods. A fit's demand_count is the number of non-zero y_t it holds.
    The SES term counts say how far back a fit must read at all (see
    macros/forecast/smoothing.sql).
-#}

with

series_classified as (
    select * from {{ ref('int_series_classified') }}
),

series as (
    select * from {{ ref('int_series_trimmed') }}
),

forecastable_series as (
    select *
    from series_classified
    where is_forecastable
),

series_windows as (
    {{ explode_integer_range(
        'forecastable_series', '1', 'window_count', 'window_index'
    ) }}
),

fits as (
    select
        tenant_id,
        sku_id,
        0 as window_index,
        period_count as fit_periods,
        horizon_periods as step_count
    from forecastable_series

    union all

    select
        tenant_id,
        sku_id,
        window_index,
        period_count - window_index * backtest_periods as fit_periods,
        backtest_periods as step_count
    from series_windows
),

fits_with_settings as (
    select
        fits.tenant_id,
        fits.sku_id,
        fits.window_index,
        fits.fit_periods,
        fits.step_count,
        series.demand_count,
        forecastable_series.window_count,
        forecastable_series.has_backtest,
        forecastable_series.season_length,
        forecastable_series.window_length,
        forecastable_series.seasons,
        forecastable_series.ses_alpha,
        forecastable_series.croston_alpha,
        forecastable_series.tsb_demand_alpha,
        forecastable_series.tsb_probability_alpha
    from fits
    inner join forecastable_series
        on
            fits.tenant_id = forecastable_series.tenant_id
            and fits.sku_id = forecastable_series.sku_id
    inner join series
        on
            fits.tenant_id = series.tenant_id
            and fits.sku_id = series.sku_id
            and fits.fit_periods = series.period_index
),

final as (
    select
        tenant_id,
        sku_id,
        window_index,
        case when window_index = 0 then 'final' else 'backtest' end
            as fit_kind,
        fit_periods,
        step_count,
        demand_count,
        window_count,
        has_backtest,
        season_length,
        window_length,
        seasons,
        ses_alpha,
        croston_alpha,
        tsb_demand_alpha,
        tsb_probability_alpha,
        {{ ses_term_count('ses_alpha') }} as ses_terms,
        {{ ses_term_count('croston_alpha') }} as croston_terms,
        {{ ses_term_count('tsb_demand_alpha') }} as tsb_demand_terms,
        {{ ses_term_count('tsb_probability_alpha') }}
            as tsb_probability_terms
    from fits_with_settings
)

select * from final
