"""The backends `benchmarks/api_backends.py` measures, each set up as an operator sets it up.

- ``embedded``: one `serve` over a published draft and the SQLite store.
- ``postgresql``: a PostgreSQL 15 server of its own (`forecast-hub postgres`'s
  tuned one), and ``--postgres-processes`` `serve` processes over the same
  published draft and database, the clients spread over them.
- ``emulator``: the Snowflake emulator with the planning tables
  (`forecast-hub hybrid --target emulator`), the draft in
  ``gold.fct_forecast_draft`` and the views dbt builds over it; one
  `serve --target emulator`. Its figures say that the path works, not how
  fast an account is: the emulator runs every statement through a SQL
  translator on one embedded database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa

from forecast_hub.api.snapshot import publish_snapshot
from forecast_hub.api.tokens import add_token
from forecast_hub.postgres.server import running_postgres
from forecast_hub.settings import EMULATOR_PORT_ENV
from forecast_hub.snowflake.connection import connect
from forecast_hub.snowflake.emulator import running_emulator
from forecast_hub.snowflake.hybrid import apply_snowflake_hybrid
from forecast_hub.snowflake.settings import SnowflakeSettings

REPO = Path(__file__).resolve().parents[1]
SERVE = (
    "import sys; from forecast_hub.api import serve; from forecast_hub.settings import Settings;"
    " serve(Settings.from_env(), port=int(sys.argv[1]), log_level='warning', target=sys.argv[2])"
)
TENANT = "bench"
FIRST = dt.date(2026, 1, 5)
HORIZON = 91
BUILT_AT = dt.datetime(2026, 1, 4, 6, 0)
VIEWS = ("stg_planning__manual_edits", "stg_planning__user_prefs", "v_forecast")


def sku_ids(count: int) -> list[str]:
    return [f"SKU-{n:06d}" for n in range(count)]


def draft_table(skus: list[str]) -> pa.Table:
    dates = [FIRST + dt.timedelta(days=k) for k in range(HORIZON)]
    rows = len(skus) * HORIZON
    return pa.table(
        {
            "tenant_id": [TENANT] * rows,
            "sku_id": [sku for sku in skus for _ in dates],
            "forecast_date": dates * len(skus),
            "step": pa.array(list(range(1, HORIZON + 1)) * len(skus), pa.int32()),
            "draft_qty": [float(k % 17) for k in range(rows)],
            "method": ["ses"] * rows,
            "built_at": [BUILT_AT] * rows,
        }
    )


def publish_draft(data_dir: Path, skus: list[str]) -> None:
    known = pa.table(
        {
            "tenant_id": [TENANT] * len(skus),
            "sku_id": skus,
            "is_active": [True] * len(skus),
            "discontinued_date": pa.array([None] * len(skus), pa.date32()),
        }
    )
    publish_snapshot(data_dir / "serving", draft_table(skus), known)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(data_dir: Path, extra: dict[str, str]) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(REPO / "scripts"), os.environ.get("PYTHONPATH")) if p)
    return {
        **os.environ,
        "FORECAST_HUB_DATA_DIR": str(data_dir),
        "DBT_PROFILES_DIR": str(REPO / "profiles"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PYTHONPATH": path,
        **extra,
    }


@contextlib.contextmanager
def serving(data_dir: Path, target: str, env: dict[str, str], count: int) -> Iterator[list[int]]:
    """``count`` `serve` processes on free ports, stopped with SIGTERM after the block."""
    processes: list[subprocess.Popen[bytes]] = []
    ports = []
    try:
        for _ in range(count):
            port = _free_port()
            log = (data_dir / f"server-{port}.log").open("ab")
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-c", SERVE, str(port), target],
                    env=_env(data_dir, env),
                    stdout=log,
                    stderr=log,
                )
            )
            _wait_for(port, data_dir / f"server-{port}.log")
            ports.append(port)
        yield ports
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


def _wait_for(port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the server did not start; see {log}")


@dataclass
class Target:
    """A backend being measured: its servers' ports, and what its log holds after."""

    name: str
    ports: list[int]
    token: str
    notes: dict[str, Any] = field(default_factory=dict)
    postgres_url: str | None = None

    def log_rows(self) -> list[tuple[str, str, int]] | None:
        """(sku_id, forecast_date, version) of every log row, where the bench can read them."""
        if self.postgres_url is None:
            return None
        with psycopg.connect(self.postgres_url) as conn:
            rows = conn.execute(
                "select sku_id, forecast_date, version from planning.manual_edit_log_ht"
                " where tenant_id = %s",
                (TENANT,),
            ).fetchall()
        return [(sku, date.isoformat(), int(version)) for sku, date, version in rows]


@contextlib.contextmanager
def _scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="forecast-hub-api-load-") as scratch:
        # The PostgreSQL server runs as its own OS user when this runs as root.
        os.chmod(scratch, 0o755)
        yield Path(scratch)


@contextlib.contextmanager
def embedded(skus: list[str]) -> Iterator[Target]:
    with _scratch() as data_dir:
        token = add_token(data_dir / "api" / "tokens.json", TENANT, "bench")
        publish_draft(data_dir, skus)
        with serving(data_dir, "duckdb", {}, 1) as ports:
            yield Target("embedded", ports, token, {"processes": 1})


@contextlib.contextmanager
def postgresql(skus: list[str], processes: int) -> Iterator[Target]:
    with _scratch() as data_dir, running_postgres(data_dir / "postgres") as server:
        token = add_token(data_dir / "api" / "tokens.json", TENANT, "bench")
        publish_draft(data_dir, skus)
        url = server.connection.url()
        env = {"FORECAST_HUB_EDITS_STORE": url}
        with serving(data_dir, "duckdb", env, processes) as ports:
            yield Target("postgresql", ports, token, {"processes": processes}, url)


def _load_draft(settings: SnowflakeSettings, skus: list[str]) -> None:
    table = draft_table(skus).to_pylist()
    for row in table:
        row["forecast_date"] = row["forecast_date"].isoformat()
        row["built_at"] = row["built_at"].isoformat(sep=" ")
    connection = connect(settings)
    try:
        cursor = connection.cursor()
        cursor.execute("create schema if not exists gold")
        cursor.execute(
            "create or replace table gold.fct_forecast_draft (tenant_id varchar,"
            " sku_id varchar, forecast_date date, step integer, draft_qty double,"
            " method varchar, built_at timestamp)"
        )
        for start in range(0, len(table), 5000):
            cursor.execute(
                "insert into gold.fct_forecast_draft select value:tenant_id::varchar,"
                " value:sku_id::varchar, value:forecast_date::date, value:step::integer,"
                " value:draft_qty::double, value:method::varchar, value:built_at::timestamp"
                " from table(flatten(input => parse_json(%s)))",
                (json.dumps(table[start : start + 5000]),),
            )
    finally:
        connection.close()


@contextlib.contextmanager
def emulator(skus: list[str]) -> Iterator[Target]:
    with _scratch() as data_dir, running_emulator(data_dir / "emulator") as running:
        token = add_token(data_dir / "api" / "tokens.json", TENANT, "bench")
        settings = SnowflakeSettings.emulator(running.port, env={})
        apply_snowflake_hybrid(settings)
        _load_draft(settings, skus)
        env = {EMULATOR_PORT_ENV: str(running.port)}
        dbt = Path(sys.executable).with_name("dbt")
        done = subprocess.run(
            [
                *(str(dbt), "run", "--select", *VIEWS, "--target", "emulator"),
                *("--target-path", str(data_dir / "target"), "--log-path", str(data_dir)),
            ],
            cwd=REPO,
            env=_env(data_dir, env),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"dbt could not build the views on the emulator:\n{done.stdout}")
        with serving(data_dir, "emulator", env, 1) as ports:
            yield Target("emulator", ports, token, {"processes": 1, "functional_only": True})
