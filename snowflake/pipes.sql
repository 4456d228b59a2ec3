-- Snowpipe: each raw table loads new files of its feed's folder of the
-- stage as they arrive (AUTO_INGEST: the cloud storage's event notifications,
-- set up with the storage integration of an external stage).
-- Account only: the emulator has no pipes; SQLFluff lints this file.
-- Generated from scripts/forecast_hub/feeds.py by forecast_hub/snowflake/ddl.py;
-- run `forecast-hub snowflake write-ddl` after changing a feed, never edit it.

create pipe if not exists raw.sales_pipe
auto_ingest = true
as
copy into raw.sales
from @raw.silver_stage/sales/
file_format = (format_name = 'raw.silver_parquet')
match_by_column_name = case_insensitive
include_metadata = (
    silver_file = metadata$filename,
    loaded_at = metadata$start_scan_time
);

create pipe if not exists raw.skus_pipe
auto_ingest = true
as
copy into raw.skus
from @raw.silver_stage/skus/
file_format = (format_name = 'raw.silver_parquet')
match_by_column_name = case_insensitive
include_metadata = (
    silver_file = metadata$filename,
    loaded_at = metadata$start_scan_time
);

create pipe if not exists raw.locations_pipe
auto_ingest = true
as
copy into raw.locations
from @raw.silver_stage/locations/
file_format = (format_name = 'raw.silver_parquet')
match_by_column_name = case_insensitive
include_metadata = (
    silver_file = metadata$filename,
    loaded_at = metadata$start_scan_time
);

create pipe if not exists raw.sku_attributes_pipe
auto_ingest = true
as
copy into raw.sku_attributes
from @raw.silver_stage/sku_attributes/
file_format = (format_name = 'raw.silver_parquet')
match_by_column_name = case_insensitive
include_metadata = (
    silver_file = metadata$filename,
    loaded_at = metadata$start_scan_time
);

create pipe if not exists raw.promotions_pipe
auto_ingest = true
as
copy into raw.promotions
from @raw.silver_stage/promotions/
file_format = (format_name = 'raw.silver_parquet')
match_by_column_name = case_insensitive
include_metadata = (
    silver_file = metadata$filename,
    loaded_at = metadata$start_scan_time
);
