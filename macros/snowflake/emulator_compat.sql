{#-
    Where the emulator target differs from Snowflake, and only there. Every
    other target, a real account included, renders dbt-snowflake's own
    macros unchanged.
-#}

{% macro on_emulator() -%}
    {{ return(target.name == 'emulator') }}
{%- endmacro %}


{#-
    Incremental runs. An incremental run first writes the new rows to a
    temporary table (`create temporary table forecast_hub.gold.fct_sales__dbt_tmp`).
    The emulator keeps temporary tables in a catalog of their own: it rejects
    the qualified name, and an unqualified one is created but missing from
    its information schema, so dbt's `describe table` of it finds no columns
    and the run fails as a schema change. On the emulator that table is
    therefore an ordinary one in the model's schema, which the incremental
    materialization drops when it is done.
-#}
{% macro snowflake__create_table_as(temporary, relation, compiled_code, language='sql') -%}
    {%- set temporary = temporary and not (on_emulator() and language == 'sql') -%}
    {{ dbt.snowflake__create_table_as(temporary, relation, compiled_code, language) }}
{%- endmacro %}


{#-
    Snapshots after the first. dbt closes changed and deleted rows and adds
    new versions with one MERGE, which the emulator cannot bind (it calls
    every column of the MERGE ambiguous). On the emulator the same change is
    an UPDATE of the rows to close and an INSERT of the new versions, in one
    transaction, as dbt-duckdb does it.
-#}
{% macro snowflake__snapshot_merge_sql(target, source, insert_cols) -%}
    {%- if not on_emulator() -%}
        {{ return(dbt.snowflake__snapshot_merge_sql(target, source, insert_cols)) }}
    {%- endif -%}
    {%- set columns = config.get("snapshot_table_column_names") or get_snapshot_table_column_names() -%}
    {%- set dml -%}
    update {{ target.render() }} as dbt_internal_dest
    set {{ columns.dbt_valid_to }} = dbt_internal_source.{{ columns.dbt_valid_to }}
    from {{ source }} as dbt_internal_source
    where dbt_internal_source.{{ columns.dbt_scd_id }} = dbt_internal_dest.{{ columns.dbt_scd_id }}
        and dbt_internal_source.dbt_change_type in ('update', 'delete')
        {% if config.get("dbt_valid_to_current") -%}
        and (
            dbt_internal_dest.{{ columns.dbt_valid_to }} = {{ config.get("dbt_valid_to_current") }}
            or dbt_internal_dest.{{ columns.dbt_valid_to }} is null
        )
        {%- else -%}
        and dbt_internal_dest.{{ columns.dbt_valid_to }} is null
        {%- endif %};

    insert into {{ target.render() }} ({{ insert_cols | join(', ') }})
    select {{ insert_cols | join(', ') }}
    from {{ source }}
    where dbt_change_type = 'insert'
    {%- endset -%}
    {{ return(snowflake_dml_explicit_transaction(dml)) }}
{%- endmacro %}
