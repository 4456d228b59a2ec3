{#- When this dbt invocation started (UTC), the same in every model. -#}
{% macro build_started_at() -%}
    cast(
        '{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}'
        as {{ dbt.type_timestamp() }}
    )
{%- endmacro %}
