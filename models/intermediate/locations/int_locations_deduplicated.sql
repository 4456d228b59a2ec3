with

locations as (
    select * from {{ ref('stg_client__locations') }}
),

locations_deduplicated as (
    {{ keep_latest_version('locations', ['tenant_id', 'location_id']) }}
),

final as (
    select
        tenant_id,
        location_id,
        location_name,
        region,
        country_code,
        location_type,
        opened_date,
        closed_date,
        updated_at,
        source_file,
        source_file_seq,
        source_line
    from locations_deduplicated
)

select * from final
