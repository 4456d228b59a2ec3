with

source as (
    select * from {{ source('client', 'promotions') }}
),

renamed as (
    select
        tenant_id,
        promo_id as promotion_id,
        sku_code as sku_id,
        location_code as location_id,
        -- An empty location means the promotion runs at every location.
        location_code is null as is_all_locations,
        start_date,
        end_date,
        promo_type as promotion_type,
        discount_pct as discount_percent,
        {{ to_utc_timestamp("updated_at") }} as updated_at,
        {{ lineage_columns() }}
    from source
)

select * from renamed
