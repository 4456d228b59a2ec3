"""Publish the draft this build made to the API, from inside the build.

DuckDB lets no other process open the warehouse while dbt writes it, so the
API cannot read the draft from there without risking a lock error on one
side. This model runs in dbt's own process once the draft and dim_sku are
built and tested, writes them to a new read-only folder under
$FORECAST_HUB_DATA_DIR/serving/ and switches the CURRENT pointer
atomically; the running API picks the new build up within a second. With
FORECAST_HUB_OBJECT_STORE set, the build goes to the bucket too, its
pointer moved before the local one. The table it leaves is the record of
what was published.

Bound: DuckDB sorts the draft (within the build's memory limit, spilling
past it) and hands it over as Arrow record batches of BATCH_ROWS rows,
each written to Parquet before the next is read, a tenant's rows in row
groups of their own (the API's cache reads one tenant without the others).
Python never holds the whole draft: only dim_sku (one row per SKU) and
each series' key.
"""

from typing import Any

# Rows per Arrow record batch handed from DuckDB to the Parquet writer.
BATCH_ROWS = 100_000


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table")

    from forecast_hub.api.config import serving_dir
    from forecast_hub.api.snapshot import (
        DRAFT_COLUMNS,
        DRAFT_OPTIONAL_COLUMNS,
        SKU_COLUMNS,
        publish_snapshot,
    )
    from forecast_hub.objectstore import object_store_of
    from forecast_hub.settings import Settings

    settings = Settings.from_env()

    columns = (*DRAFT_COLUMNS, *DRAFT_OPTIONAL_COLUMNS)
    draft_query = (
        dbt.ref("fct_forecast_draft")
        .select(", ".join(columns))
        .order("tenant_id, sku_id, forecast_date")
        .sql_query()
    )
    sku_query = dbt.ref("dim_sku").select(", ".join(SKU_COLUMNS)).sql_query()
    # A connection streams one result at a time: each reader has a cursor of its own.
    draft = session.cursor().sql(draft_query).to_arrow_reader(BATCH_ROWS)
    skus = session.cursor().sql(sku_query).to_arrow_reader(BATCH_ROWS)
    publication = publish_snapshot(
        serving_dir(settings), draft, skus, object_store=object_store_of(settings)
    )
    return publication.to_arrow()
