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

Beside the draft, the same folder gets what the planning page reads: the
tenants' grain, the SKUs' names, categories and hot attributes, each
series' history and the accuracy of its methods and of the tenant's.

Bound: DuckDB sorts each table (within the build's memory limit, spilling
past it) and hands it over as Arrow record batches of BATCH_ROWS rows,
each written to Parquet before the next is read, a tenant's draft rows in
row groups of their own (the API's cache reads one tenant without the
others). Python never holds the whole draft or the history: only dim_sku
(one row per SKU) and each series' key.
"""

from typing import Any

# Rows per Arrow record batch handed from DuckDB to the Parquet writer.
BATCH_ROWS = 100_000


def model(dbt: Any, session: Any) -> Any:
    dbt.config(materialized="table")

    from forecast_hub.api.config import serving_dir
    from forecast_hub.api.page_data import SERIES_ACCURACY_FIELDS, SKU_FIELDS
    from forecast_hub.api.snapshot import (
        DRAFT_COLUMNS,
        DRAFT_OPTIONAL_COLUMNS,
        PAGE_TABLES,
        SKU_COLUMNS,
        publish_snapshot,
    )
    from forecast_hub.objectstore import object_store_of
    from forecast_hub.settings import Settings

    settings = Settings.from_env()

    def rows(relation: Any, columns: Any, order: Any = ()) -> Any:
        """The relation's columns as a reader of sorted record batches.

        A connection streams one result at a time: each reader has a cursor
        of its own.
        """
        selected = relation.select(", ".join(columns))
        if order:
            selected = selected.order(", ".join(order))
        return session.cursor().sql(selected.sql_query()).to_arrow_reader(BATCH_ROWS)

    # The hot attribute columns of dim_sku, named and ordered as the
    # hot_attributes() macro makes them.
    seeded = dbt.ref("hot_attributes").select("attribute_name").fetchall()
    hot_attributes = [name.strip().lower() for (name,) in sorted(seeded)]
    # dbt finds a Python model's dependencies by its literal dbt.ref calls.
    page_relations = {
        "tenants": (dbt.ref("dim_tenant"), ("tenant_id", "grain")),
        "sku_attributes": (
            dbt.ref("dim_sku"),
            (*SKU_FIELDS, *hot_attributes),
        ),
        "series_history": (
            dbt.ref("fct_series_history"),
            ("tenant_id", "sku_id", "period_date", "qty"),
        ),
        "series_accuracy": (
            dbt.ref("fct_forecast_accuracy"),
            ("tenant_id", "sku_id", *SERIES_ACCURACY_FIELDS),
        ),
        "tenant_accuracy": (dbt.ref("fct_forecast_accuracy_by_tenant"), ("*",)),
    }
    page_tables = {
        name: rows(relation, columns, PAGE_TABLES[name])
        for name, (relation, columns) in page_relations.items()
    }
    draft = rows(
        dbt.ref("fct_forecast_draft"),
        (*DRAFT_COLUMNS, *DRAFT_OPTIONAL_COLUMNS),
        ("tenant_id", "sku_id", "forecast_date"),
    )
    publication = publish_snapshot(
        serving_dir(settings),
        draft,
        rows(dbt.ref("dim_sku"), SKU_COLUMNS),
        object_store=object_store_of(settings),
        page_tables=page_tables,
    )
    return publication.to_arrow()
