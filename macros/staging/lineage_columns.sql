{#
    The lineage every staging model carries from the landed raw tables:
    where a row came from (file, arrival order, line, checksum), when it was
    ingested and landed, and the client's unknown extra columns.
#}
{% macro lineage_columns() %}
        extra_columns,
        extra_columns is not null as has_extra_columns,
        source_file,
        source_file_seq,
        source_line,
        file_sha256,
        {{ to_utc_timestamp("ingested_at") }} as ingested_at,
        silver_file,
        {{ to_utc_timestamp("loaded_at") }} as loaded_at
{%- endmacro %}
