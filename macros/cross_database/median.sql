{#-
    The median of a group's values, as an aggregate. DuckDB and Snowflake
    have median(); PostgreSQL has the same value (the mean of the two middle
    values for an even count) as an ordered-set aggregate.
-#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'forecast_hub')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{% macro postgres__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}
