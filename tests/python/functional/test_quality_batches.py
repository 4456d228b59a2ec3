"""The batched checkpoint on DuckDB gives the unbatched checkpoint's results.

The unbatched checkpoint is GX's pandas engine over each dataset's whole
query, as the checkpoint ran before it was batched. On the test build (three
tenants, so three batches per dataset) both must agree on every expectation:
success, counts, percentages and unexpected values; only the row positions
pandas reports (partial_unexpected_index_list) have no batched counterpart.
A bad value planted in one tenant's batch must be found, and counted, as the
unbatched checkpoint finds it.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
import pytest

from forecast_hub.errors import UserError
from forecast_hub.quality.checks import Dataset, datasets
from forecast_hub.quality.duckdb_run import validate_warehouse
from forecast_hub.settings import Settings

# Row positions of one pandas frame: a batch has none.
POSITIONS = "partial_unexpected_index_list"


def _checks(settings: Settings) -> list[Dataset]:
    silver = settings.silver_dir / "sales" / "**" / "*.parquet"
    return datasets(f"read_parquet('{silver}', hive_partitioning = false)")


def _suites(checks: list[Dataset]) -> dict[str, gx.ExpectationSuite]:
    return {
        dataset.name: gx.ExpectationSuite(
            name=f"forecast_hub.{dataset.name}", expectations=dataset.expectations()
        )
        for dataset in checks
    }


def _plain(value: Any) -> Any:
    """A value as both engines may hand it: numpy scalars, NaN for a missing float."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date()
    return value


def _comparable(result: dict[str, Any]) -> dict[str, Any]:
    plain = {key: _plain(value) for key, value in result.items() if key != POSITIONS}
    for key in ("partial_unexpected_list", "partial_unexpected_counts"):
        if key in plain:
            plain[key] = sorted(plain[key], key=repr)
    return plain


def batched(settings: Settings) -> dict[str, list[tuple[bool, dict[str, Any]]]]:
    """The batched checkpoint's outcome of each expectation, by dataset."""
    checks = _checks(settings)
    run_id = gx.core.run_identifier.RunIdentifier(run_time=dt.datetime.now(dt.UTC))
    results = validate_warehouse(settings, checks, _suites(checks), run_id)
    by_name = {result.asset_name: result for result in results.values()}
    return {
        dataset.name: [
            (bool(outcome.success), _comparable(outcome.result))
            for outcome in by_name[dataset.name].results
        ]
        for dataset in checks
    }


def unbatched(settings: Settings) -> dict[str, list[tuple[bool, dict[str, Any]]]]:
    """GX's pandas engine over each dataset's whole query: the checkpoint before batches."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    checks = _checks(settings)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("whole_tables")
    connection = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        connection.execute("set TimeZone = 'UTC'")
        outcomes = {}
        for dataset, suite in zip(checks, _suites(checks).values(), strict=True):
            frame = connection.sql(dataset.query("duckdb")).to_arrow_table().to_pandas()
            batch = (
                source.add_dataframe_asset(dataset.name)
                .add_batch_definition_whole_dataframe("all")
                .get_batch(batch_parameters={"dataframe": frame})
            )
            outcomes[dataset.name] = [
                (bool(outcome.success), _comparable(outcome.result))
                for outcome in batch.validate(suite, result_format="SUMMARY").results
            ]
    finally:
        connection.close()
    return outcomes


def test_on_the_test_build_batched_equals_unbatched(built: Settings) -> None:
    tenants = duckdb.connect(str(built.warehouse_path), read_only=True)
    try:
        ((count,),) = tenants.execute(
            "select count(distinct tenant_id) from gold.fct_sales"
        ).fetchall()
    finally:
        tenants.close()
    assert count > 1, "the test build must have more than one batch"
    got, want = batched(built), unbatched(built)
    assert got == want
    assert all(success for outcomes in got.values() for success, _ in outcomes)


def test_a_bad_value_planted_in_one_batch_is_found_as_unbatched_finds_it(
    plant: Callable[[Path, str], Settings], tmp_path: Path
) -> None:
    """One tenant's batch gets a negative sale and a doubled key; no other batch changes."""
    settings = plant(
        tmp_path,
        "update gold.fct_sales set units_sold = -3"
        " where (tenant_id, sku_id, location_id, sale_date) in"
        " (select tenant_id, sku_id, location_id, sale_date from gold.fct_sales"
        "  order by tenant_id desc, sale_date limit 1);"
        " insert into gold.fct_sales select * from gold.fct_sales"
        " where (tenant_id, sku_id, location_id, sale_date) in"
        " (select tenant_id, sku_id, location_id, sale_date from gold.fct_sales"
        "  order by tenant_id desc, sale_date desc limit 1)",
    )
    got, want = batched(settings), unbatched(settings)
    assert got == want
    failed = {
        name: [result for success, result in outcomes if not success]
        for name, outcomes in got.items()
    }
    assert {name for name, results in failed.items() if results} == {"fct_sales"}
    unique, between = failed["fct_sales"]
    assert unique["unexpected_count"] == 2 and len(unique["partial_unexpected_list"]) == 2
    assert between["unexpected_count"] == 1
    assert [float(value) for value in between["partial_unexpected_list"]] == [-3.0]


@pytest.mark.parametrize("name", ["silver_sales", "fct_sales", "fct_forecast_draft"])
def test_each_large_dataset_is_split_by_tenant(name: str) -> None:
    (dataset,) = [dataset for dataset in datasets("silver") if dataset.name == name]
    assert dataset.batch_column == "tenant_id"
    for expectation in dataset.expectations():
        column_list = getattr(expectation, "column_list", None)
        if column_list is not None:
            assert dataset.batch_column in column_list


def test_a_warehouse_without_silver_is_one_clear_error(built: Settings, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    shutil.copytree(built.warehouse_dir, settings.warehouse_dir)
    with pytest.raises(UserError, match=r"no silver sales under .*; run `ingest` first"):
        batched(settings)
