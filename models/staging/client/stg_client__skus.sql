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
