{#-
    The seasonal methods give a value per season phase r = (k - 1) mod m
    of the step k. In a fit of n observations y_(n - m + 1 + r - j*m) has
    age m - 1 - r + j*m, so an age's phase is m - 1 - (age mod m), and
    j = 0 is age < m:

    - seasonal_naive (n >= m): the phase's value of age < m;
    - seasonal_window_average (n >= m * seasons): the mean of the phase's
      values over ages < m * seasons.

    A fit reads its last m * seasons periods only.
-#}

with

fits as (
    select * from {{ ref('int_forecast_fits_planned') }}
),

series as (
    select * from {{ ref('int_series_trimmed') }}
),

seasonal_fits as (
    select
        *,
        least(fit_periods, season_length * seasons) as ages_read
    from fits
    where fit_periods >= season_length
),

fit_observations as (
    {{ fit_tail('seasonal_fits', 'ages_read') }}
),

seasonal_observations as (
    select
        *,
        season_length - 1 - mod(age, season_length) as season_phase
    from fit_observations
),

seasonal_profiles as (
    select
        tenant_id,
        sku_id,
        window_index,
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
        window_index,
        season_phase,
        fit_periods,
        season_length,
        seasons
),

seasonal_methods as (
    select
        tenant_id,
        sku_id,
        window_index,
        season_phase,
        'seasonal_naive' as method,
        seasonal_naive as phase_qty
    from seasonal_profiles
    union all
    select
        tenant_id,
        sku_id,
        window_index,
        season_phase,
        'seasonal_window_average' as method,
        seasonal_window_average as phase_qty
    from seasonal_profiles
    where seasonal_window_average is not null
),

final as (
    select
        tenant_id,
        sku_id,
        window_index,
        method,
        season_phase,
        phase_qty
    from seasonal_methods
)

select * from final
