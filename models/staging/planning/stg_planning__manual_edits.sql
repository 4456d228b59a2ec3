with

source as (
    select * from {{ source('planning', 'manual_edits_ht') }}
),

renamed as (
    select
        tenant_id,
        sku_id,
        forecast_date,
        manual_qty,
        reason,
        edited_by,
        edited_at,
        version,
        is_removed
    from source
)

select * from renamed
