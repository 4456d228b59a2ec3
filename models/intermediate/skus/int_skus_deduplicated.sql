with

skus as (
    select * from {{ ref('stg_client__skus') }}
),

skus_deduplicated as (
    {{ keep_latest_version('skus', ['tenant_id', 'sku_id']) }}
),

final as (
    select
        tenant_id,
        sku_id,
        sku_name,
        category,
        subcategory,
        brand,
        unit_of_measure,
        pack_size,
        is_active,
        launched_date,
        discontinued_date,
        updated_at,
        source_file,
        source_file_seq,
        source_line
    from skus_deduplicated
)

select * from final
