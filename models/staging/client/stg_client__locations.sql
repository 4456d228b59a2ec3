with

source as (
    select * from {{ source('client', 'locations') }}
),

renamed as (
    select
        tenant_id,
        location_code as location_id,
        location_name,
        region,
        upper(country) as country_code,
        lower(location_type) as location_type,
        opened_on as opened_date,
        closed_on as closed_date,
        {{ to_utc_timestamp("updated_at") }} as updated_at,
        extra_columns,
        extra_columns is not null as has_extra_columns,
        source_file,
        source_file_seq,
        source_line,
        file_sha256,
        {{ to_utc_timestamp("ingested_at") }} as ingested_at,
        silver_file,
        {{ to_utc_timestamp("loaded_at") }} as loaded_at
    from source
)

select * from renamed
