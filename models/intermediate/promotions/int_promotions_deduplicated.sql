with

promotions as (
    select * from {{ ref('stg_client__promotions') }}
),

promotions_deduplicated as (
    {{ keep_latest_version('promotions', ['tenant_id', 'promotion_id']) }}
),

final as (
    select
        tenant_id,
        promotion_id,
        sku_id,
        location_id,
        is_all_locations,
        start_date,
        end_date,
        promotion_type,
        discount_percent,
        updated_at,
        source_file,
        source_file_seq,
        source_line
    from promotions_deduplicated
)

select * from final
