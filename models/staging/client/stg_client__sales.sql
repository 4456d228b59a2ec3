with

source as (
    select * from {{ source('client', 'sales') }}
),

renamed as (
    select
        tenant_id,
        sku_code as sku_id,
        location_code as location_id,
        sale_date,
        units_sold,
        net_revenue,
        upper(currency) as currency_code,
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
