-- Snowflake hybrid tables: row-level writes with primary and secondary keys.
-- Generated from scripts/forecast_hub/hybrid/tables.py; edit that file and
-- run `forecast-hub hybrid --write-ddl`, never this one.
-- Lines marked noqa: RF04 use words SQLFluff counts as keywords: the columns
-- action and version, which Snowflake does not reserve, and the index clause,
-- which SQLFluff reads as a column named index.

create schema if not exists planning;

-- manual_edits_ht: Planners' manual edits: one row per tenant, SKU and
-- forecast date. A removed edit stays as a row with is_removed and no
-- quantity, so its version keeps counting and a stale expected_version never
-- matches again.
create hybrid table if not exists planning.manual_edits_ht (
    tenant_id varchar not null,
    sku_id varchar not null,
    forecast_date date not null,
    manual_qty float,
    reason varchar(500),
    edited_by varchar not null,
    edited_at timestamp_ntz not null,
    version number(19, 0) not null,  -- noqa: RF04
    is_removed boolean not null default false,
    primary key (tenant_id, sku_id, forecast_date),
    index manual_edits_ht_by_edited_at (tenant_id, edited_at)  -- noqa: RF04
);

-- user_prefs_ht: Preferences: one row per tenant and user; the row of user
-- '*' holds the tenant's defaults, and a null value inherits them.
create hybrid table if not exists planning.user_prefs_ht (
    tenant_id varchar not null,
    user_id varchar not null,
    show_manual boolean,
    updated_at timestamp_ntz not null,
    primary key (tenant_id, user_id)
);

-- manual_edit_log_ht: Append-only history of every upsert and removal of a
-- manual edit: one row per change, written in the same transaction as the
-- change.
create hybrid table if not exists planning.manual_edit_log_ht (
    log_id number(19, 0) not null,
    tenant_id varchar not null,
    sku_id varchar not null,
    forecast_date date not null,
    action varchar not null,  -- noqa: RF04
    old_qty float,
    new_qty float,
    reason varchar(500),
    edited_by varchar not null,
    edited_at timestamp_ntz not null,
    version number(19, 0) not null,  -- noqa: RF04
    primary key (log_id),
    index manual_edit_log_ht_by_edited_at (tenant_id, edited_at)  -- noqa: RF04
);
