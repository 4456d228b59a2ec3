with

source as (
    select * from {{ source('planning', 'user_prefs_ht') }}
),

renamed as (
    select
        tenant_id,
        user_id,
        show_manual,
        updated_at
    from source
)

select * from renamed
