{#-
    Hot attributes (seed hot_attributes) become typed columns; every
    attribute, hot or not, is also kept in one semi-structured object so a
    tenant can send thousands of names without a code change.
-#}
{%- set hot_attributes = hot_attributes() %}
-- depends_on: {{ ref('hot_attributes') }}

with

sku_attributes as (
    select * from {{ ref('int_sku_attributes_deduplicated') }}
),

sku_attributes_pivoted as (
    select
        tenant_id,
        sku_id,
        {% for attribute in hot_attributes %}
            {{ try_cast_text(
                "max(case when attribute_name = '" ~ attribute.name
                ~ "' then attribute_value end)",
                attribute.data_type,
            ) }} as {{ attribute.name }},
        {% endfor %}
        {{ json_object_agg('attribute_name', 'attribute_value') }}
            as all_attributes,
        count(*) as attribute_count,
        max(updated_at) as attributes_updated_at
    from sku_attributes
    group by tenant_id, sku_id
),

final as (
    select
        tenant_id,
        sku_id,
        {% for attribute in hot_attributes %}
            {{ attribute.name }},
        {% endfor %}
        all_attributes,
        attribute_count,
        attributes_updated_at
    from sku_attributes_pivoted
)

select * from final
