{#-
    The client-feeds rule for duplicates and corrections: per natural key
    the latest updated_at wins; on a tie the later file (by arrival), then
    the later line. Use after the from/where of a select.
-#}
{% macro keep_latest_version(natural_key) -%}
    qualify row_number() over (
        partition by {{ natural_key | join(', ') }}
        {{ forecast_hub.latest_version_order() }}
    ) = 1
{%- endmacro %}

{% macro latest_version_order() -%}
    order by updated_at desc, source_file_seq desc, source_line desc
{%- endmacro %}
