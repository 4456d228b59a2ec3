{#-
    Folders set a schema per layer (staging, intermediate, gold, seeds,
    snapshots); use it as is instead of dbt's "<target schema>_<custom>"
    so every target has the same, predictable schema names.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
