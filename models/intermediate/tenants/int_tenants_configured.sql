with

sales as (
    select * from {{ ref('int_sales_deduplicated') }}
),

skus as (
    select * from {{ ref('stg_client__skus') }}
),

tenant_settings as (
    select * from {{ ref('tenant_settings') }}
),

forecast_grain_defaults as (
    select * from {{ ref('forecast_grain_defaults') }}
),

sales_by_tenant as (
    select
        tenant_id,
        min(sale_date) as first_sale_date,
        max(sale_date) as last_sale_date
    from sales
    group by tenant_id
),

tenants as (
    select tenant_id from sales_by_tenant
    union distinct
    select tenant_id from skus
    union distinct
    select tenant_id from tenant_settings
),

tenants_with_grain as (
    select
        tenants.tenant_id,
        -- Tenants not listed in the seed forecast daily (the spec default).
        coalesce(tenant_settings.grain, 'day') as grain,
        tenant_settings.tenant_id is not null as is_configured,
        tenant_settings.season_length as season_length_override,
        tenant_settings.window_length as window_length_override,
        tenant_settings.seasons as seasons_override,
        tenant_settings.backtest_periods as backtest_periods_override,
        tenant_settings.backtest_windows as backtest_windows_override,
        tenant_settings.horizon_periods as horizon_periods_override,
        tenant_settings.ses_alpha as ses_alpha_override,
        tenant_settings.croston_alpha as croston_alpha_override,
        tenant_settings.tsb_demand_alpha as tsb_demand_alpha_override,
        tenant_settings.tsb_probability_alpha
            as tsb_probability_alpha_override,
        tenant_settings.interval_level as interval_level_override
    from tenants
    left join tenant_settings
        on tenants.tenant_id = tenant_settings.tenant_id
),

tenants_with_parameters as (
    select
        tenants_with_grain.tenant_id,
        tenants_with_grain.grain,
        tenants_with_grain.is_configured,
        coalesce(
            tenants_with_grain.season_length_override,
            forecast_grain_defaults.season_length
        ) as season_length,
        coalesce(
            tenants_with_grain.window_length_override,
            forecast_grain_defaults.window_length
        ) as window_length,
        coalesce(
            tenants_with_grain.seasons_override,
            forecast_grain_defaults.seasons
        ) as seasons,
        coalesce(
            tenants_with_grain.backtest_periods_override,
            forecast_grain_defaults.backtest_periods
        ) as backtest_periods,
        coalesce(
            tenants_with_grain.backtest_windows_override,
            forecast_grain_defaults.backtest_windows
        ) as backtest_windows,
        coalesce(
            tenants_with_grain.horizon_periods_override,
            forecast_grain_defaults.horizon_periods
        ) as horizon_periods,
        coalesce(
            tenants_with_grain.ses_alpha_override,
            forecast_grain_defaults.ses_alpha
        ) as ses_alpha,
        coalesce(
            tenants_with_grain.croston_alpha_override,
            forecast_grain_defaults.croston_alpha
        ) as croston_alpha,
        coalesce(
            tenants_with_grain.tsb_demand_alpha_override,
            forecast_grain_defaults.tsb_demand_alpha
        ) as tsb_demand_alpha,
        coalesce(
            tenants_with_grain.tsb_probability_alpha_override,
            forecast_grain_defaults.tsb_probability_alpha
        ) as tsb_probability_alpha,
        coalesce(
            tenants_with_grain.interval_level_override,
            forecast_grain_defaults.interval_level
        ) as interval_level
    from tenants_with_grain
    inner join forecast_grain_defaults
        on tenants_with_grain.grain = forecast_grain_defaults.grain
),

tenants_with_last_period as (
    select
        tenants_with_parameters.*,
        sales_by_tenant.first_sale_date,
        sales_by_tenant.last_sale_date,
        {{ period_start(
            'tenants_with_parameters.grain', 'sales_by_tenant.last_sale_date'
        ) }} as last_sale_period_start
    from tenants_with_parameters
    left join sales_by_tenant
        on tenants_with_parameters.tenant_id = sales_by_tenant.tenant_id
),

tenants_with_history_end as (
    select
        *,
        -- T: the last complete period, i.e. the one holding the latest sale
        -- if that sale is on the period's last day, else the one before.
        case
            when
                last_sale_date
                = {{ period_end('grain', 'last_sale_period_start') }}
                then last_sale_period_start
            else {{ add_periods('grain', 'last_sale_period_start', '-1') }}
        end as history_end_period_start
    from tenants_with_last_period
),

final as (
    select
        tenant_id,
        grain,
        is_configured,
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
        first_sale_date,
        last_sale_date,
        history_end_period_start,
        {{ period_end('grain', 'history_end_period_start') }}
            as history_end_date,
        {{ add_periods('grain', 'history_end_period_start', '1') }}
            as first_forecast_date,
        {{ add_periods(
            'grain', 'history_end_period_start', 'horizon_periods'
        ) }} as last_forecast_date
    from tenants_with_history_end
)

select * from final
