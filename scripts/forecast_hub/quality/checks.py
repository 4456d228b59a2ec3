"""What the checkpoint checks: one dataset per rule family, each a query and its expectations.

dbt's data tests guard the build; these guard what people receive, after
the build, in the form a data steward reads (GX data docs). Each dataset is
a query over the warehouse, so the same expectations run on DuckDB (metrics
computed by DuckDB batch by batch, see ``duckdb_run.py``) and on Snowflake
(the query as a GX query asset).

Each dataset names its ``batch_column``: a column of every key it is checked
for uniqueness on, so that splitting its rows by that column's value never
puts one key in two batches. It is the tenant throughout (every key here
starts with it); the freshness check is one row and has none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import great_expectations.expectations as gxe

Dialect = Literal["duckdb", "snowflake"]

# A build older than this is stale: the daily build has not run.
MAX_BUILD_AGE_HOURS = 26.0


@dataclass(frozen=True)
class SilverQuery:
    """On DuckDB a dataset read from the silver Parquet files of one feed, not a table."""

    feed: str
    columns: tuple[str, ...]

    def over(self, source: str) -> str:
        """The dataset's query over ``source``, a FROM clause reading some of those files."""
        return f"select {', '.join(self.columns)} from {source}"


@dataclass(frozen=True)
class Dataset:
    """One query and the expectations its rows must meet."""

    name: str
    queries: dict[Dialect, str]
    expectations: Callable[[], list[gxe.Expectation]]
    batch_column: str | None = "tenant_id"
    silver_query: SilverQuery | None = None

    def query(self, dialect: Dialect) -> str:
        return self.queries[dialect]


def _same(sql: str) -> dict[Dialect, str]:
    return {"duckdb": sql, "snowflake": sql}


def _silver_sales() -> list[gxe.Expectation]:
    return [
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["tenant_id", "source_file", "source_line"]
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="units_sold"),
        gxe.ExpectColumnValuesToBeBetween(column="units_sold", min_value=0),
    ]


def _fct_sales() -> list[gxe.Expectation]:
    return [
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["tenant_id", "sku_id", "location_id", "sale_date"]
        ),
        gxe.ExpectColumnValuesToBeBetween(column="units_sold", min_value=0),
    ]


def _draft() -> list[gxe.Expectation]:
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["tenant_id", "sku_id", "forecast_date"]),
        gxe.ExpectColumnValuesToNotBeNull(column="draft_qty"),
        gxe.ExpectColumnValuesToBeBetween(column="draft_qty", min_value=0),
    ]


def _draft_horizon() -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeBetween(column="first_step", min_value=1, max_value=1),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="periods", column_B="horizon_periods"),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="last_step", column_B="horizon_periods"),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="dates", column_B="horizon_periods"),
    ]


def _accuracy() -> list[gxe.Expectation]:
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["tenant_id", "sku_id", "method"]),
        gxe.ExpectColumnValuesToBeBetween(column="wape", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="mae", min_value=0),
        gxe.ExpectColumnValuesToBeBetween(column="holdout_periods", min_value=1),
        gxe.ExpectColumnValuesToBeBetween(column="selected_methods", min_value=1, max_value=1),
    ]


def _freshness() -> list[gxe.Expectation]:
    return [
        gxe.ExpectTableRowCountToEqual(value=1),
        gxe.ExpectColumnValuesToNotBeNull(column="build_age_hours"),
        gxe.ExpectColumnValuesToBeBetween(
            column="build_age_hours", min_value=-0.1, max_value=MAX_BUILD_AGE_HOURS
        ),
    ]


SILVER_SALES = SilverQuery("sales", ("tenant_id", "source_file", "source_line", "units_sold"))


def datasets(silver_sales_duckdb: str) -> list[Dataset]:
    """The checkpoint's datasets; on DuckDB silver is read from its Parquet files.

    ``silver_sales_duckdb`` is the FROM clause of all of silver sales; the
    batched run reads one tenant's folder per batch instead (``silver_query``).
    """
    return [
        Dataset(
            "silver_sales",
            {
                "duckdb": SILVER_SALES.over(silver_sales_duckdb),
                "snowflake": SILVER_SALES.over("raw.sales"),
            },
            _silver_sales,
            silver_query=SILVER_SALES,
        ),
        Dataset(
            "fct_sales",
            _same(
                "select tenant_id, sku_id, location_id, sale_date, units_sold from gold.fct_sales"
            ),
            _fct_sales,
        ),
        Dataset(
            "fct_forecast_draft",
            _same(
                "select tenant_id, sku_id, forecast_date, step, draft_qty"
                " from gold.fct_forecast_draft"
            ),
            _draft,
        ),
        Dataset(
            "draft_horizon",
            _same(
                "select draft.tenant_id, draft.sku_id,"
                " count(*) as periods, count(distinct draft.forecast_date) as dates,"
                " min(draft.step) as first_step, max(draft.step) as last_step,"
                " min(tenant.horizon_periods) as horizon_periods"
                " from gold.fct_forecast_draft as draft"
                " inner join gold.dim_tenant as tenant on draft.tenant_id = tenant.tenant_id"
                " group by draft.tenant_id, draft.sku_id"
            ),
            _draft_horizon,
        ),
        Dataset(
            "fct_forecast_accuracy",
            _same(
                "select tenant_id, sku_id, method, wape, mae, bias, holdout_periods,"
                " sum(case when is_selected then 1 else 0 end)"
                " over (partition by tenant_id, sku_id) as selected_methods"
                " from gold.fct_forecast_accuracy"
            ),
            _accuracy,
        ),
        Dataset(
            "build_freshness",
            {
                "duckdb": (
                    "select date_diff('second', max(built_at),"
                    " cast(now() at time zone 'UTC' as timestamp)) / 3600.0 as build_age_hours"
                    " from gold.fct_forecast_draft"
                ),
                "snowflake": (
                    "select datediff(second, max(built_at),"
                    " convert_timezone('UTC', current_timestamp())::timestamp_ntz) / 3600.0"
                    " as build_age_hours from gold.fct_forecast_draft"
                ),
            },
            _freshness,
            batch_column=None,
        ),
    ]
