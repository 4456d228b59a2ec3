{%- set hot_attributes = hot_attributes() %}
-- depends_on: {{ ref('hot_attributes') }}

with

skus as (
    select * from {{ ref('int_skus_deduplicated') }}
),

sku_attributes as (
    select * from {{ ref('int_sku_attributes_pivoted') }}
),

final as (
    select
        skus.tenant_id,
        skus.sku_id,
        skus.sku_name,
        skus.category,
        skus.subcategory,
        skus.brand,
        skus.unit_of_measure,
        skus.pack_size,
        skus.is_active,
        skus.launched_date,
        skus.discontinued_date,
        {% for attribute in hot_attributes %}
            sku_attributes.{{ attribute.name }},
        {% endfor %}
        sku_attributes.all_attributes,
        coalesce(sku_attributes.attribute_count, 0) as attribute_count,
        skus.updated_at
    from skus
    left join sku_attributes
        on
            skus.tenant_id = sku_attributes.tenant_id
            and skus.sku_id = sku_attributes.sku_id
)

select * from final
