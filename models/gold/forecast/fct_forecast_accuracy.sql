{#-
    One row per backtested series and method that took part, plus one row
    per series for top3_median, the draft's method (is_selected). A
    method's scores pool every window; its window_1 scores are window 1
    alone. top3_median's scores over every window are those of the
    members' median, on the very points the members were ranked on; its
    window_1 scores are the honest ones, of the nested members' median,
    with the coverage of the nested interval (null with a single window).
-#}

with

ranked_methods as (
    select * from {{ ref('int_forecast_methods_ranked') }}
),

combined_scores as (
    select * from {{ ref('int_combined_forecasts_scored') }}
),

method_rows as (
    select
        tenant_id,
        sku_id,
        method,
        wape,
        mae,
        bias,
        window_1_wape,
        window_1_mae,
        window_1_bias,
        window_count,
        holdout_periods,
        window_1_periods,
        method_rank,
        nested_rank,
        is_member,
        is_nested_member,
        false as is_selected,
        cast(null as {{ type_double() }}) as window_1_coverage,
        cast(null as integer) as window_1_covered_periods,
        absolute_error_total,
        error_total,
        actual_total,
        window_1_absolute_error_total,
        window_1_error_total,
        window_1_actual_total
    from ranked_methods
),

combination_rows as (
    select
        tenant_id,
        sku_id,
        'top3_median' as method,
        wape,
        mae,
        bias,
        window_1_wape,
        window_1_mae,
        window_1_bias,
        window_count,
        holdout_periods,
        window_1_periods,
        cast(null as integer) as method_rank,
        cast(null as integer) as nested_rank,
        false as is_member,
        false as is_nested_member,
        true as is_selected,
        window_1_coverage,
        window_1_covered_periods,
        absolute_error_total,
        error_total,
        actual_total,
        window_1_absolute_error_total,
        window_1_error_total,
        window_1_actual_total
    from combined_scores
),

accuracy as (
    select * from method_rows
    union all
    select * from combination_rows
),

final as (
    select
        tenant_id,
        sku_id,
        method,
        cast(wape as {{ type_double() }}) as wape,
        cast(mae as {{ type_double() }}) as mae,
        cast(bias as {{ type_double() }}) as bias,
        cast(window_1_wape as {{ type_double() }}) as window_1_wape,
        cast(window_1_mae as {{ type_double() }}) as window_1_mae,
        cast(window_1_bias as {{ type_double() }}) as window_1_bias,
        cast(window_count as integer) as window_count,
        cast(holdout_periods as integer) as holdout_periods,
        cast(window_1_periods as integer) as window_1_periods,
        cast(method_rank as integer) as method_rank,
        cast(nested_rank as integer) as nested_rank,
        is_member,
        is_nested_member,
        is_selected,
        cast(window_1_coverage as {{ type_double() }}) as window_1_coverage,
        cast(window_1_covered_periods as integer) as window_1_covered_periods,
        cast(absolute_error_total as {{ type_double() }})
            as absolute_error_total,
        cast(error_total as {{ type_double() }}) as error_total,
        cast(actual_total as {{ type_double() }}) as actual_total,
        cast(window_1_absolute_error_total as {{ type_double() }})
            as window_1_absolute_error_total,
        cast(window_1_error_total as {{ type_double() }})
            as window_1_error_total,
        cast(window_1_actual_total as {{ type_double() }})
            as window_1_actual_total
    from accuracy
)

select * from final
