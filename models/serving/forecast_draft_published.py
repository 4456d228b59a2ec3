"""Publish the draft this build made to the API, from inside the build.

DuckDB lets no other process open the warehouse while dbt writes it, so the
API cannot read the draft from there without risking a lock error on one
side. This model runs in dbt's own process once the draft and dim_sku are
built and tested, writes them to a new read-only folder under
$FORECAST_HUB_DATA_DIR/serving/ and switches the CURRENT pointer
atomically; the running API picks the new build up within a second. The
table it leaves is the record of what was published.
"""


def model(dbt, session):
    dbt.config(materialized="table")

    from forecast_hub.api.config import serving_dir
    from forecast_hub.api.snapshot import (
        DRAFT_COLUMNS,
        OPTIONAL_DRAFT_COLUMNS,
        SKU_COLUMNS,
        publish_snapshot,
    )
    from forecast_hub.settings import Settings

    forecast_draft = dbt.ref("fct_forecast_draft")
    optional = [c for c in OPTIONAL_DRAFT_COLUMNS if c in forecast_draft.columns]
    draft = forecast_draft.select(", ".join([*DRAFT_COLUMNS, *optional]))
    skus = dbt.ref("dim_sku").select(", ".join(SKU_COLUMNS))
    publication = publish_snapshot(
        serving_dir(Settings.from_env()), draft.to_arrow_table(), skus.to_arrow_table()
    )
    return publication.to_arrow()
