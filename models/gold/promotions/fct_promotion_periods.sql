with

promotion_periods as (
    select * from {{ ref('int_promotions_expanded_to_periods') }}
),

final as (
    select
        tenant_id,
        sku_id,
        period_start,
        cast(promotion_count as integer) as promotion_count,
        max_discount_percent,
        has_all_locations_promotion
    from promotion_periods
)

select * from final
