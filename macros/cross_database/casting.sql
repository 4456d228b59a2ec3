{#- True when the whole text matches the regular expression. -#}
{% macro regex_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match', 'forecast_hub')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regex_full_match(expression, pattern) -%}
    regexp_like({{ expression }}, '^(' || '{{ pattern }}' || ')$')
{%- endmacro %}

{% macro duckdb__regex_full_match(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro snowflake__regex_full_match(expression, pattern) -%}
    {#- Snowflake's regexp_like is anchored at both ends already. -#}
    regexp_like({{ expression }}, '{{ pattern }}')
{%- endmacro %}


{#-
    Cast client text to a type without ever failing: a value that is not
    a clean literal of the type becomes null. data_type is one of text,
    integer, decimal, boolean, date.
-#}
{% macro try_cast_text(expression, data_type) -%}
    {%- set value = 'trim(' ~ expression ~ ')' -%}
    {%- if data_type == 'text' -%}
        cast({{ expression }} as {{ dbt.type_string() }})
    {%- elif data_type == 'integer' -%}
        case
            when {{ forecast_hub.regex_full_match(value, '[+-]?[0-9]{1,18}') }}
                then cast({{ value }} as {{ dbt.type_bigint() }})
        end
    {%- elif data_type == 'decimal' -%}
        case
            when {{ forecast_hub.regex_full_match(
                value, '[+-]?[0-9]{1,14}([.][0-9]{1,4})?'
            ) }}
                then cast({{ value }} as decimal(18, 4))
        end
    {%- elif data_type == 'boolean' -%}
        case
            when lower({{ value }}) in ('true', '1', 'yes', 'y') then true
            when lower({{ value }}) in ('false', '0', 'no', 'n') then false
        end
    {%- elif data_type == 'date' -%}
        case
            when {{ forecast_hub.regex_full_match(
                value, '[0-9]{4}-[0-9]{2}-[0-9]{2}'
            ) }}
                then {{ forecast_hub.try_cast_date(value) }}
        end
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "try_cast_text: unknown data_type '" ~ data_type ~ "'"
        ) }}
    {%- endif -%}
{%- endmacro %}

{% macro try_cast_date(expression) -%}
    {{ return(adapter.dispatch('try_cast_date', 'forecast_hub')(expression)) }}
{%- endmacro %}

{% macro default__try_cast_date(expression) -%}
    try_cast({{ expression }} as date)
{%- endmacro %}

{% macro snowflake__try_cast_date(expression) -%}
    try_to_date({{ expression }}, 'YYYY-MM-DD')
{%- endmacro %}

{#-
    PostgreSQL 15 has no cast that returns null instead of failing, so a
    YYYY-MM-DD text is checked by arithmetic (month 1-12, a day the month
    has, leap years) before make_date, which fails on anything else. Each
    step is a nested case, which PostgreSQL evaluates in order. Year 0 is
    1 BC, as DuckDB reads it; other layouts are null.
-#}
{% macro postgres__try_cast_date(expression) -%}
    {%- set year = 'cast(substr(' ~ expression ~ ', 1, 4) as integer)' -%}
    {%- set month = 'cast(substr(' ~ expression ~ ', 6, 2) as integer)' -%}
    {%- set day = 'cast(substr(' ~ expression ~ ', 9, 2) as integer)' -%}
    case
        when {{ expression }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
            then case
                when
                    {{ month }} between 1 and 12
                    and {{ day }} between 1 and case
                        when {{ month }} = 2
                            and (
                                {{ year }} % 4 = 0 and {{ year }} % 100 != 0
                                or {{ year }} % 400 = 0
                            )
                            then 29
                        when {{ month }} = 2 then 28
                        when {{ month }} in (4, 6, 9, 11) then 30
                        else 31
                    end
                    then make_date(
                        case when {{ year }} = 0 then -1 else {{ year }} end,
                        {{ month }},
                        {{ day }}
                    )
            end
    end
{%- endmacro %}


{#- SQL type of a try_cast_text data_type, for contracts and docs. -#}
{% macro try_cast_text_sql_type(data_type) -%}
    {%- set types = {
        'text': dbt.type_string(),
        'integer': dbt.type_bigint(),
        'decimal': 'decimal(18, 4)',
        'boolean': dbt.type_boolean(),
        'date': 'date',
    } -%}
    {{ types[data_type] }}
{%- endmacro %}
