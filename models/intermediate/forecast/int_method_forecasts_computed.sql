{#-
    Every eligible method's forecast, set-based, for two fits per series:
    'backtest' fits y_1 .. y_(N-b) and forecasts b steps; 'final' fits
    y_1 .. y_N and forecasts h steps. In a fit of n observations, an
    observation's age is n - t (0 for y_n).

    - naive, window_average, ses and short_history_mean give one level
      for every step;
    - seasonal_naive and seasonal_window_average give a value per season
      phase r = (k - 1) mod m: y_(n - m + 1 + r - j*m) has age
      m - 1 - r + j*m, so its phase is m - 1 - (age mod m) and j = 0 is
      age < m.
    - ses in closed form: l_n = 0.7^(n-1) y_1 + sum_(t>=2) 0.3 * 0.7^(n-t) y_t.
      Terms older than var('ses_max_terms') periods are left out: together
      they weigh at most 0.7^200 (about 1e-31) of the level.
-#}
{%- set ses_max_terms = var('ses_max_terms') -%}

with

series_classified as (
    select * from {{ ref('int_series_classified') }}
),

series as (
    select * from {{ ref('int_series_zero_filled') }}
),

fits as (
    select
        tenant_id,
        sku_id,
        'backtest' as fit_kind,
        period_count - backtest_periods as fit_periods,
        backtest_periods as step_count,
        season_length,
        window_length,
        seasons,
        has_backtest
    from series_classified
    where is_forecastable and has_backtest

    union all

    select
        tenant_id,
        sku_id,
        'final' as fit_kind,
        period_count as fit_periods,
        horizon_periods as step_count,
        season_length,
        window_length,
        seasons,
        has_backtest
    from series_classified
    where is_forecastable
),

fit_observations as (
    select
        fits.tenant_id,
        fits.sku_id,
        fits.fit_kind,
        fits.fit_periods,
        fits.season_length,
        fits.window_length,
        fits.seasons,
        fits.has_backtest,
        series.period_index,
        fits.fit_periods - series.period_index as age,
        cast(series.units_sold as {{ type_double() }}) as units_sold
    from fits
    inner join series
        on
            fits.tenant_id = series.tenant_id
            and fits.sku_id = series.sku_id
            and fits.fit_periods >= series.period_index
),

levels as (
    select
        tenant_id,
        sku_id,
        fit_kind,
        max(case when age = 0 then units_sold end) as naive,
        case
            when fit_periods >= window_length
                then
                    sum(case when age < window_length then units_sold end)
                    / window_length
        end as window_average,
        sum(
            case
                when age < {{ ses_max_terms }} and period_index = 1
                    then units_sold * {{ power('0.7', 'age') }}
                when age < {{ ses_max_terms }}
                    then 0.3 * units_sold * {{ power('0.7', 'age') }}
            end
        ) as ses,
        case
            when fit_kind = 'final' and not has_backtest
                then avg(units_sold)
        end as short_history_mean
    from fit_observations
    group by
        tenant_id,
        sku_id,
        fit_kind,
        fit_periods,
        window_length,
        has_backtest
),

level_methods as (
    select
        tenant_id,
        sku_id,
        fit_kind,
        'naive' as method,
        naive as level_qty
    from levels
    union all
    select
        tenant_id,
        sku_id,
        fit_kind,
        'window_average' as method,
        window_average as level_qty
    from levels
    where window_average is not null
    union all
    select
        tenant_id,
        sku_id,
        fit_kind,
        'ses' as method,
        ses as level_qty
    from levels
    union all
    select
        tenant_id,
        sku_id,
        fit_kind,
        'short_history_mean' as method,
        short_history_mean as level_qty
    from levels
    where short_history_mean is not null
),

seasonal_observations as (
    select
        *,
        season_length - 1 - mod(age, season_length) as season_phase
    from fit_observations
    where
        fit_periods >= season_length
        and age < season_length * seasons
),

seasonal_profiles as (
    select
        tenant_id,
        sku_id,
        fit_kind,
        season_phase,
        max(case when age < season_length then units_sold end)
            as seasonal_naive,
        case
            when fit_periods >= season_length * seasons
                then sum(units_sold) / seasons
        end as seasonal_window_average
    from seasonal_observations
    group by
        tenant_id,
        sku_id,
        fit_kind,
        season_phase,
        fit_periods,
        season_length,
        seasons
),

seasonal_methods as (
    select
        tenant_id,
        sku_id,
        fit_kind,
        season_phase,
        'seasonal_naive' as method,
        seasonal_naive as phase_qty
    from seasonal_profiles
    union all
    select
        tenant_id,
        sku_id,
        fit_kind,
        season_phase,
        'seasonal_window_average' as method,
        seasonal_window_average as phase_qty
    from seasonal_profiles
    where seasonal_window_average is not null
),

fit_steps as (
    {{ explode_integer_range('fits', '1', 'step_count', 'step') }}
),

level_forecasts as (
    select
        fit_steps.tenant_id,
        fit_steps.sku_id,
        fit_steps.fit_kind,
        fit_steps.fit_periods,
        level_methods.method,
        fit_steps.step,
        level_methods.level_qty as forecast_qty
    from fit_steps
    inner join level_methods
        on
            fit_steps.tenant_id = level_methods.tenant_id
            and fit_steps.sku_id = level_methods.sku_id
            and fit_steps.fit_kind = level_methods.fit_kind
),

seasonal_forecasts as (
    select
        fit_steps.tenant_id,
        fit_steps.sku_id,
        fit_steps.fit_kind,
        fit_steps.fit_periods,
        seasonal_methods.method,
        fit_steps.step,
        seasonal_methods.phase_qty as forecast_qty
    from fit_steps
    inner join seasonal_methods
        on
            fit_steps.tenant_id = seasonal_methods.tenant_id
            and fit_steps.sku_id = seasonal_methods.sku_id
            and fit_steps.fit_kind = seasonal_methods.fit_kind
            and mod(fit_steps.step - 1, fit_steps.season_length)
            = seasonal_methods.season_phase
),

forecasts as (
    select * from level_forecasts
    union all
    select * from seasonal_forecasts
),

final as (
    select
        tenant_id,
        sku_id,
        fit_kind,
        fit_periods,
        method,
        step,
        -- Forecasts are never negative.
        greatest(forecast_qty, 0) as forecast_qty
    from forecasts
)

select * from final
