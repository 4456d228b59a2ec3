"""The Snowflake target proven offline: land and build on the emulator, compare with duckdb.

One small generated dataset is landed twice: on the duckdb target (land,
hybrid, dbt build) and on the Snowflake emulator (PUT + COPY through the
stage, reconciled with the manifest by Snowpark, the standard-table variant
of the hybrid DDL, dbt build on the emulator target). The gold outputs people
use, the forecast draft with its interval, the backtest accuracy, its
per-tenant roll-up and v_forecast, must be equal row for row, after the
first build and after an incremental one over a new batch of files; and
the planning page's endpoints must answer the same from the emulator's
tables as from the build's published files.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import httpx
import pytest
from api_backends import Server

from conftest import subprocess_env
from fixtures.builds import copy_build, run_command
from forecast_hub.api.tokens import add_token
from forecast_hub.errors import UserError
from forecast_hub.feeds import FEEDS
from forecast_hub.quality import run_quality_checkpoint
from forecast_hub.settings import Settings
from forecast_hub.snowflake.connection import connect, snowpark_session
from forecast_hub.snowflake.ddl import apply_target_ddl
from forecast_hub.snowflake.emulator import EmulatorState, running_emulator
from forecast_hub.snowflake.land import SnowflakeLandSummary, land_target
from forecast_hub.snowflake.reconcile import FileMismatch, expected_rows, reconcile_landing
from forecast_hub.snowflake.settings import EMULATOR_PORT_ENV, SnowflakeSettings

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[3]
TOLERANCE = 1e-9
# Every model, snapshot and data test; dbt unit tests run on duckdb (the
# emulator cannot run them). The one Python model, which publishes the
# duckdb build to the API's folder, is disabled off duckdb by its config.
EMULATOR_EXCLUDE = ["--exclude-resource-type", "unit_test"]

GOLD_QUERIES = {
    "draft": (
        "select tenant_id, sku_id, forecast_date, step, draft_qty, lower_qty, upper_qty,"
        " method, members from gold.fct_forecast_draft order by tenant_id, sku_id, forecast_date"
    ),
    "accuracy": (
        "select tenant_id, sku_id, method, wape, mae, bias, window_1_wape, window_1_mae,"
        " window_1_bias, window_1_coverage, window_count, holdout_periods, window_1_periods,"
        " method_rank, nested_rank, is_member, is_nested_member, is_selected"
        " from gold.fct_forecast_accuracy order by tenant_id, sku_id, method"
    ),
    "accuracy_by_tenant": (
        "select tenant_id, method, series_count, holdout_periods, wape, mae, bias,"
        " interval_coverage, interval_level"
        " from gold.fct_forecast_accuracy_by_tenant order by tenant_id, method"
    ),
    "v_forecast": (
        "select tenant_id, sku_id, forecast_date, step, draft_qty, lower_qty, upper_qty,"
        " manual_qty, forecast_qty, is_manual, show_manual, method, members, edited_by,"
        " edited_at, edited_at is null"
        " from serving.v_forecast order by tenant_id, sku_id, forecast_date"
    ),
}
SALES_QUERY = (
    "select tenant_id, sku_id, location_id, sale_date, units_sold, updated_at, version_count"
    " from gold.fct_sales order by tenant_id, sku_id, location_id, sale_date"
)
# The second build: the sales deduplication and fct_sales, both incremental,
# and everything downstream of them.
INCREMENTAL_BUILD = ["build", "--select", "int_sales_deduplicated+", *EMULATOR_EXCLUDE]


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
    first_landing: SnowflakeLandSummary | None = None
    wall_seconds: dict[str, float] = field(default_factory=dict)

    def run(self, command: list[str], env: dict[str, str] | None = None) -> str:
        return run_command(command, env or self.env)

    def emulator_env(self) -> dict[str, str]:
        assert self.emulator is not None
        return dict(self.env, **{EMULATOR_PORT_ENV: str(self.emulator.port)})

    def dbt(self, target: str, *args: str) -> None:
        env = self.env if self.emulator is None else self.emulator_env()
        paths = [
            "--target-path", str(self.data_dir / f"target-{target}"),
            "--log-path", str(self.data_dir / f"logs-{target}"),
        ]  # fmt: skip
        self.run([*_tool("dbt"), *args, "--target", target, *paths], env)

    def emulator_settings(self) -> SnowflakeSettings:
        assert self.emulator is not None
        return SnowflakeSettings.emulator(self.emulator.port, env={})

    def timed(self, name: str, step: Callable[..., T], *args: Any) -> T:
        """Run one step and keep its wall time (seconds) under ``name``."""
        started = time.perf_counter()
        result = step(*args)
        self.wall_seconds[name] = round(time.perf_counter() - started, 1)
        return result


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


def execute_on_emulator(builds: Builds, sql: str, params: tuple[Any, ...]) -> int:
    """Run one statement on the emulator; how many rows it changed."""
    connection = connect(builds.emulator_settings())
    try:
        return int(connection.cursor().execute(sql, params).rowcount or 0)
    finally:
        connection.close()


def query_duckdb(builds: Builds, sql: str) -> list[tuple[Any, ...]]:
    warehouse = builds.data_dir / "warehouse" / "forecast_hub.duckdb"
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = connection.sql(sql).fetchall()
    finally:
        connection.close()
    return [tuple(_normalise(value) for value in row) for row in rows]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, duckdb_build: Path) -> Iterator[Builds]:
    """The session's duckdb build (generated, ingested, landed, hybrid, dbt build), copied."""
    data_dir = copy_build(duckdb_build, tmp_path_factory.mktemp("emulator_build"))
    env = subprocess_env(data_dir)
    built = Builds(data_dir, env)

    with running_emulator(data_dir / "emulator") as emulator:
        built.emulator = emulator
        built.first_landing = built.timed(
            "emulator_land", land_target, Settings(data_dir=data_dir), built.emulator_settings()
        )
        apply_target_ddl(built.emulator_settings(), "before_build")
        built.timed("emulator", built.dbt, "emulator", "build", *EMULATOR_EXCLUDE)
        print(f"\nwall times of the first builds (s): {built.wall_seconds}")
        yield built
        print(f"\nwall times of every step (s): {built.wall_seconds}")


def differences_from_duckdb(builds: Builds, sql: str) -> list[Any]:
    """Rows of a query that differ between the two warehouses (at most three shown)."""
    expected = query_duckdb(builds, sql)
    got = query_emulator(builds, sql)
    assert expected, f"the duckdb build has no rows for {sql}: the dataset is too small to compare"
    assert len(got) == len(expected)
    different = [
        (want, have)
        for want, have in zip(expected, got, strict=True)
        if len(want) != len(have) or not all(_same(a, b) for a, b in zip(want, have, strict=True))
    ]
    return different[:3]


@pytest.mark.parametrize("output", sorted(GOLD_QUERIES))
def test_gold_outputs_equal_duckdb_row_for_row(builds: Builds, output: str) -> None:
    assert differences_from_duckdb(builds, GOLD_QUERIES[output]) == []


def _differences(want: Any, have: Any, where: str = "") -> list[str]:
    """Where two backends' answers differ (floats within TOLERANCE): each path and values."""
    if isinstance(want, dict) and isinstance(have, dict):
        if want.keys() != have.keys():
            return [f"{where}: keys {sorted(want)} != {sorted(have)}"]
        return [d for key in want for d in _differences(want[key], have[key], f"{where}.{key}")]
    if isinstance(want, list) and isinstance(have, list):
        if len(want) != len(have):
            return [f"{where}: {len(want)} items != {len(have)}"]
        return [
            d
            for index, (a, b) in enumerate(zip(want, have, strict=True))
            for d in _differences(a, b, f"{where}[{index}]")
        ]
    return [] if _same(want, have) else [f"{where}: {want!r} != {have!r}"]


def _page_answers(server: Server, token: str, tenant_id: str) -> list[Any]:
    """What the planning page reads of a tenant: its SKUs and roll-up, and the history and
    accuracy of every fifth SKU."""
    with httpx.Client(base_url=server.url, timeout=60) as client:

        def read(resource: str, **params: Any) -> Any:
            answer = client.get(
                f"/v1/tenants/{tenant_id}/{resource}",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200, answer.text
            return answer.json()

        skus = read("skus", limit=10_000)
        answers = [skus, read("accuracy")]
        for row in skus["rows"][::5]:
            answers.append(read("history", sku_id=row["sku_id"], limit=10_000))
            answers.append(read("accuracy", sku_id=row["sku_id"]))
        return answers


def test_the_planning_pages_endpoints_answer_the_same_from_the_warehouse(
    builds: Builds,
) -> None:
    """`serve --target emulator` reads the warehouse's gold tables, `serve` on duckdb the
    build's published files: the same SKUs, history and accuracy."""
    ((tenant_id,),) = query_duckdb(builds, "select min(tenant_id) from gold.dim_tenant")
    token = add_token(builds.data_dir / "api" / "tokens.json", tenant_id, "ann")
    assert builds.emulator is not None
    answers = []
    for target, env in (
        ("duckdb", {}),
        ("emulator", {EMULATOR_PORT_ENV: str(builds.emulator.port)}),
    ):
        server = Server(builds.data_dir, target, env)
        server.start()
        try:
            answers.append(_page_answers(server, token, tenant_id))
        finally:
            server.stop()
    published, warehouse = answers
    assert len(published[0]["rows"]) >= 10 and any(a.get("rows") for a in published[2:])
    assert _differences(published, warehouse)[:10] == []


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


def test_landing_reconciles_every_silver_file_with_the_manifest(builds: Builds) -> None:
    expected = expected_rows(Settings(data_dir=builds.data_dir))
    files = sum(len(of_feed) for of_feed in expected.values())
    assert builds.first_landing is not None
    assert builds.first_landing.files_reconciled == files > 0
    settings = builds.emulator_settings()
    with snowpark_session(settings) as session:
        assert reconcile_landing(session, expected, named_values=True) == []


def test_rows_missing_from_a_landed_file_fail_the_landing_naming_the_file(builds: Builds) -> None:
    """A few rows of one file are moved to a file the manifest does not know, then put back."""
    settings = Settings(data_dir=builds.data_dir)
    expected = expected_rows(settings)
    silver_file, rows = max(expected["sales"].items(), key=lambda item: item[1])
    lost = f"lost/{silver_file}"
    [(first_line,)] = query_emulator(
        builds, f"select min(source_line) from raw.sales where silver_file = '{silver_file}'"
    )
    moved = execute_on_emulator(
        builds,
        "update raw.sales set silver_file = %s where silver_file = %s and source_line < %s",
        (lost, silver_file, first_line + 3),
    )
    assert 0 < moved < rows
    try:
        emulator = builds.emulator_settings()
        with snowpark_session(emulator) as session:
            mismatches = reconcile_landing(session, expected, named_values=True)
        assert mismatches == [
            FileMismatch("sales", lost, 0, moved),
            FileMismatch("sales", silver_file, rows, rows - moved),
        ]
        with pytest.raises(UserError) as failed:
            land_target(settings, emulator)
        message = str(failed.value)
        assert f"{silver_file}: {rows - moved} of {rows} rows landed" in message
        assert f"{lost}: {moved} rows landed, not in the manifest" in message
        assert "\n" not in message
    finally:
        execute_on_emulator(
            builds,
            "update raw.sales set silver_file = %s where silver_file = %s",
            (silver_file, lost),
        )
    restored = land_target(settings, builds.emulator_settings())
    assert restored.files_reconciled == sum(len(of_feed) for of_feed in expected.values())


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_an_incremental_build_over_new_files_still_equals_duckdb(builds: Builds) -> None:
    """A new batch corrects a few sales lines; both warehouses take it incrementally."""
    lines = query_duckdb(builds, SALES_QUERY)
    tenant = lines[0][0]
    corrected = [line for line in lines if line[0] == tenant][:4]
    _write_csv(
        builds.data_dir / "bronze" / tenant / "sales" / "sales_zz_corrections.csv",
        [
            {
                "sku_code": line[1],
                "location_code": line[2],
                "sale_date": line[3].isoformat(),
                "units_sold": float(line[4]) + 10,
                "updated_at": (line[5] + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for line in corrected
        ],
    )
    builds.run([*_forecast_hub(), "ingest"])
    builds.run([*_forecast_hub(), "land", "--target", "duckdb"])
    landed = builds.timed(
        "emulator_land_again",
        builds.run,
        [*_forecast_hub(), "land", "--target", "emulator"],
        builds.emulator_env(),
    )
    assert "landed 1 new silver files" in landed and "landed exactly once" in landed
    builds.timed("duckdb_incremental", builds.dbt, "duckdb", *INCREMENTAL_BUILD)
    builds.timed("emulator_incremental", builds.dbt, "emulator", *INCREMENTAL_BUILD)

    for sql in (SALES_QUERY, *GOLD_QUERIES.values()):
        assert differences_from_duckdb(builds, sql) == [], sql
    keys = {line[:4] for line in corrected}
    now = {line[:4]: line for line in query_emulator(builds, SALES_QUERY) if line[:4] in keys}
    assert [float(now[line[:4]][4]) for line in corrected] == [
        float(line[4]) + 10 for line in corrected
    ]


# The SKU snapshot and what it reads, rebuilt from raw.
SNAPSHOT_BUILD = ["build", "--select", "+skus_snapshot", *EMULATOR_EXCLUDE]
SNAPSHOT_QUERY = (
    "select tenant_id, sku_id, sku_name, dbt_scd_id, dbt_valid_from, dbt_valid_to,"
    " dbt_valid_to is null from snapshots.skus_snapshot"
    " order by tenant_id, sku_id, dbt_valid_from"
)


def _csv_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def test_a_later_snapshot_closes_changed_rows_as_on_duckdb(builds: Builds) -> None:
    """A new file renames two SKUs: the next snapshot closes their rows and opens new ones."""
    columns = [c.name for c in FEEDS["skus"].columns]
    latest = query_duckdb(
        builds,
        f"select tenant_id, {', '.join(columns)} from raw.skus"
        " qualify row_number() over (partition by tenant_id, sku_code order by updated_at desc) = 1"
        " order by tenant_id, sku_code limit 2",
    )
    tenant = latest[0][0]
    renamed = [dict(zip(columns, row[1:], strict=True)) for row in latest if row[0] == tenant]
    for sku in renamed:
        sku["sku_name"] = f"{sku['sku_name']} (renamed)"
        sku["updated_at"] += dt.timedelta(days=1)
    _write_csv(
        builds.data_dir / "bronze" / tenant / "skus" / "skus_zz_renamed.csv",
        [{name: _csv_value(value) for name, value in sku.items()} for sku in renamed],
    )
    builds.run([*_forecast_hub(), "ingest"])
    builds.run([*_forecast_hub(), "land", "--target", "duckdb"])
    builds.run([*_forecast_hub(), "land", "--target", "emulator"], builds.emulator_env())
    builds.timed("duckdb_snapshot", builds.dbt, "duckdb", *SNAPSHOT_BUILD)
    builds.timed("emulator_snapshot", builds.dbt, "emulator", *SNAPSHOT_BUILD)

    assert differences_from_duckdb(builds, SNAPSHOT_QUERY) == []
    history = query_emulator(
        builds,
        "select sku_name, dbt_valid_to is null from snapshots.skus_snapshot"
        f" where tenant_id = '{tenant}' and sku_id = '{renamed[0]['sku_code']}'"
        " order by dbt_valid_from",
    )
    assert history == [(renamed[0]["sku_name"].removesuffix(" (renamed)"), False),
                       (renamed[0]["sku_name"], True)]  # fmt: skip
