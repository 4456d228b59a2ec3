with

tenants as (
    select * from {{ ref('int_tenants_configured') }}
),

final as (
    select
        tenant_id,
        grain,
        is_configured,
        cast(season_length as integer) as season_length,
        cast(window_length as integer) as window_length,
        cast(seasons as integer) as seasons,
        cast(backtest_periods as integer) as backtest_periods,
        cast(horizon_periods as integer) as horizon_periods,
        first_sale_date,
        last_sale_date,
        history_end_period_start,
        history_end_date,
        first_forecast_date,
        last_forecast_date
    from tenants
)

select * from final
