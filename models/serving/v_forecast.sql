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

-- Driven by the draft: an edit whose date left the horizon, or whose SKU
-- has no draft any more, is kept in the edits but not shown.
draft_with_edits as (
    select
        forecast_draft.tenant_id,
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
        coalesce(tenant_defaults.show_manual, true) as show_manual
    from forecast_draft
    left join live_edits
        on
            forecast_draft.tenant_id = live_edits.tenant_id
            and forecast_draft.sku_id = live_edits.sku_id
            and forecast_draft.forecast_date = live_edits.forecast_date
    left join tenant_defaults
        on forecast_draft.tenant_id = tenant_defaults.tenant_id
),

final as (
    select
        tenant_id,
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
