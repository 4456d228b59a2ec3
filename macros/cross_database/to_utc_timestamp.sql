{#-
    A timestamp with time zone as a plain timestamp in UTC: every
    <event>_at column downstream of staging is UTC without a zone, so it
    reads the same whatever the session's time zone.
-#}
{% macro to_utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'forecast_hub')(expression)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(expression) -%}
    cast({{ expression }} at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(expression) -%}
    {#- The instant's microseconds since the epoch, as a plain timestamp:
        same value as timezone('UTC', x), several times faster on 20M rows. -#}
    make_timestamp(epoch_us({{ expression }}))
{%- endmacro %}

{% macro snowflake__to_utc_timestamp(expression) -%}
    convert_timezone('UTC', {{ expression }})::timestamp_ntz
{%- endmacro %}
