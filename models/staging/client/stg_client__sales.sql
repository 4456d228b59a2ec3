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
        -- Cast back to varchar: PostgreSQL's upper() returns text, which
        -- the incremental fct_sales would take for a change of its schema.
        cast(upper(currency) as varchar) as currency_code,
        {{ to_utc_timestamp("updated_at") }} as updated_at,
        {{ lineage_columns() }}
    from source
)

select * from renamed
