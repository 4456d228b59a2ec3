with

locations as (
    select * from {{ ref('int_locations_deduplicated') }}
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
        updated_at
    from locations
)

select * from final
