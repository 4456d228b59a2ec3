with

sku_attributes as (
    select * from {{ ref('stg_client__sku_attributes') }}
),

sku_attributes_deduplicated as (
    {{ keep_latest_version(
        'sku_attributes', ['tenant_id', 'sku_id', 'attribute_name']
    ) }}
),

final as (
    select
        tenant_id,
        sku_id,
        attribute_name,
        attribute_value,
        updated_at,
        source_file,
        source_file_seq,
        source_line
    from sku_attributes_deduplicated
    -- The latest version being empty means the attribute was removed.
    where not is_removal
)

select * from final
