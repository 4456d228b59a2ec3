with

promotions as (
    select * from {{ ref('int_promotions_deduplicated') }}
),

tenants as (
    select * from {{ ref('int_tenants_configured') }}
),

promotions_with_length as (
    select
        tenant_id,
        promotion_id,
        sku_id,
        is_all_locations,
        start_date,
        discount_percent,
        {{ days_between('start_date', 'end_date') }} as last_day_offset
    from promotions
),

promotion_days as (
    {{ explode_integer_range(
        'promotions_with_length', '0', 'last_day_offset', 'day_offset'
    ) }}
),

promotion_periods as (
    select distinct
        promotion_days.tenant_id,
        promotion_days.promotion_id,
        promotion_days.sku_id,
        promotion_days.is_all_locations,
        promotion_days.discount_percent,
        {{ period_start(
            'tenants.grain',
            add_days('promotion_days.start_date', 'promotion_days.day_offset'),
        ) }} as period_start
    from promotion_days
    inner join tenants
        on promotion_days.tenant_id = tenants.tenant_id
),

final as (
    select
        tenant_id,
        sku_id,
        period_start,
        count(*) as promotion_count,
        max(discount_percent) as max_discount_percent,
        max(case when is_all_locations then 1 else 0 end) = 1
            as has_all_locations_promotion
    from promotion_periods
    group by tenant_id, sku_id, period_start
)

select * from final
