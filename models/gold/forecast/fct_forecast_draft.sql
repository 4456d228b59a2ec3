with

selected_methods as (
    select * from {{ ref('int_forecast_methods_selected') }}
),

method_forecasts as (
    select * from {{ ref('int_method_forecasts_computed') }}
),

tenants as (
    select * from {{ ref('int_tenants_configured') }}
),

-- The selected method refit on the whole series (the 'final' fit).
selected_forecasts as (
    select
        method_forecasts.tenant_id,
        method_forecasts.sku_id,
        method_forecasts.step,
        method_forecasts.forecast_qty,
        method_forecasts.method
    from method_forecasts
    inner join selected_methods
        on
            method_forecasts.tenant_id = selected_methods.tenant_id
            and method_forecasts.sku_id = selected_methods.sku_id
            and method_forecasts.method = selected_methods.method
    where method_forecasts.fit_kind = 'final'
),

final as (
    select
        selected_forecasts.tenant_id,
        selected_forecasts.sku_id,
        {{ add_periods(
            'tenants.grain',
            'tenants.history_end_period_start',
            'selected_forecasts.step',
        ) }} as forecast_date,
        cast(selected_forecasts.step as integer) as step,
        cast(selected_forecasts.forecast_qty as {{ type_double() }})
            as draft_qty,
        selected_forecasts.method,
        {{ build_started_at() }} as built_at
    from selected_forecasts
    inner join tenants
        on selected_forecasts.tenant_id = tenants.tenant_id
)

select * from final
