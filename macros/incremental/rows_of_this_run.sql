{#-
    Data tests that check only what a daily build changed.

    A test configured with `where: "__rows_of_this_run__"` checks, in a
    `dbt build` that is not a --full-refresh, only the rows this build is
    about:

    - on an incremental model, the rows it wrote in this build
      (built_at = the build's start);
    - on a model whose `meta` names `rows_of_this_run_landed_after: <model>`
      (staging sales), the rows landed after that model's high-water mark:
      in a build, a node's tests run before its children, so that is what
      this build is about to take in.

    A uniqueness test (unique_combination_of_columns) checks the keys of
    those rows against every row: it reads all the rows that share a key
    with one of them, so a new row that repeats an old key fails it too.

    A --full-refresh build, `dbt test`, or a tested table that does not
    exist yet, checks every row: dbt tells a full refresh by
    flags.FULL_REFRESH at run time (a `where` written in YAML is rendered
    when the project is parsed, and partial parsing would keep a stale
    value, hence the placeholder resolved here).
-#}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where and '__rows_of_this_run__' in where -%}
        {%- set predicate = forecast_hub.rows_of_this_run(relation) -%}
        {%- if predicate is none -%}
            {%- set where = where | replace('__rows_of_this_run__', '1 = 1') -%}
        {%- else -%}
            {%- set where = where | replace(
                '__rows_of_this_run__', '(' ~ predicate ~ ')'
            ) -%}
        {%- endif -%}
        {%- if where == '1 = 1' -%}
            {% do return(relation) %}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {% do return(filtered) %}
    {%- endif -%}
    {% do return(dbt.default__get_where_subquery(relation)) %}
{%- endmacro %}


{#- The predicate of the rows this build is about, or none for all rows. -#}
{% macro rows_of_this_run(relation) -%}
    {%- if not execute or flags.FULL_REFRESH or flags.WHICH != 'build' -%}
        {% do return(none) %}
    {%- endif -%}
    {%- if load_relation(relation) is none -%}
        {% do return(none) %}
    {%- endif -%}
    {%- set tested = forecast_hub.model_node_of(relation) -%}
    {%- set landed_after = (tested.config.meta or {}).get(
        'rows_of_this_run_landed_after'
    ) if tested else none -%}
    {%- if landed_after -%}
        {%- set mark_node = graph.nodes['model.forecast_hub.' ~ landed_after] -%}
        {%- set mark_relation = load_relation(api.Relation.create(
            database=mark_node.database,
            schema=mark_node.schema,
            identifier=mark_node.alias,
        )) -%}
        {%- if mark_relation is none -%}
            {% do return(none) %}
        {%- endif -%}
        {%- set rows -%}
            loaded_at > (
                select
                    coalesce(
                        max(last_loaded_at),
                        cast('1900-01-01 00:00:00' as {{ dbt.type_timestamp() }})
                    ) as last_loaded_at
                from {{ mark_relation }}
            )
        {%- endset -%}
    {%- else -%}
        {%- set rows = 'built_at = ' ~ forecast_hub.build_started_at() -%}
    {%- endif -%}
    {%- set test = model.test_metadata if model.test_metadata is defined else none -%}
    {%- if test and test.name == 'unique_combination_of_columns' -%}
        {%- set key = test.kwargs.combination_of_columns | join(', ') -%}
        {%- set rows -%}
            ({{ key }}) in (
                select {{ key }}
                from {{ relation }}
                where {{ rows }}
            )
        {%- endset -%}
    {%- endif -%}
    {% do return(rows) %}
{%- endmacro %}


{#- The model node built into the relation, from the graph. -#}
{% macro model_node_of(relation) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model'
            and node.alias | lower == relation.identifier | lower
            and node.schema | lower == relation.schema | lower -%}
            {% do return(node) %}
        {%- endif -%}
    {%- endfor -%}
    {% do return(none) %}
{%- endmacro %}
