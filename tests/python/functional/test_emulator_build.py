"""The Snowflake target proven offline: land and build on the emulator, compare with duckdb.

One small generated dataset is landed twice: on the duckdb target (land,
hybrid, dbt build) and on the Snowflake emulator (PUT + COPY through the
stage, the standard-table variant of the hybrid DDL, dbt build on the
emulator target). The gold outputs people use, the forecast draft, the
backtest accuracy and v_forecast, must be equal row for row.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from forecast_hub.quality import run_quality_checkpoint
from forecast_hub.settings import Settings
from forecast_hub.snowflake.connection import connect
from forecast_hub.snowflake.ddl import apply_target_ddl
from forecast_hub.snowflake.emulator import EmulatorState, running_emulator
from forecast_hub.snowflake.land import land_target
from forecast_hub.snowflake.settings import EMULATOR_PORT_ENV, SnowflakeSettings

REPO = Path(__file__).resolve().parents[3]
GENERATE_ARGS = ["--tenants", "3", "--skus", "20", "--locations", "2", "--days", "200"]
TOLERANCE = 1e-9
# dbt Python models run as Snowpark stored procedures, which the emulator
# cannot run; this one only publishes the duckdb build to the API's folder.
EMULATOR_EXCLUDE = ["--exclude", "forecast_draft_published", "--exclude-resource-type", "unit_test"]

GOLD_QUERIES = {
    "draft": (
        "select tenant_id, sku_id, forecast_date, step, draft_qty, method"
        " from gold.fct_forecast_draft order by tenant_id, sku_id, forecast_date"
    ),
    "accuracy": (
        "select tenant_id, sku_id, method, wape, mae, bias, holdout_periods, is_selected"
        " from gold.fct_forecast_accuracy order by tenant_id, sku_id, method"
    ),
    "v_forecast": (
        "select tenant_id, sku_id, forecast_date, step, draft_qty, manual_qty, forecast_qty,"
        " is_manual, show_manual, method, edited_by, edited_at, edited_at is null"
        " from serving.v_forecast order by tenant_id, sku_id, forecast_date"
    ),
}


def _tool(name: str) -> list[str]:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed in this environment"
    return [found]


def _forecast_hub() -> list[str]:
    installed = Path(sys.executable).with_name("forecast-hub")
    if installed.exists():
        return [str(installed)]
    return [sys.executable, "-c", "from forecast_hub.cli import main; main()"]


@dataclass
class Builds:
    data_dir: Path
    env: dict[str, str]
    emulator: EmulatorState | None = None
    wall_seconds: dict[str, float] = field(default_factory=dict)

    def run(self, command: list[str], env: dict[str, str] | None = None) -> None:
        done = subprocess.run(
            command, cwd=REPO, env=env or self.env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, (
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-6000:]}\n"
            f"{done.stderr[-4000:]}"
        )

    def dbt(self, target: str, *args: str) -> None:
        env = dict(self.env)
        if self.emulator is not None:
            env[EMULATOR_PORT_ENV] = str(self.emulator.port)
        paths = [
            "--target-path", str(self.data_dir / f"target-{target}"),
            "--log-path", str(self.data_dir / f"logs-{target}"),
        ]  # fmt: skip
        self.run([*_tool("dbt"), *args, "--target", target, *paths], env)

    def emulator_settings(self) -> SnowflakeSettings:
        assert self.emulator is not None
        return SnowflakeSettings.emulator(self.emulator.port, env={})


def _normalise(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float | int):
        return abs(a - b) <= TOLERANCE * max(1.0, abs(a))
    return a == b


def _without_epoch_nulls(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A null timestamp as None: the emulator sends it to clients as 1970-01-01.

    Queries that read a nullable timestamp select ``<column> is null`` right
    after it, so the flag restores the null the warehouse holds.
    """
    values = list(row)
    for index in range(1, len(values)):
        if values[index] is True and isinstance(values[index - 1], dt.datetime):
            values[index - 1] = None
    return tuple(values)


def query_emulator(builds: Builds, sql: str) -> list[tuple[Any, ...]]:
    connection = connect(builds.emulator_settings())
    try:
        rows = connection.cursor().execute(sql).fetchall()
    finally:
        connection.close()
    return [_without_epoch_nulls(tuple(_normalise(value) for value in row)) for row in rows]


def query_duckdb(builds: Builds, sql: str) -> list[tuple[Any, ...]]:
    warehouse = builds.data_dir / "warehouse" / "forecast_hub.duckdb"
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = connection.sql(sql).fetchall()
    finally:
        connection.close()
    return [tuple(_normalise(value) for value in row) for row in rows]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    data_dir = tmp_path_factory.mktemp("emulator_build")
    env = dict(os.environ)
    env["FORECAST_HUB_DATA_DIR"] = str(data_dir)
    env["DBT_PROFILES_DIR"] = str(REPO / "profiles")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "scripts"), env.get("PYTHONPATH")) if p
    )
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    built = Builds(data_dir, env)
    built.run([*_forecast_hub(), "generate", "--out", str(data_dir / "bronze"), *GENERATE_ARGS])
    built.run([*_forecast_hub(), "ingest"])
    built.run([*_forecast_hub(), "land", "--target", "duckdb"])
    built.run([*_forecast_hub(), "hybrid", "--target", "duckdb"])
    started = time.perf_counter()
    built.dbt("duckdb", "build")
    built.wall_seconds["duckdb"] = time.perf_counter() - started

    with running_emulator(data_dir / "emulator") as emulator:
        built.emulator = emulator
        started = time.perf_counter()
        land_target(Settings(data_dir=data_dir), built.emulator_settings())
        built.wall_seconds["emulator_land"] = time.perf_counter() - started
        apply_target_ddl(built.emulator_settings(), "before_build")
        started = time.perf_counter()
        built.dbt("emulator", "build", *EMULATOR_EXCLUDE)
        built.wall_seconds["emulator"] = time.perf_counter() - started
        print(f"\nwall time of dbt build: {built.wall_seconds}")
        yield built


@pytest.mark.parametrize("output", sorted(GOLD_QUERIES))
def test_gold_outputs_equal_duckdb_row_for_row(builds: Builds, output: str) -> None:
    expected = query_duckdb(builds, GOLD_QUERIES[output])
    got = query_emulator(builds, GOLD_QUERIES[output])
    assert expected, f"the duckdb build has no {output} rows: the dataset is too small to compare"
    assert len(got) == len(expected)
    different = [
        (want, have)
        for want, have in zip(expected, got, strict=True)
        if len(want) != len(have) or not all(_same(a, b) for a, b in zip(want, have, strict=True))
    ]
    assert different[:3] == []


def test_every_silver_row_is_landed_once_with_its_lineage(builds: Builds) -> None:
    for feed in ("sales", "skus", "locations", "sku_attributes", "promotions"):
        count = f"select count(*), count(distinct silver_file), count(loaded_at) from raw.{feed}"
        assert query_emulator(builds, count) == query_duckdb(builds, count), feed


def test_landing_again_loads_nothing(builds: Builds) -> None:
    before = query_emulator(builds, "select count(*) from raw.sales")
    summary = land_target(Settings(data_dir=builds.data_dir), builds.emulator_settings())
    assert summary.files_loaded == 0 and summary.rows_loaded == 0
    assert summary.files_already_loaded > 0
    assert query_emulator(builds, "select count(*) from raw.sales") == before


def test_quality_checkpoint_passes_through_the_snowflake_datasource(builds: Builds) -> None:
    quality_home = Settings(data_dir=builds.data_dir / "quality-emulator")
    result = run_quality_checkpoint(quality_home, builds.emulator_settings())
    assert result.failures == []
    assert result.success and result.evaluated >= 20
    assert result.data_docs_index.exists()
