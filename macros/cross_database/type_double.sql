{#- A 64-bit float. (dbt.type_float() is a 32-bit float on DuckDB.) -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'forecast_hub')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double precision{%- endmacro %}

{% macro duckdb__type_double() -%}double{%- endmacro %}

{% macro snowflake__type_double() -%}float{%- endmacro %}
