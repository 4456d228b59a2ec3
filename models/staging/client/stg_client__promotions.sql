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
        extra_columns,
        extra_columns is not null as has_extra_columns,
        source_file,
        source_file_seq,
        source_line,
        file_sha256,
        {{ to_utc_timestamp("ingested_at") }} as ingested_at,
        silver_file,
        {{ to_utc_timestamp("loaded_at") }} as loaded_at
    from source
)

select * from renamed
