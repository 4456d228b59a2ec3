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
        {{ lineage_columns() }}
    from source
)

select * from renamed
