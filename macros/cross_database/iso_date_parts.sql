{#- ISO 8601 parts of a date: isoyear, week (1-53), isodow (1 = Monday). -#}
{% macro iso_date_part(part, date_expression) -%}
    {{ return(adapter.dispatch('iso_date_part', 'forecast_hub')(part, date_expression)) }}
{%- endmacro %}

{% macro default__iso_date_part(part, date_expression) -%}
    extract({{ part }} from {{ date_expression }})
{%- endmacro %}

{% macro snowflake__iso_date_part(part, date_expression) -%}
    {%- set functions = {
        'isoyear': 'yearofweekiso',
        'week': 'weekiso',
        'isodow': 'dayofweekiso',
    } -%}
    {{ functions[part] }}({{ date_expression }})
{%- endmacro %}
