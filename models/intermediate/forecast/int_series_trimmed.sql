{#-
    The part of each forecastable series that a fit or a backtest reads,
    whatever the length of its history. Every fit ends at n >= n_k =
    N - k*b (the fit of the earliest backtest window, k the series' window
    count) and reads back from its end only:

    - periods: max(w, m * seasons, and the SES term counts of alpha and
      alpha_p) of them (the 1e-12 rule, macros/forecast/smoothing.sql);
    - non-zero demands: the SES term counts of alpha_croston and alpha_d,
      each with the interval from the demand before it.

    The held-out periods of the backtests lie after n_k. A series without
    a backtest window (short_history_mean) is read whole. So the series
    keeps the periods from n_k - (period reach) + 1 to N and the demands
    from the one before J_k - (demand reach) + 1 on, J_k being the
    demand_count at n_k. demand_interval (p_j, the periods since the demand
    before) is set on every demand a fit may read, null elsewhere.
-#}

with

series as (
    select * from {{ ref('int_series_zero_filled') }}
),

series_classified as (
    select * from {{ ref('int_series_classified') }}
),

series_reach as (
    select
        tenant_id,
        sku_id,
        has_backtest,
        period_count - window_count * backtest_periods as shortest_fit_periods,
        greatest(
            window_length,
            season_length * seasons,
            {{ ses_term_count('ses_alpha') }},
            {{ ses_term_count('tsb_probability_alpha') }}
        ) as period_reach,
        greatest(
            {{ ses_term_count('croston_alpha') }},
            {{ ses_term_count('tsb_demand_alpha') }}
        ) as demand_reach
    from series_classified
    where is_forecastable
),

series_bounds as (
    select
        series_reach.tenant_id,
        series_reach.sku_id,
        case
            when series_reach.has_backtest
                then
                    series_reach.shortest_fit_periods
                    - series_reach.period_reach + 1
            else 1
        end as first_period_index,
        -- The demand before the first one read: its period gives the
        -- first one's interval.
        case
            when series_reach.has_backtest
                then series_end.demand_count - series_reach.demand_reach
            else 0
        end as first_demand_count
    -- From the table, not from the CTE: DuckDB copies a CTE read twice whole.
    from series_reach
    inner join {{ ref('int_series_zero_filled') }} as series_end
        on
            series_reach.tenant_id = series_end.tenant_id
            and series_reach.sku_id = series_end.sku_id
            and series_reach.shortest_fit_periods = series_end.period_index
),

series_kept as (
    select
        series.tenant_id,
        series.sku_id,
        series.period_start,
        series.period_index,
        series.units_sold,
        series.demand_count,
        series_bounds.first_demand_count
    from series
    inner join series_bounds
        on
            series.tenant_id = series_bounds.tenant_id
            and series.sku_id = series_bounds.sku_id
    where
        series.period_index >= series_bounds.first_period_index
        or (
            series.units_sold > 0
            and series.demand_count >= series_bounds.first_demand_count
        )
),

-- A demand's interval is the periods since the kept demand before it: a
-- window over the kept rows, not a join of them with their own demands
-- (two inputs the size of the series).
final as (
    select
        tenant_id,
        sku_id,
        period_start,
        period_index,
        units_sold,
        demand_count,
        -- Only on a demand whose demand before is kept too.
        case
            when units_sold > 0 and demand_count > first_demand_count
                then period_index - coalesce(
                        max(case when units_sold > 0 then period_index end) over (
                            partition by tenant_id, sku_id
                            order by period_index
                            rows between unbounded preceding and 1 preceding
                        ),
                        0
                    )
        end as demand_interval
    from series_kept
)

select * from final
