"""Publish the draft this build made to the API, from inside the build.

DuckDB lets no other process open the warehouse while dbt writes it, so the
API cannot read the draft from there without risking a lock error on one
side. This model runs in dbt's own process once the draft and dim_sku are
built and tested, writes them to a new read-only folder under
$FORECAST_HUB_DATA_DIR/serving/ and switches the CURRENT pointer
atomically; the running API picks the new build up within a second. The
table it leaves is the record of what was published.

Beside the draft, the same folder gets what the planning page reads: the
tenants' grain, the SKUs' names, categories and hot attributes, each
series' history and the accuracy of its methods and of the tenant's.
"""

SKU_ATTRIBUTE_COLUMNS = ("tenant_id", "sku_id", "sku_name", "category")
SERIES_ACCURACY_COLUMNS = (
    "tenant_id",
    "sku_id",
    "method",
    "wape",
    "mae",
    "bias",
    "window_1_wape",
    "window_1_mae",
    "window_1_bias",
    "window_count",
    "method_rank",
    "nested_rank",
    "is_member",
    "is_nested_member",
    "is_selected",
    "window_1_coverage",
)


def _columns(relation, names):
    return relation.select(", ".join(names)).to_arrow_table()


def model(dbt, session):
    dbt.config(materialized="table")

    from forecast_hub.api import snapshot
    from forecast_hub.api.config import serving_dir
    from forecast_hub.settings import Settings

    draft = dbt.ref("fct_forecast_draft")
    draft_columns = (*snapshot.DRAFT_COLUMNS, *snapshot.OPTIONAL_DRAFT_COLUMNS)
    skus = dbt.ref("dim_sku")
    hot_attributes = dbt.ref("hot_attributes").select("attribute_name").fetchall()
    page_tables = {
        "tenants": _columns(dbt.ref("dim_tenant"), ("tenant_id", "grain")),
        "sku_attributes": _columns(
            skus, (*SKU_ATTRIBUTE_COLUMNS, *(name for (name,) in hot_attributes))
        ),
        "series_history": _columns(
            dbt.ref("fct_series_history"), ("tenant_id", "sku_id", "period_date", "qty")
        ),
        "series_accuracy": _columns(dbt.ref("fct_forecast_accuracy"), SERIES_ACCURACY_COLUMNS),
        "tenant_accuracy": dbt.ref("fct_forecast_accuracy_by_tenant").to_arrow_table(),
    }
    publication = snapshot.publish_snapshot(
        serving_dir(Settings.from_env()),
        _columns(draft, draft_columns),
        _columns(skus, snapshot.SKU_COLUMNS),
        page_tables=page_tables,
    )
    return publication.to_arrow()
