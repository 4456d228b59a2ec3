with

source as (
    select * from {{ source('client', 'sku_attributes') }}
),

renamed as (
    select
        tenant_id,
        sku_code as sku_id,
        -- Attribute names are case-insensitive (client-feeds.md).
        lower(attribute_name) as attribute_name,
        attribute_value,
        -- An empty value removes the attribute from the SKU.
        attribute_value is null as is_removal,
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
