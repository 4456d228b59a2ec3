-- The edits store the API writes on the duckdb target (edits/edits.sqlite).
-- Generated from scripts/forecast_hub/hybrid/tables.py; edit that file and
-- run `forecast-hub hybrid --write-ddl`, never this one.

-- manual_edits_ht: Planners' manual edits: one row per tenant, SKU and
-- forecast date. A removed edit stays as a row with is_removed and no
-- quantity, so its version keeps counting and a stale expected_version never
-- matches again.
create table if not exists manual_edits_ht (
    tenant_id text not null,
    sku_id text not null,
    forecast_date text not null,
    manual_qty real,
    reason text check (length(reason) <= 500),
    edited_by text not null,
    edited_at text not null,
    version integer not null,
    is_removed integer not null default 0 check (is_removed in (0, 1)),
    primary key (tenant_id, sku_id, forecast_date)
) strict, without rowid;
create index if not exists manual_edits_ht_by_edited_at
on manual_edits_ht (tenant_id, edited_at);

-- user_prefs_ht: Preferences: one row per tenant and user; the row of user
-- '*' holds the tenant's defaults, and a null value inherits them.
create table if not exists user_prefs_ht (
    tenant_id text not null,
    user_id text not null,
    show_manual integer check (show_manual in (0, 1)),
    updated_at text not null,
    primary key (tenant_id, user_id)
) strict, without rowid;

-- manual_edit_log_ht: Append-only history of every upsert and removal of a
-- manual edit: one row per change, written in the same transaction as the
-- change.
create table if not exists manual_edit_log_ht (
    log_id integer not null,
    tenant_id text not null,
    sku_id text not null,
    forecast_date text not null,
    action text not null,
    old_qty real,
    new_qty real,
    reason text check (length(reason) <= 500),
    edited_by text not null,
    edited_at text not null,
    version integer not null,
    primary key (log_id)
) strict;
create index if not exists manual_edit_log_ht_by_edited_at
on manual_edit_log_ht (tenant_id, edited_at);
