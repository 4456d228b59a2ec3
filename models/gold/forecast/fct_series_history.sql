{#-
    The actual demand the draft was fitted on, for the planning page's
    chart: every period of every series from its first sale to T, at the
    tenant's grain, periods without sales as 0.
-#}

with

series_zero_filled as (
    select * from {{ ref('int_series_zero_filled') }}
),

final as (
    select
        tenant_id,
        sku_id,
        period_start as period_date,
        cast(period_index as integer) as period_index,
        cast(units_sold as {{ type_double() }}) as qty
    from series_zero_filled
)

select * from final
