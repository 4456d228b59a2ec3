with

series as (
    select * from {{ ref('int_series_zero_filled') }}
),

tenants as (
    select * from {{ ref('int_tenants_configured') }}
),

skus as (
    select * from {{ ref('int_skus_deduplicated') }}
),

-- A series runs without a gap from its first period (period_index 1) to
-- T, so its length follows from the two; no need to count its rows.
series_starts as (
    select
        tenant_id,
        sku_id,
        period_start as first_period_start
    from series
    where period_index = 1
),

series_with_settings as (
    select
        series_starts.tenant_id,
        series_starts.sku_id,
        series_starts.first_period_start,
        {{ periods_between(
            'tenants.grain',
            'series_starts.first_period_start',
            'tenants.history_end_period_start'
        ) }} + 1 as period_count,
        tenants.grain,
        tenants.season_length,
        tenants.window_length,
        tenants.seasons,
        tenants.backtest_periods,
        tenants.backtest_windows,
        tenants.horizon_periods,
        tenants.ses_alpha,
        tenants.croston_alpha,
        tenants.tsb_demand_alpha,
        tenants.tsb_probability_alpha,
        tenants.interval_level,
        tenants.history_end_period_start,
        tenants.history_end_date,
        -- A SKU missing from the SKU feed counts as active.
        coalesce(skus.is_active, true) as is_active,
        skus.discontinued_date
    from series_starts
    inner join tenants
        on series_starts.tenant_id = tenants.tenant_id
    left join skus
        on
            series_starts.tenant_id = skus.tenant_id
            and series_starts.sku_id = skus.sku_id
),

-- Window i = 1..k holds out periods N - i*b + 1 .. N - (i - 1)*b and
-- needs one period left to fit on: a series has the first
-- min(k, floor((N - 1) / b)) windows.
series_with_windows as (
    select
        *,
        cast(
            least(
                backtest_windows, floor((period_count - 1) / backtest_periods)
            ) as integer
        ) as window_count
    from series_with_settings
),

final as (
    select
        tenant_id,
        sku_id,
        grain,
        first_period_start,
        period_count,
        season_length,
        window_length,
        seasons,
        backtest_periods,
        backtest_windows,
        horizon_periods,
        ses_alpha,
        croston_alpha,
        tsb_demand_alpha,
        tsb_probability_alpha,
        interval_level,
        history_end_period_start,
        history_end_date,
        is_active,
        discontinued_date,
        case
            when not is_active then 'inactive'
            when discontinued_date <= history_end_date then 'discontinued'
        end as excluded_reason,
        is_active
        and coalesce(discontinued_date > history_end_date, true)
            as is_forecastable,
        window_count,
        -- Without a window no method can be backtested and the series
        -- falls back to short_history_mean.
        window_count >= 1 as has_backtest
    from series_with_windows
)

select * from final
