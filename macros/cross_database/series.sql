{#-
    One output row per input row and integer in [lower, upper]: the
    input's columns plus the integer as column_name. Rows whose upper is
    below lower produce nothing.
-#}
{% macro explode_integer_range(relation, lower, upper, column_name) -%}
    {{ return(adapter.dispatch('explode_integer_range', 'forecast_hub')(relation, lower, upper, column_name)) }}
{%- endmacro %}

{% macro default__explode_integer_range(relation, lower, upper, column_name) -%}
    select
        {{ relation }}.*,
        {{ column_name }}
    from {{ relation }}
    cross join lateral generate_series(
        cast({{ lower }} as bigint), cast({{ upper }} as bigint)
    ) as integers ({{ column_name }})
{%- endmacro %}

{% macro duckdb__explode_integer_range(relation, lower, upper, column_name) -%}
    select
        {{ relation }}.*,
        unnest(generate_series(
            cast({{ lower }} as bigint), cast({{ upper }} as bigint)
        )) as {{ column_name }}
    from {{ relation }}
    where {{ upper }} >= {{ lower }}
{%- endmacro %}

{#-
    The bounds are cast because a whole number of weeks (days / 7) is a
    decimal, and array_generate_range takes integers.
-#}
{% macro snowflake__explode_integer_range(relation, lower, upper, column_name) -%}
    select
        {{ relation }}.*,
        cast(integers.value as integer) as {{ column_name }}
    from {{ relation }},
        lateral flatten(
            input => array_generate_range(
                cast({{ lower }} as integer), cast({{ upper }} as integer) + 1
            )
        ) as integers
    where {{ upper }} >= {{ lower }}
{%- endmacro %}


{% macro power(base, exponent) -%}
    {{ return(adapter.dispatch('power', 'forecast_hub')(base, exponent)) }}
{%- endmacro %}

{% macro default__power(base, exponent) -%}
    power({{ base }}, {{ exponent }})
{%- endmacro %}

{#-
    PostgreSQL's power of a numeric literal (0.7) and an integer is exact
    numeric arithmetic; in doubles it is the same C pow() DuckDB and
    Snowflake use, so the forecasts agree to the last bit.
-#}
{% macro postgres__power(base, exponent) -%}
    power(
        cast({{ base }} as {{ forecast_hub.type_double() }}),
        cast({{ exponent }} as {{ forecast_hub.type_double() }})
    )
{%- endmacro %}
