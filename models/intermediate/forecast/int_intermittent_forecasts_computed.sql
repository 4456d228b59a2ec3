{#-
    The intermittent-demand methods, one level per fit. z_1..z_J are the
    fit's non-zero y_t in order (J = demand_count), t_j the period of z_j
    and p_j = t_j - t_(j-1) with t_0 = 0; d_t = 1 where y_t > 0, else 0.

    - croston_classic: SES_croston_alpha(z) / SES_croston_alpha(p);
    - croston_sba: 0.95 * croston_classic;
    - tsb: SES_tsb_probability_alpha(d_1..d_n) * SES_tsb_demand_alpha(z).

    A fit without a non-zero y forecasts 0 with all three. Each SES is the
    closed form of macros/forecast/smoothing.sql over its most recent terms:
    the demand ages j' = J - j for z and p, the period ages n - t for d. A
    fit reads those demands and periods only.
-#}

with

fits as (
    select * from {{ ref('int_forecast_fits_planned') }}
),

series as (
    select * from {{ ref('int_series_trimmed') }}
),

-- The demands a fit may read, with their intervals (int_series_trimmed).
-- From the table, not from the CTE: DuckDB copies a CTE read twice whole.
demands as (
    select
        tenant_id,
        sku_id,
        demand_count as demand_index,
        cast(units_sold as {{ type_double() }}) as demand_qty,
        demand_interval
    from {{ ref('int_series_trimmed') }}
    where demand_interval is not null
),

fits_with_reach as (
    select
        *,
        least(demand_count, greatest(croston_terms, tsb_demand_terms))
            as demands_read,
        least(fit_periods, tsb_probability_terms) as ages_read
    from fits
),

-- A range join, as in fit_tail: the fits are the side the join holds.
fit_demands as (
    select
        fits_with_reach.tenant_id,
        fits_with_reach.sku_id,
        fits_with_reach.window_index,
        fits_with_reach.demand_count,
        fits_with_reach.croston_alpha,
        fits_with_reach.croston_terms,
        fits_with_reach.tsb_demand_alpha,
        fits_with_reach.tsb_demand_terms,
        cast(
            fits_with_reach.demand_count - demands.demand_index as bigint
        ) as demand_age,
        demands.demand_qty,
        cast(demands.demand_interval as {{ type_double() }})
            as demand_interval
    from fits_with_reach
    inner join demands
        on
            fits_with_reach.tenant_id = demands.tenant_id
            and fits_with_reach.sku_id = demands.sku_id
            and fits_with_reach.demand_count >= demands.demand_index
            and fits_with_reach.demand_count - fits_with_reach.demands_read
            < demands.demand_index
),

demand_levels as (
    select
        tenant_id,
        sku_id,
        window_index,
        sum(
            case
                when demand_age < croston_terms
                    then
                        {{ ses_weight(
                            'croston_alpha', 'demand_age', 'demand_count'
                        ) }}
                        * demand_qty
            end
        ) as croston_demand_level,
        sum(
            case
                when demand_age < croston_terms
                    then
                        {{ ses_weight(
                            'croston_alpha', 'demand_age', 'demand_count'
                        ) }}
                        * demand_interval
            end
        ) as croston_interval_level,
        sum(
            case
                when demand_age < tsb_demand_terms
                    then
                        {{ ses_weight(
                            'tsb_demand_alpha', 'demand_age', 'demand_count'
                        ) }}
                        * demand_qty
            end
        ) as tsb_demand_level
    from fit_demands
    group by tenant_id, sku_id, window_index
),

fit_observations as (
    {{ fit_tail('fits_with_reach', 'ages_read') }}
),

-- SES of d: only the periods with a demand add to it.
occurrence_levels as (
    select
        tenant_id,
        sku_id,
        window_index,
        sum(
            {{ ses_weight('tsb_probability_alpha', 'age', 'fit_periods') }}
        ) as occurrence_level
    from fit_observations
    where units_sold > 0
    group by tenant_id, sku_id, window_index
),

fit_levels as (
    select
        fits.tenant_id,
        fits.sku_id,
        fits.window_index,
        case
            when fits.demand_count > 0
                then
                    demand_levels.croston_demand_level
                    / demand_levels.croston_interval_level
            else 0
        end as croston_classic,
        case
            when fits.demand_count > 0
                -- No demand among the periods read: what is left out
                -- weighs less than 1e-12.
                then
                    coalesce(occurrence_levels.occurrence_level, 0)
                    * demand_levels.tsb_demand_level
            else 0
        end as tsb
    from fits
    left join demand_levels
        on
            fits.tenant_id = demand_levels.tenant_id
            and fits.sku_id = demand_levels.sku_id
            and fits.window_index = demand_levels.window_index
    left join occurrence_levels
        on
            fits.tenant_id = occurrence_levels.tenant_id
            and fits.sku_id = occurrence_levels.sku_id
            and fits.window_index = occurrence_levels.window_index
),

intermittent_methods as (
    select
        tenant_id,
        sku_id,
        window_index,
        'croston_classic' as method,
        croston_classic as level_qty
    from fit_levels
    union all
    select
        tenant_id,
        sku_id,
        window_index,
        'croston_sba' as method,
        0.95 * croston_classic as level_qty
    from fit_levels
    union all
    select
        tenant_id,
        sku_id,
        window_index,
        'tsb' as method,
        tsb as level_qty
    from fit_levels
)

select
    tenant_id,
    sku_id,
    window_index,
    method,
    cast(level_qty as {{ type_double() }}) as level_qty
from intermittent_methods
