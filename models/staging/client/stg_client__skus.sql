with

source as (
    select * from {{ source('client', 'skus') }}
),

renamed as (
    select
        tenant_id,
        sku_code as sku_id,
        sku_name,
        category,
        subcategory,
        brand,
        unit_of_measure,
        pack_size,
        -- The contract: an empty is_active means true.
        coalesce(is_active, true) as is_active,
        launched_on as launched_date,
        discontinued_on as discontinued_date,
        {{ to_utc_timestamp("updated_at") }} as updated_at,
        {{ lineage_columns() }}
    from source
)

select * from renamed
