{#- One object of key -> value over the rows of a group. -#}
{% macro json_object_agg(key_expression, value_expression) -%}
    {{ return(adapter.dispatch('json_object_agg', 'forecast_hub')(key_expression, value_expression)) }}
{%- endmacro %}

{% macro default__json_object_agg(key_expression, value_expression) -%}
    json_object_agg({{ key_expression }}, {{ value_expression }})
{%- endmacro %}

{% macro duckdb__json_object_agg(key_expression, value_expression) -%}
    json_group_object({{ key_expression }}, {{ value_expression }})
{%- endmacro %}

{% macro snowflake__json_object_agg(key_expression, value_expression) -%}
    object_agg({{ key_expression }}, to_variant({{ value_expression }}))
{%- endmacro %}


{#- The column type of such an object, for contracts and casts. -#}
{% macro json_type() -%}
    {{ return(adapter.dispatch('json_type', 'forecast_hub')()) }}
{%- endmacro %}

{% macro default__json_type() -%}json{%- endmacro %}

{% macro snowflake__json_type() -%}object{%- endmacro %}
