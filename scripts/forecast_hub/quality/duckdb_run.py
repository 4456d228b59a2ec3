"""The checkpoint on the duckdb target: batches whose keys are disjoint, metrics in DuckDB.

Why not pandas: GX 1.24 reaches DuckDB through its pandas engine only, which
holds a whole table in Python and takes 0.5 to 1.5 microseconds per row and
expectation, so the checkpoint outgrew the build (at 42M sales rows 122 s
against the build's 82 s, and 20.7 GB; out of memory past 45M). Why not pandas in
batches: the same microseconds, 200M silver rows and 200M fct_sales rows
through seven expectations is far longer than the build. So DuckDB computes
what each expectation needs, batch by batch (``metrics.py``), and GX's own
expectations judge those metrics and write the data docs, as they would
after their pandas engine.

Batches: each dataset is split by its ``batch_column``, a column of every key
it is checked for uniqueness on (the tenant), so no key can occur in two
batches and adding up the batches' counts gives the whole table's. Silver
sales is read from its Parquet files, which ingest writes in one folder per
tenant; every other dataset's query is written once to Parquet partitioned
by its batch column under ``<data_dir>/quality/batches`` (one streaming pass)
and each partition is read back as one batch. The only dataset without a
batch column, the one-row freshness check, is a single batch.

Bound: DuckDB holds one batch's work (at most the key hash table of one
tenant's rows) within ``QUALITY_MEMORY_CAP`` or the settings' lower limit,
spilling past it; Python holds the counts and at most 20 values per
expectation. Time: one write of each dataset's columns and one to three
scans of each batch, linear in rows.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from great_expectations import __version__ as gx_version
from great_expectations.core import ExpectationSuite
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.validator.validation_statistics import calc_validation_statistics

from forecast_hub.duckdb_limits import apply_limits
from forecast_hub.errors import UserError
from forecast_hub.quality.checks import Dataset
from forecast_hub.quality.datadocs import SITE_NAME
from forecast_hub.quality.metrics import validate
from forecast_hub.settings import Settings

DATASOURCE = "duckdb_warehouse"
# The checkpoint's DuckDB needs one batch's key hash table, not the build's memory.
QUALITY_MEMORY_CAP = 2**30


@dataclass(frozen=True)
class BatchPlan:
    """Where a dataset's batches come from: one FROM clause per batch."""

    dataset: Dataset
    sources: list[str]
    description: str


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@contextmanager
def warehouse_connection(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse, read-only, within the checkpoint's memory cap."""
    warehouse = settings.warehouse_path
    if not warehouse.exists():
        raise UserError(f"no warehouse at {warehouse}; run `dbt build` first")
    try:
        connection = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as error:
        raise UserError(
            f"the warehouse {warehouse} is in use by another process; run the checkpoint after it"
        ) from error
    try:
        connection.execute("set TimeZone = 'UTC'")
        connection.execute("set enable_progress_bar = false")
        apply_limits(connection, settings, "quality", QUALITY_MEMORY_CAP)
        yield connection
    finally:
        connection.close()


def plan_batches(
    connection: duckdb.DuckDBPyConnection, settings: Settings, dataset: Dataset, work: Path
) -> BatchPlan:
    """Split one dataset into batches whose keys are disjoint (see the module's docstring)."""
    if dataset.silver_query is not None:
        feed = settings.silver_dir / dataset.silver_query.feed
        folders = sorted(feed.glob(f"{dataset.batch_column}=*")) if feed.is_dir() else []
        if not folders:
            raise UserError(
                f"no silver {dataset.silver_query.feed} under {feed}; run `ingest` first"
            )
        sources = [
            "(" + dataset.silver_query.over(_parquet(folder / "**" / "*.parquet", False)) + ")"
            for folder in folders
        ]
        return BatchPlan(dataset, sources, f"silver Parquet, one batch per {dataset.batch_column}")
    query = dataset.query("duckdb")
    if dataset.batch_column is None:
        return BatchPlan(dataset, [f"({query})"], "one batch")
    target = work / dataset.name
    shutil.rmtree(target, ignore_errors=True)
    connection.execute(
        f"copy ({query}) to {_literal(str(target))}"
        f" (format parquet, partition_by ({dataset.batch_column}))"
    )
    folders = sorted(target.glob(f"{dataset.batch_column}=*")) if target.is_dir() else []
    sources = [_parquet(folder / "*.parquet", True) for folder in folders]
    return BatchPlan(dataset, sources, f"one batch per {dataset.batch_column}")


def _parquet(pattern: Path, hive: bool) -> str:
    """Parquet files as a FROM clause; with ``hive`` the batch column comes from the folder name.

    The folder's value is read back as text (the tenant id), never guessed
    as a number or a date.
    """
    options = (
        "hive_partitioning = true, hive_types_autocast = false"
        if hive
        else ("hive_partitioning = false")
    )
    return f"read_parquet({_literal(str(pattern))}, {options})"


def validate_dataset(
    connection: duckdb.DuckDBPyConnection,
    plan: BatchPlan,
    suite: ExpectationSuite,
    run_id: RunIdentifier,
) -> tuple[ValidationResultIdentifier, ExpectationSuiteValidationResult]:
    """The suite's result over every batch of the plan, as a GX validation stores it."""
    dataset = plan.dataset
    results = validate(suite.expectations, plan.sources, connection)
    statistics = calc_validation_statistics(results)
    batch_id = f"{DATASOURCE}-{dataset.name}"
    meta: dict[str, Any] = {
        "great_expectations_version": gx_version,
        # The index page shows the batch spec in each row: names only, no SQL.
        "batch_spec": {"batching": plan.description, "batches": len(plan.sources)},
        "batch_markers": {"ge_load_time": run_id.run_time.strftime("%Y%m%dT%H%M%S.%fZ")},
        "active_batch_definition": {
            "datasource_name": DATASOURCE,
            "data_connector_name": "fluent",
            "data_asset_name": dataset.name,
            "batch_identifiers": {},
        },
        "validation_id": None,
        "checkpoint_id": None,
        "run_id": run_id,
        "validation_time": run_id.run_time,
        "batch_parameters": None,
    }
    suite_result = ExpectationSuiteValidationResult(
        results=results,
        success=statistics.success,
        suite_name=suite.name,
        statistics={
            "evaluated_expectations": statistics.evaluated_expectations,
            "successful_expectations": statistics.successful_expectations,
            "unsuccessful_expectations": statistics.unsuccessful_expectations,
            "success_percent": statistics.success_percent,
        },
        meta=meta,
        batch_id=batch_id,
    )
    key = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
        run_id=run_id,
        batch_identifier=batch_id,
    )
    return key, suite_result


def validate_warehouse(
    settings: Settings,
    checks: list[Dataset],
    suites: dict[str, ExpectationSuite],
    run_id: RunIdentifier,
) -> dict[ValidationResultIdentifier, ExpectationSuiteValidationResult]:
    """Every dataset's suite result, validated batch by batch in the DuckDB warehouse."""
    work = settings.data_dir / "quality" / "batches"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    results = {}
    try:
        with warehouse_connection(settings) as connection:
            for dataset in checks:
                plan = plan_batches(connection, settings, dataset, work)
                key, result = validate_dataset(connection, plan, suites[dataset.name], run_id)
                shutil.rmtree(work / dataset.name, ignore_errors=True)
                results[key] = result
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def run_duckdb(
    settings: Settings, context: Any, checks: list[Dataset], suites: dict[str, ExpectationSuite]
) -> dict[ValidationResultIdentifier, ExpectationSuiteValidationResult]:
    """Validate every dataset in the DuckDB warehouse, store the results, build the docs."""
    run_id = RunIdentifier(run_time=dt.datetime.now(dt.UTC))
    results = validate_warehouse(settings, checks, suites, run_id)
    store = context.validation_results_store
    identifiers: list[Any] = []
    for key, result in results.items():
        store.store_validation_results(
            suite_validation_result=result,
            suite_validation_result_identifier=key,
            expectation_suite_identifier=key.expectation_suite_identifier,
        )
        identifiers.extend([key, key.expectation_suite_identifier])
    # What GX's UpdateDataDocsAction does after a checkpoint's validations.
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=identifiers)
    return results
