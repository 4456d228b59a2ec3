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
        {{ lineage_columns() }}
    from source
)

select * from renamed
