with

backtests as (
    select * from {{ ref('int_backtests_scored') }}
),

selected_methods as (
    select * from {{ ref('int_forecast_methods_selected') }}
),

final as (
    select
        backtests.tenant_id,
        backtests.sku_id,
        backtests.method,
        cast(backtests.wape as {{ type_double() }}) as wape,
        cast(backtests.mae as {{ type_double() }}) as mae,
        cast(backtests.bias as {{ type_double() }}) as bias,
        cast(backtests.holdout_periods as integer) as holdout_periods,
        selected_methods.method is not null as is_selected,
        cast(backtests.absolute_error_total as {{ type_double() }})
            as absolute_error_total,
        cast(backtests.error_total as {{ type_double() }}) as error_total,
        cast(backtests.actual_total as {{ type_double() }}) as actual_total
    from backtests
    left join selected_methods
        on
            backtests.tenant_id = selected_methods.tenant_id
            and backtests.sku_id = selected_methods.sku_id
            and backtests.method = selected_methods.method
)

select * from final
