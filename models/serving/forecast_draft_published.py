"""Publish the draft this build made to the API, from inside the build.

DuckDB lets no other process open the warehouse while dbt writes it, so the
API cannot read the draft from there without risking a lock error on one
side. This model runs in dbt's own process once the draft and dim_sku are
built and tested, writes them to a new read-only folder under
$FORECAST_HUB_DATA_DIR/serving/ and switches the CURRENT pointer
atomically; the running API picks the new build up within a second. The
table it leaves is the record of what was published.

Bound: DuckDB sorts the draft (within the build's memory limit, spilling
past it) and hands it over as Arrow record batches of BATCH_ROWS rows,
each written to Parquet before the next is read; Python never holds the
whole draft or dim_sku.
"""

# Rows per Arrow record batch handed from DuckDB to the Parquet writer.
BATCH_ROWS = 100_000

# Published with every draft row besides the API's own columns: the
# prediction interval and the methods top3_median combines.
DRAFT_EXTRA_COLUMNS = ("lower_qty", "upper_qty", "members")


def model(dbt, session):
    dbt.config(materialized="table")

    from unittest import mock

    from forecast_hub.api import snapshot
    from forecast_hub.api.config import serving_dir
    from forecast_hub.settings import Settings

    extra = tuple(c for c in DRAFT_EXTRA_COLUMNS if c not in snapshot.DRAFT_COLUMNS)
    columns = (*snapshot.DRAFT_COLUMNS, *extra)
    draft_query = (
        dbt.ref("fct_forecast_draft")
        .select(", ".join(columns))
        .order("tenant_id, sku_id, forecast_date")
        .sql_query()
    )
    sku_query = dbt.ref("dim_sku").select(", ".join(snapshot.SKU_COLUMNS)).sql_query()
    # A connection streams one result at a time: each reader has a cursor of its own.
    draft = session.cursor().sql(draft_query).to_arrow_reader(BATCH_ROWS)
    skus = session.cursor().sql(sku_query).to_arrow_reader(BATCH_ROWS)
    # publish_snapshot keeps the columns of snapshot.DRAFT_COLUMNS only; until
    # that list names the extra columns, it is widened for this one call.
    with mock.patch.object(snapshot, "DRAFT_COLUMNS", columns):
        publication = snapshot.publish_snapshot(
            serving_dir(Settings.from_env()),
            draft,
            skus,
        )
    return publication.to_arrow()
