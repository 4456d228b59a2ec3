{#-
    The methods that forecast one level for every step, per fit of n
    observations (an observation's age is n - t, 0 for y_n): naive, y_n;
    window_average, the mean of ages 0 .. w - 1 when n >= w; ses in closed
    form over its ses_terms most recent ages (macros/forecast/smoothing.sql);
    short_history_mean, the mean of all N observations, for the final fit
    of a series without a backtest window.

    A fit reads only the ages it needs, max(w, ses_terms) at most, so a
    long history costs no more than a short one.
-#}

with

fits as (
    select * from {{ ref('int_forecast_fits_planned') }}
),

series as (
    select * from {{ ref('int_series_trimmed') }}
),

fits_with_reach as (
    select
        *,
        least(fit_periods, greatest(window_length, ses_terms)) as ages_read
    from fits
),

fit_observations as (
    {{ fit_tail('fits_with_reach', 'ages_read') }}
),

levels as (
    select
        tenant_id,
        sku_id,
        window_index,
        max(case when age = 0 then units_sold end) as naive,
        case
            when fit_periods >= window_length
                then
                    sum(case when age < window_length then units_sold end)
                    / window_length
        end as window_average,
        sum(
            case
                when age < ses_terms
                    then
                        {{ ses_weight('ses_alpha', 'age', 'fit_periods') }}
                        * units_sold
            end
        ) as ses
    from fit_observations
    group by
        tenant_id,
        sku_id,
        window_index,
        fit_periods,
        window_length
),

short_history_means as (
    select
        fits.tenant_id,
        fits.sku_id,
        fits.window_index,
        avg(cast(whole_series.units_sold as {{ type_double() }})) as level_qty
    -- From the table, not from the CTE: DuckDB copies a CTE read twice whole.
    from fits
    inner join {{ ref('int_series_trimmed') }} as whole_series
        on
            fits.tenant_id = whole_series.tenant_id
            and fits.sku_id = whole_series.sku_id
    where not fits.has_backtest
    group by fits.tenant_id, fits.sku_id, fits.window_index
),

level_methods as (
    select
        tenant_id,
        sku_id,
        window_index,
        'naive' as method,
        naive as level_qty
    from levels
    union all
    select
        tenant_id,
        sku_id,
        window_index,
        'window_average' as method,
        window_average as level_qty
    from levels
    where window_average is not null
    union all
    select
        tenant_id,
        sku_id,
        window_index,
        'ses' as method,
        ses as level_qty
    from levels
    union all
    select
        tenant_id,
        sku_id,
        window_index,
        'short_history_mean' as method,
        level_qty
    from short_history_means
),

final as (
    select
        tenant_id,
        sku_id,
        window_index,
        method,
        level_qty
    from level_methods
)

select * from final
