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

series_lengths as (
    select
        tenant_id,
        sku_id,
        min(period_start) as first_period_start,
        count(*) as period_count
    from series
    group by tenant_id, sku_id
),

series_with_settings as (
    select
        series_lengths.tenant_id,
        series_lengths.sku_id,
        series_lengths.first_period_start,
        series_lengths.period_count,
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
    from series_lengths
    inner join tenants
        on series_lengths.tenant_id = tenants.tenant_id
    left join skus
        on
            series_lengths.tenant_id = skus.tenant_id
            and series_lengths.sku_id = skus.sku_id
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
