"""The postgres target: land and build on PostgreSQL 15, compare with duckdb row for row.

One small generated dataset goes through both targets: land, hybrid and
dbt build on duckdb, and on a PostgreSQL server this module starts and stops
(`forecast-hub land --target postgres`, `hybrid --target postgres`,
`dbt build --target postgres`, dbt's unit tests included). The gold outputs
people use, fct_sales, the forecast draft, both accuracy tables and
v_forecast, must be equal row for row: after the first build, with the same
planner's edits in both planning stores, and after an incremental build over
a new batch of files.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from fixtures.builds import copy_build, run_command
from fixtures.postgres import reachable_folder
from forecast_hub.hybrid.store import format_timestamp
from forecast_hub.postgres.server import ServerState, running_postgres

REPO = Path(__file__).resolve().parents[3]
TOLERANCE = 1e-9

# Every column a person reads, ordered by the key; not the build's or the
# landing's own times, which differ between two builds by nature.
GOLD_QUERIES = {
    "fct_sales": (
        "select tenant_id, sku_id, location_id, sale_date, units_sold, net_revenue,"
        " currency_code, updated_at, version_count, source_file, source_file_seq, source_line"
        " from gold.fct_sales order by tenant_id, sku_id, location_id, sale_date"
    ),
    "draft": (
        "select tenant_id, sku_id, forecast_date, step, draft_qty, method"
        " from gold.fct_forecast_draft order by tenant_id, sku_id, forecast_date"
    ),
    "accuracy": (
        "select tenant_id, sku_id, method, wape, mae, bias, holdout_periods, is_selected,"
        " absolute_error_total, error_total, actual_total"
        " from gold.fct_forecast_accuracy order by tenant_id, sku_id, method"
    ),
    "accuracy_by_tenant": (
        "select tenant_id, method, series_count, holdout_periods, wape, mae, bias,"
        " absolute_error_total, actual_total"
        " from gold.fct_forecast_accuracy_by_tenant order by tenant_id, method"
    ),
    "v_forecast": (
        "select tenant_id, sku_id, forecast_date, step, draft_qty, manual_qty, forecast_qty,"
        " is_manual, show_manual, method, edited_by, edited_at"
        " from serving.v_forecast order by tenant_id, sku_id, forecast_date"
    ),
}


def _program(name: str) -> list[str]:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed in this environment"
    return [found]


@dataclass
class Builds:
    data_dir: Path
    env: dict[str, str]
    server: ServerState

    def run(self, *command: str) -> str:
        return run_command(list(command), self.env)

    def forecast_hub(self, *args: str) -> str:
        return self.run(sys.executable, "-m", "forecast_hub", *args)

    def dbt(self, target: str, *args: str) -> str:
        return self.run(
            *_program("dbt"), *args, "--target", target,
            "--target-path", str(self.data_dir / f"target-{target}"),
            "--log-path", str(self.data_dir / f"logs-{target}"),
        )  # fmt: skip

    def postgres(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(**self.server.connection.connect_parameters()) as conn:
            cursor = conn.execute(statement, params)
            rows = cursor.fetchall() if cursor.description else []
        return [tuple(_normalise(value) for value in row) for row in rows]

    def duckdb(self, statement: str) -> list[tuple[Any, ...]]:
        warehouse = self.data_dir / "warehouse" / "forecast_hub.duckdb"
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            rows = conn.sql(statement).fetchall()
        return [tuple(_normalise(value) for value in row) for row in rows]


def _normalise(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float | int):
        return abs(a - b) <= TOLERANCE * max(1.0, abs(a))
    return bool(a == b)


def differences(builds: Builds, statement: str) -> list[Any]:
    """Rows of a query that differ between the two warehouses (at most three shown)."""
    expected = builds.duckdb(statement)
    got = builds.postgres(statement)
    assert expected, f"the duckdb build has no rows for {statement}: the dataset is too small"
    assert len(got) == len(expected), statement
    different = [
        (want, have)
        for want, have in zip(expected, got, strict=True)
        if not all(_same(a, b) for a, b in zip(want, have, strict=True))
    ]
    return different[:3]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, duckdb_build: Path) -> Iterator[Builds]:
    """The session's duckdb build (generated, ingested, landed, hybrid, dbt build), copied,
    and the same silver files landed and built on PostgreSQL."""
    data_dir = copy_build(duckdb_build, tmp_path_factory.mktemp("postgres_build"))
    env = dict(os.environ, FORECAST_HUB_DATA_DIR=str(data_dir))
    env["DBT_PROFILES_DIR"] = str(REPO / "profiles")
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["PYTHONPATH"] = os.pathsep.join(
        path for path in (str(REPO / "scripts"), env.get("PYTHONPATH")) if path
    )
    with reachable_folder() as home, running_postgres(home / "postgres") as server:
        # The server's connection for the postgres target; the duckdb target keeps the
        # embedded edits store, which these tests write directly.
        env.update(
            line.split("=", 1)
            for line in server.connection.env_lines()
            if not line.startswith("FORECAST_HUB_EDITS_STORE=")
        )
        built = Builds(data_dir, env, server)
        built.forecast_hub("land", "--target", "postgres")
        built.forecast_hub("hybrid", "--target", "postgres")
        built.dbt("postgres", "build")
        yield built


@pytest.mark.parametrize("output", sorted(GOLD_QUERIES))
def test_gold_outputs_equal_duckdb_row_for_row(builds: Builds, output: str) -> None:
    assert differences(builds, GOLD_QUERIES[output]) == []


def test_every_silver_row_is_landed_once_with_its_lineage(builds: Builds) -> None:
    for feed in ("sales", "skus", "locations", "sku_attributes", "promotions"):
        count = f"select count(*), count(distinct silver_file), count(loaded_at) from raw.{feed}"
        assert builds.postgres(count) == builds.duckdb(count), feed
    history = "select silver_file, feed, tenant_id, source_file, row_count from raw.load_history"
    assert sorted(builds.postgres(history)) == sorted(builds.duckdb(history))


def test_hot_attribute_casts_agree_with_duckdb(builds: Builds) -> None:
    """PostgreSQL has no non-failing cast: its macros must null exactly what DuckDB nulls."""
    texts = ["2024-02-29", "2023-02-29", "1900-02-29", "2000-02-29", "0000-02-29", "2024-13-01",
             "2024-04-31", "2024-04-00", " 2024-04-30 ", "2024-4-30", "x", "12", "-0", "+1.25",
             "yes", "N", "99999999999999999999", "1.23456"]  # fmt: skip
    values = ", ".join(f"('{text}')" for text in texts) + ", (null)"
    select = (
        "select value, {{ days_between(\"date '2000-01-01'\", try_cast_text('value', 'date')) }}"
        " as days, {{ try_cast_text('value', 'integer') }} as whole,"
        " {{ try_cast_text('value', 'decimal') }} as number,"
        " {{ try_cast_text('value', 'boolean') }} as flag"
        f" from (values {values}) as texts (value) order by value"
    )
    shown = {
        target: json.loads(
            builds.dbt(
                target, "--quiet", "show", "--output", "json", "--limit", "100", "--inline", select
            )
        )["show"]
        for target in ("duckdb", "postgres")
    }
    assert len(shown["duckdb"]) == len(texts) + 1
    assert shown["postgres"] == shown["duckdb"]
    assert {row["value"]: row["days"] for row in shown["postgres"]}["2024-02-29"] == 8825


def _edit_both_stores(builds: Builds, draft: list[tuple[Any, ...]]) -> None:
    """One planner's edit per tenant, and the second tenant's default hides edits."""
    edited_at = dt.datetime(2026, 1, 5, 9, 30, tzinfo=dt.UTC)
    edits = [(row[0], row[1], row[2], float(row[4]) + 5.0) for row in draft]
    hidden_tenant = edits[1][0]
    store = sqlite3.connect(builds.data_dir / "edits" / "edits.sqlite")
    with store:
        for tenant, sku, date, qty in edits:
            store.execute(
                "insert into manual_edits_ht (tenant_id, sku_id, forecast_date, manual_qty,"
                " edited_by, edited_at, version) values (?, ?, ?, ?, 'ann', ?, 1)",
                (tenant, sku, date.isoformat(), qty, format_timestamp(edited_at)),
            )
        store.execute(
            "insert into user_prefs_ht values (?, '*', 0, ?)",
            (hidden_tenant, format_timestamp(edited_at)),
        )
    store.close()
    for tenant, sku, date, qty in edits:
        builds.postgres(
            "insert into planning.manual_edits_ht (tenant_id, sku_id, forecast_date, manual_qty,"
            " edited_by, edited_at, version) values (%s, %s, %s, %s, 'ann', %s, 1)",
            (tenant, sku, date, qty, edited_at.replace(tzinfo=None)),
        )
    builds.postgres(
        "insert into planning.user_prefs_ht values (%s, '*', false, %s)",
        (hidden_tenant, edited_at.replace(tzinfo=None)),
    )


def test_planners_edits_show_the_same_in_both_v_forecasts(builds: Builds) -> None:
    first_rows = builds.duckdb(
        "select distinct on (tenant_id) tenant_id, sku_id, forecast_date, step, draft_qty"
        " from gold.fct_forecast_draft order by tenant_id, sku_id, forecast_date"
    )
    draft = sorted(first_rows)[:2]
    assert len(draft) == 2
    _edit_both_stores(builds, draft)
    # The duckdb warehouse shows the edits store as of `hybrid`; PostgreSQL's is the store.
    builds.forecast_hub("hybrid", "--target", "duckdb")

    assert differences(builds, GOLD_QUERIES["v_forecast"]) == []
    shown = builds.postgres(
        "select tenant_id, is_manual, show_manual, forecast_qty - draft_qty"
        " from serving.v_forecast where manual_qty is not null order by tenant_id"
    )
    assert shown == [(draft[0][0], True, True, 5.0), (draft[1][0], False, False, 0.0)]


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_an_incremental_build_over_new_files_still_equals_duckdb(builds: Builds) -> None:
    """A new batch corrects a few sales lines; both warehouses take it incrementally."""
    lines = builds.duckdb(GOLD_QUERIES["fct_sales"])
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
                "updated_at": (line[7] + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            for line in corrected
        ],
    )
    builds.forecast_hub("ingest")
    for target in ("duckdb", "postgres"):
        landed = builds.forecast_hub("land", "--target", target)
        assert landed.startswith("landed 1 new silver files (4 rows)"), landed
        builds.dbt(target, "build", "--select", "int_sales_deduplicated+")

    for name, statement in GOLD_QUERIES.items():
        assert differences(builds, statement) == [], name
    keys = {line[:4] for line in corrected}
    now = {
        line[:4]: line for line in builds.postgres(GOLD_QUERIES["fct_sales"]) if line[:4] in keys
    }
    assert [now[line[:4]][4] for line in corrected] == [float(line[4]) + 10 for line in corrected]
    assert [now[line[:4]][8] for line in corrected] == [line[8] + 1 for line in corrected]
