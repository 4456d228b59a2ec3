"""Publish the draft this build made to the API, from inside the build.

DuckDB lets no other process open the warehouse while dbt writes it, so the
API cannot read the draft from there without risking a lock error on one
side. This model runs in dbt's own process once the draft and dim_sku are
built and tested, writes them to a new read-only folder under
$FORECAST_HUB_DATA_DIR/serving/ and switches the CURRENT pointer
atomically; the running API picks the new build up within a second. The
table it leaves is the record of what was published.
"""

from typing import Any

# Published with every draft row besides the API's own columns: the
# prediction interval and the methods top3_median combines.
DRAFT_EXTRA_COLUMNS = ("lower_qty", "upper_qty", "members")


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table")

    from unittest import mock

    from forecast_hub.api import snapshot
    from forecast_hub.api.config import serving_dir
    from forecast_hub.settings import Settings

    extra = tuple(c for c in DRAFT_EXTRA_COLUMNS if c not in snapshot.DRAFT_COLUMNS)
    columns = (*snapshot.DRAFT_COLUMNS, *extra)
    draft = dbt.ref("fct_forecast_draft").select(", ".join(columns))
    skus = dbt.ref("dim_sku").select(", ".join(snapshot.SKU_COLUMNS))
    # publish_snapshot keeps the columns of snapshot.DRAFT_COLUMNS only; until
    # that list names the extra columns, it is widened for this one call.
    with mock.patch.object(snapshot, "DRAFT_COLUMNS", columns):
        publication = snapshot.publish_snapshot(
            serving_dir(Settings.from_env()), draft.to_arrow_table(), skus.to_arrow_table()
        )
    return publication.to_arrow()
