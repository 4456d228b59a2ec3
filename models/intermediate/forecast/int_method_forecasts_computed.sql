{#-
    Every eligible method's forecast for every step of every fit: the
    level methods (int_level_forecasts_computed and the intermittent ones)
    repeat their level, the seasonal ones take the value of the step's
    phase (k - 1) mod m. Forecasts are never negative.
-#}

with

fits as (
    select * from {{ ref('int_forecast_fits_planned') }}
),

level_forecasts as (
    select * from {{ ref('int_level_forecasts_computed') }}
),

intermittent_forecasts as (
    select * from {{ ref('int_intermittent_forecasts_computed') }}
),

seasonal_forecasts as (
    select * from {{ ref('int_seasonal_forecasts_computed') }}
),

levels as (
    select * from level_forecasts
    union all
    select * from intermittent_forecasts
),

fit_steps as (
    {{ explode_integer_range('fits', '1', 'step_count', 'step') }}
),

level_steps as (
    select
        fit_steps.tenant_id,
        fit_steps.sku_id,
        fit_steps.window_index,
        fit_steps.fit_kind,
        fit_steps.fit_periods,
        levels.method,
        fit_steps.step,
        levels.level_qty as forecast_qty
    from fit_steps
    inner join levels
        on
            fit_steps.tenant_id = levels.tenant_id
            and fit_steps.sku_id = levels.sku_id
            and fit_steps.window_index = levels.window_index
),

seasonal_steps as (
    select
        fit_steps.tenant_id,
        fit_steps.sku_id,
        fit_steps.window_index,
        fit_steps.fit_kind,
        fit_steps.fit_periods,
        seasonal_forecasts.method,
        fit_steps.step,
        seasonal_forecasts.phase_qty as forecast_qty
    from fit_steps
    inner join seasonal_forecasts
        on
            fit_steps.tenant_id = seasonal_forecasts.tenant_id
            and fit_steps.sku_id = seasonal_forecasts.sku_id
            and fit_steps.window_index = seasonal_forecasts.window_index
            and mod(fit_steps.step - 1, fit_steps.season_length)
            = seasonal_forecasts.season_phase
),

forecasts as (
    select * from level_steps
    union all
    select * from seasonal_steps
),

final as (
    select
        tenant_id,
        sku_id,
        window_index,
        fit_kind,
        fit_periods,
        method,
        step,
        greatest(forecast_qty, 0) as forecast_qty
    from forecasts
)

select * from final
