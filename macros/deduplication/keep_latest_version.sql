{#-
    The client-feeds rule for duplicates and corrections: per natural key
    the latest updated_at wins; on a tie the later file (by arrival), then
    the later line. Renders a whole select of the relation's columns, in
    place of `select * from relation`:

        sales_deduplicated as (
            {{ keep_latest_version('sales', ['tenant_id', 'sku_id']) }}
        ),
-#}
{% macro keep_latest_version(relation, natural_key) -%}
    {%- if relation is not string -%}
        {{ exceptions.raise_compiler_error(
            "keep_latest_version takes the relation first and renders the whole"
            ~ " select: {{ keep_latest_version('<cte>', [<key columns>]) }}"
        ) }}
    {%- endif -%}
    {{ forecast_hub.first_row_per_partition(
        relation, natural_key, latest_version_order_by()
    ) }}
{%- endmacro %}

{% macro latest_version_order_by() -%}
    updated_at desc, source_file_seq desc, source_line desc
{%- endmacro %}

{% macro latest_version_order() -%}
    order by {{ latest_version_order_by() }}
{%- endmacro %}


{#-
    Every column of the first row of each partition of the relation in the
    given order (a SQL order-by list), as a whole select. The order should
    be total within a partition, or the row kept is any of the first.
-#}
{% macro first_row_per_partition(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('first_row_per_partition', 'forecast_hub')(relation, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__first_row_per_partition(relation, partition_by, order_by) -%}
    select *
    from {{ relation }}
    qualify row_number() over (
        partition by {{ partition_by | join(', ') }}
        order by {{ order_by }}
    ) = 1
{%- endmacro %}

{#- PostgreSQL has no qualify; distinct on keeps the first row in the order. -#}
{% macro postgres__first_row_per_partition(relation, partition_by, order_by) -%}
    select distinct on ({{ partition_by | join(', ') }}) *
    from {{ relation }}
    order by {{ partition_by | join(', ') }}, {{ order_by }}
{%- endmacro %}
