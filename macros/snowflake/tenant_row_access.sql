{#-
    The post-hook of serving.v_forecast on a Snowflake account: attach the
    row access policy of snowflake/row_access.sql (applied before the
    build) to the view dbt has just replaced, which dropped it. Everywhere
    else nothing: the emulator has no policies, and DuckDB and PostgreSQL
    serve one process's users.
-#}

{% macro tenant_row_access() -%}
    {{ return(adapter.dispatch('tenant_row_access')()) }}
{%- endmacro %}

{% macro default__tenant_row_access() -%}
{%- endmacro %}

{% macro snowflake__tenant_row_access() -%}
    {%- if not on_emulator() -%}
        alter view {{ this }} add row access policy security.tenant_rows
        on (tenant_id)
    {%- endif -%}
{%- endmacro %}
