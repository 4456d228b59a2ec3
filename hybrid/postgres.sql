-- The tables of schema planning on the postgres target: dbt reads them as
-- sources, and the API writes them when FORECAST_HUB_EDITS_STORE is their
-- postgresql:// URL.
-- Generated from scripts/forecast_hub/hybrid/tables.py; edit that file and
-- run `forecast-hub hybrid --write-ddl`, never this one.

create schema if not exists planning;

-- manual_edits_ht: Planners' manual edits: one row per tenant, SKU and
-- forecast date. A removed edit stays as a row with is_removed and no
-- quantity, so its version keeps counting and a stale expected_version never
-- matches again.
create table if not exists planning.manual_edits_ht (
    tenant_id varchar not null,
    sku_id varchar not null,
    forecast_date date not null,
    manual_qty double precision,
    reason varchar(500),
    edited_by varchar not null,
    edited_at timestamp not null,
    version bigint not null,
    is_removed boolean not null default false,
    primary key (tenant_id, sku_id, forecast_date)
);
create index if not exists manual_edits_ht_by_edited_at
on planning.manual_edits_ht (tenant_id, edited_at);

-- user_prefs_ht: Preferences: one row per tenant and user; the row of user
-- '*' holds the tenant's defaults, and a null value inherits them.
create table if not exists planning.user_prefs_ht (
    tenant_id varchar not null,
    user_id varchar not null,
    show_manual boolean,
    updated_at timestamp not null,
    primary key (tenant_id, user_id)
);

-- manual_edit_log_ht: Append-only history of every upsert and removal of a
-- manual edit: one row per change, written in the same transaction as the
-- change.
create table if not exists planning.manual_edit_log_ht (
    log_id bigint not null,
    tenant_id varchar not null,
    sku_id varchar not null,
    forecast_date date not null,
    action varchar not null,
    old_qty double precision,
    new_qty double precision,
    reason varchar(500),
    edited_by varchar not null,
    edited_at timestamp not null,
    version bigint not null,
    primary key (log_id)
);
create index if not exists manual_edit_log_ht_by_edited_at
on planning.manual_edit_log_ht (tenant_id, edited_at);
