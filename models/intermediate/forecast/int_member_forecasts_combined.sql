{#-
    The median of three forecasts at every step of a fit:

    - 'top3_median': the members' forecasts, in the final fit (the draft)
      and in every backtest window (what the interval is built from);
    - 'nested': the nested members' forecasts in the backtest windows, for
      series with at least two windows (window 1 is scored, windows 2..k
      build the nested interval).

    actual_qty is the held-out y of a backtest step, null in the final fit.

    A combination has at most three members, so its median is picked out of
    the members' forecasts by their rank (the middle one of three; the mean
    of the two, as lo + (hi - lo) * 0.5, of two) with plain aggregates: a
    median() aggregate keeps a list of values per group, and over every
    step of every fit those lists were most of the build's memory and time.
-#}

with

method_forecasts as (
    select * from {{ ref('int_method_forecasts_computed') }}
),

ranked_methods as (
    select * from {{ ref('int_forecast_methods_ranked') }}
),

series as (
    select * from {{ ref('int_series_trimmed') }}
),

combination_members as (
    select
        tenant_id,
        sku_id,
        method,
        'top3_median' as combination,
        method_rank as member_rank
    from ranked_methods
    where is_member
    union all
    select
        tenant_id,
        sku_id,
        method,
        'nested' as combination,
        nested_rank as member_rank
    from ranked_methods
    where is_nested_member
),

member_forecasts as (
    select
        method_forecasts.tenant_id,
        method_forecasts.sku_id,
        combination_members.combination,
        combination_members.member_rank,
        method_forecasts.window_index,
        method_forecasts.fit_periods,
        method_forecasts.step,
        method_forecasts.forecast_qty
    from method_forecasts
    inner join combination_members
        on
            method_forecasts.tenant_id = combination_members.tenant_id
            and method_forecasts.sku_id = combination_members.sku_id
            and method_forecasts.method = combination_members.method
    where
        combination_members.combination = 'top3_median'
        or method_forecasts.window_index >= 1
),

member_summaries as (
    select
        tenant_id,
        sku_id,
        combination,
        window_index,
        fit_periods,
        step,
        count(*) as member_count,
        min(forecast_qty) as lowest_qty,
        max(forecast_qty) as highest_qty,
        max(case when member_rank = 1 then forecast_qty end) as first_qty,
        max(case when member_rank = 2 then forecast_qty end) as second_qty,
        max(case when member_rank = 3 then forecast_qty end) as third_qty
    from member_forecasts
    group by
        tenant_id,
        sku_id,
        combination,
        window_index,
        fit_periods,
        step
),

combined as (
    select
        *,
        case
            when member_count < 3
                then lowest_qty + (highest_qty - lowest_qty) * 0.5
            when
                (second_qty <= first_qty and first_qty <= third_qty)
                or (third_qty <= first_qty and first_qty <= second_qty)
                then first_qty
            when
                (first_qty <= second_qty and second_qty <= third_qty)
                or (third_qty <= second_qty and second_qty <= first_qty)
                then second_qty
            else third_qty
        end as combined_qty
    from member_summaries
),

final as (
    select
        combined.tenant_id,
        combined.sku_id,
        combined.combination,
        combined.window_index,
        combined.step,
        combined.member_count,
        cast(combined.combined_qty as {{ type_double() }}) as combined_qty,
        cast(series.units_sold as {{ type_double() }}) as actual_qty
    from combined
    left join series
        on
            combined.tenant_id = series.tenant_id
            and combined.sku_id = series.sku_id
            and combined.window_index >= 1
            and combined.fit_periods + combined.step = series.period_index
)

select * from final
