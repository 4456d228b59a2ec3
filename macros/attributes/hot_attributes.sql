{#-
    The hot SKU attributes (seed hot_attributes) that become typed columns
    of dim_sku, as a list of {name, data_type}. Read when a model runs;
    while dbt parses the project it returns an empty list.
-#}
{% macro hot_attributes() -%}
    {%- set attributes = [] -%}
    {%- if execute -%}
        {%- set query -%}
            select attribute_name, data_type
            from {{ ref('hot_attributes') }}
            order by attribute_name
        {%- endset -%}
        {%- for row in run_query(query).rows -%}
            {%- do attributes.append({
                'name': row[0] | lower | trim,
                'data_type': row[1] | lower | trim,
            }) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(attributes) }}
{%- endmacro %}
