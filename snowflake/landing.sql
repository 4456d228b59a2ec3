-- Landing on Snowflake: silver Parquet files are PUT (or uploaded by the
-- producer) to one stage, under <feed>/tenant_id=<tenant>/..., and copied into
-- one raw table per feed by name. COPY's load history keeps each file loaded
-- once per table, whether the pipe or `forecast-hub land` copies it.
-- Generated from scripts/forecast_hub/feeds.py by forecast_hub/snowflake/ddl.py;
-- run `forecast-hub snowflake write-ddl` after changing a feed, never edit it.

create schema if not exists raw;

create file format if not exists raw.silver_parquet type = parquet;

create stage if not exists raw.silver_stage
    file_format = (format_name = 'raw.silver_parquet');

-- sales: one row per version of a row of the client's sales feed.
create table if not exists raw.sales (
    sku_code varchar,
    location_code varchar,
    sale_date date,
    units_sold number(18, 4),
    net_revenue number(18, 4),
    currency varchar,
    updated_at timestamp_tz,
    tenant_id varchar,
    extra_columns varchar,
    source_file varchar,
    source_file_seq bigint,
    source_line bigint,
    file_sha256 varchar,
    ingested_at timestamp_tz,
    silver_file varchar,
    loaded_at timestamp_tz
);

-- skus: one row per version of a row of the client's skus feed.
create table if not exists raw.skus (
    sku_code varchar,
    sku_name varchar,
    category varchar,
    subcategory varchar,
    brand varchar,
    unit_of_measure varchar,
    pack_size bigint,
    is_active boolean,
    launched_on date,
    discontinued_on date,
    updated_at timestamp_tz,
    tenant_id varchar,
    extra_columns varchar,
    source_file varchar,
    source_file_seq bigint,
    source_line bigint,
    file_sha256 varchar,
    ingested_at timestamp_tz,
    silver_file varchar,
    loaded_at timestamp_tz
);

-- locations: one row per version of a row of the client's locations feed.
create table if not exists raw.locations (
    location_code varchar,
    location_name varchar,
    region varchar,
    country varchar,
    location_type varchar,
    opened_on date,
    closed_on date,
    updated_at timestamp_tz,
    tenant_id varchar,
    extra_columns varchar,
    source_file varchar,
    source_file_seq bigint,
    source_line bigint,
    file_sha256 varchar,
    ingested_at timestamp_tz,
    silver_file varchar,
    loaded_at timestamp_tz
);

-- sku_attributes: one row per version of a row of the client's sku_attributes feed.
create table if not exists raw.sku_attributes (
    sku_code varchar,
    attribute_name varchar,
    attribute_value varchar,
    updated_at timestamp_tz,
    tenant_id varchar,
    extra_columns varchar,
    source_file varchar,
    source_file_seq bigint,
    source_line bigint,
    file_sha256 varchar,
    ingested_at timestamp_tz,
    silver_file varchar,
    loaded_at timestamp_tz
);

-- promotions: one row per version of a row of the client's promotions feed.
create table if not exists raw.promotions (
    promo_id varchar,
    sku_code varchar,
    location_code varchar,
    start_date date,
    end_date date,
    promo_type varchar,
    discount_pct number(18, 4),
    updated_at timestamp_tz,
    tenant_id varchar,
    extra_columns varchar,
    source_file varchar,
    source_file_seq bigint,
    source_line bigint,
    file_sha256 varchar,
    ingested_at timestamp_tz,
    silver_file varchar,
    loaded_at timestamp_tz
);
