{#-
    Incremental runs on the emulator target, and only there.

    An incremental run first writes the new rows to a temporary table
    (`create temporary table forecast_hub.gold.fct_sales__dbt_tmp`). The
    emulator keeps temporary tables in a catalog of their own: it rejects the
    qualified name, and an unqualified one is created but missing from its
    information schema, so dbt's `describe table` of it finds no columns and
    the run fails as a schema change. On the emulator that table is therefore
    an ordinary one in the model's schema, which the incremental
    materialization drops when it is done. Every other target, a real
    account included, renders dbt-snowflake's own macro unchanged.
-#}
{% macro snowflake__create_table_as(temporary, relation, compiled_code, language='sql') -%}
    {%- set temporary = temporary and not (target.name == 'emulator' and language == 'sql') -%}
    {{ dbt.snowflake__create_table_as(temporary, relation, compiled_code, language) }}
{%- endmacro %}
