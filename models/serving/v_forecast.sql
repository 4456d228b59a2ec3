with

forecast_draft as (
    select * from {{ ref('fct_forecast_draft') }}
),

manual_edits as (
    select * from {{ ref('stg_planning__manual_edits') }}
),

user_prefs as (
    select * from {{ ref('stg_planning__user_prefs') }}
),

-- A removed edit is kept as a row for its version; it is no edit here.
live_edits as (
    select *
    from manual_edits
    where not is_removed
),

tenant_defaults as (
    select
        tenant_id,
        show_manual
    from user_prefs
    where user_id = '*'
),

draft_tenants as (
    select distinct tenant_id
    from forecast_draft
),

-- Who a row is resolved for: the tenant itself (user_id '*': its default,
-- else true), and every user with a stored preference (theirs, over the
-- tenant's default, over true). A user without one reads the tenant's rows.
viewers as (
    select
        draft_tenants.tenant_id,
        '*' as user_id,
        coalesce(tenant_defaults.show_manual, true) as show_manual
    from draft_tenants
    left join tenant_defaults
        on draft_tenants.tenant_id = tenant_defaults.tenant_id

    union all

    select
        user_prefs.tenant_id,
        user_prefs.user_id,
        coalesce(
            user_prefs.show_manual, tenant_defaults.show_manual, true
        ) as show_manual
    from user_prefs
    left join tenant_defaults
        on user_prefs.tenant_id = tenant_defaults.tenant_id
    where user_prefs.user_id != '*'
),

-- Driven by the draft: an edit whose date left the horizon, or whose SKU
-- has no draft any more, is kept in the edits but not shown.
draft_with_edits as (
    select
        forecast_draft.tenant_id,
        viewers.user_id,
        forecast_draft.sku_id,
        forecast_draft.forecast_date,
        forecast_draft.step,
        forecast_draft.draft_qty,
        forecast_draft.lower_qty,
        forecast_draft.upper_qty,
        forecast_draft.method,
        forecast_draft.members,
        forecast_draft.built_at,
        live_edits.tenant_id is not null as has_edit,
        live_edits.manual_qty,
        live_edits.edited_by,
        live_edits.edited_at,
        viewers.show_manual
    from forecast_draft
    inner join viewers
        on forecast_draft.tenant_id = viewers.tenant_id
    left join live_edits
        on
            forecast_draft.tenant_id = live_edits.tenant_id
            and forecast_draft.sku_id = live_edits.sku_id
            and forecast_draft.forecast_date = live_edits.forecast_date
),

final as (
    select
        tenant_id,
        user_id,
        sku_id,
        forecast_date,
        step,
        draft_qty,
        lower_qty,
        upper_qty,
        manual_qty,
        case
            when show_manual and has_edit then manual_qty
            else draft_qty
        end as forecast_qty,
        show_manual and has_edit as is_manual,
        show_manual,
        method,
        members,
        edited_by,
        edited_at,
        built_at
    from draft_with_edits
)

select * from final
