{#-
    Date arithmetic on tenant grains: day, week (ISO, weeks start on
    Monday) and month. A period is identified by its first date.
-#}

{% macro add_days(date_expression, days) -%}
    {{ return(adapter.dispatch('add_days', 'forecast_hub')(date_expression, days)) }}
{%- endmacro %}

{% macro default__add_days(date_expression, days) -%}
    cast({{ dbt.dateadd('day', days, date_expression) }} as date)
{%- endmacro %}

{% macro duckdb__add_days(date_expression, days) -%}
    cast(({{ date_expression }}) + to_days(cast({{ days }} as integer)) as date)
{%- endmacro %}

{% macro snowflake__add_days(date_expression, days) -%}
    dateadd(day, {{ days }}, {{ date_expression }})::date
{%- endmacro %}


{% macro add_months(date_expression, months) -%}
    {{ return(adapter.dispatch('add_months', 'forecast_hub')(date_expression, months)) }}
{%- endmacro %}

{% macro default__add_months(date_expression, months) -%}
    cast({{ dbt.dateadd('month', months, date_expression) }} as date)
{%- endmacro %}

{% macro duckdb__add_months(date_expression, months) -%}
    cast(
        ({{ date_expression }}) + to_months(cast({{ months }} as integer))
        as date
    )
{%- endmacro %}

{% macro snowflake__add_months(date_expression, months) -%}
    dateadd(month, {{ months }}, {{ date_expression }})::date
{%- endmacro %}


{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'forecast_hub')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__days_between(start_date, end_date) -%}
    {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}

{% macro duckdb__days_between(start_date, end_date) -%}
    date_diff('day', {{ start_date }}, {{ end_date }})
{%- endmacro %}

{% macro snowflake__days_between(start_date, end_date) -%}
    datediff(day, {{ start_date }}, {{ end_date }})
{%- endmacro %}


{% macro months_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('months_between', 'forecast_hub')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__months_between(start_date, end_date) -%}
    {{ dbt.datediff(start_date, end_date, 'month') }}
{%- endmacro %}

{% macro duckdb__months_between(start_date, end_date) -%}
    date_diff('month', {{ start_date }}, {{ end_date }})
{%- endmacro %}

{% macro snowflake__months_between(start_date, end_date) -%}
    datediff(month, {{ start_date }}, {{ end_date }})
{%- endmacro %}


{% macro week_start(date_expression) -%}
    {{ return(adapter.dispatch('week_start', 'forecast_hub')(date_expression)) }}
{%- endmacro %}

{% macro default__week_start(date_expression) -%}
    cast({{ dbt.date_trunc('week', date_expression) }} as date)
{%- endmacro %}

{% macro duckdb__week_start(date_expression) -%}
    {#- DuckDB truncates to the ISO week (Monday) and returns a timestamp. -#}
    cast(date_trunc('week', {{ date_expression }}) as date)
{%- endmacro %}

{% macro snowflake__week_start(date_expression) -%}
    {#- Independent of the session's WEEK_START parameter. -#}
    dateadd(
        day, 1 - dayofweekiso({{ date_expression }}), {{ date_expression }}
    )::date
{%- endmacro %}


{% macro month_start(date_expression) -%}
    {{ return(adapter.dispatch('month_start', 'forecast_hub')(date_expression)) }}
{%- endmacro %}

{% macro default__month_start(date_expression) -%}
    cast({{ dbt.date_trunc('month', date_expression) }} as date)
{%- endmacro %}

{% macro duckdb__month_start(date_expression) -%}
    cast(date_trunc('month', {{ date_expression }}) as date)
{%- endmacro %}

{% macro snowflake__month_start(date_expression) -%}
    date_trunc(month, {{ date_expression }})::date
{%- endmacro %}


{#- Grain-aware helpers; the grain is a column or a quoted literal. -#}

{% macro period_start(grain, date_expression) -%}
    case {{ grain }}
        when 'week' then {{ forecast_hub.week_start(date_expression) }}
        when 'month' then {{ forecast_hub.month_start(date_expression) }}
        else cast({{ date_expression }} as date)
    end
{%- endmacro %}

{% macro add_periods(grain, period_start_date, periods) -%}
    case {{ grain }}
        when 'week'
            then {{ forecast_hub.add_days(period_start_date, '7 * (' ~ periods ~ ')') }}
        when 'month'
            then {{ forecast_hub.add_months(period_start_date, periods) }}
        else {{ forecast_hub.add_days(period_start_date, periods) }}
    end
{%- endmacro %}

{#- Last day of the period that starts on period_start_date. -#}
{% macro period_end(grain, period_start_date) -%}
    {{ forecast_hub.add_days(
        forecast_hub.add_periods(grain, period_start_date, '1'), '-1'
    ) }}
{%- endmacro %}

{#- Whole periods from one period start to another (both period starts). -#}
{% macro periods_between(grain, start_period, end_period) -%}
    case {{ grain }}
        when 'week'
            then {{ forecast_hub.days_between(start_period, end_period) }} / 7
        when 'month'
            then {{ forecast_hub.months_between(start_period, end_period) }}
        else {{ forecast_hub.days_between(start_period, end_period) }}
    end
{%- endmacro %}
