"""The backends the API contract suite runs on, each set up the way an operator sets it up.

- ``embedded``: `serve` over a published draft and the SQLite edits store.
- ``postgresql``: the same draft, edits in a PostgreSQL database of the
  session's server (``FORECAST_HUB_EDITS_STORE``).
- ``emulator``: `serve --target emulator` over the Snowflake emulator: the
  planning tables applied by `forecast-hub hybrid --target emulator`, the
  draft in ``gold.fct_forecast_draft`` and the views dbt builds over them
  (``serving.v_forecast`` and its staging views), nothing on the API's disk.

Every backend serves the same small hand-made draft and the planning
page's tables of it (``published.page_tables``): published the way dbt
publishes them (``publish_snapshot``) for the first two, loaded into the
warehouse's tables of the same names for the emulator (the draft, dim_sku,
dim_tenant, fct_series_history, the accuracy models, the hot_attributes
seed). dbt runs the views once per session (parsing
the project is what takes long); the DDL it ran is replayed on every other
emulator of the session, whose database has the same name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pyarrow as pa
import yaml
from psycopg import sql

from conftest import REPO, subprocess_env
from forecast_hub.api.page_data import SKU_FIELDS
from forecast_hub.api.snapshot import publish_snapshot
from forecast_hub.hybrid import connect_store, edits_store_path
from forecast_hub.postgres.server import ServerState
from forecast_hub.settings import Settings
from forecast_hub.snowflake.connection import connect
from forecast_hub.snowflake.emulator import running_emulator
from forecast_hub.snowflake.hybrid import apply_snowflake_hybrid
from forecast_hub.snowflake.settings import EMULATOR_PORT_ENV, SnowflakeSettings
from published import page_tables

BACKENDS = ("embedded", "postgresql", "emulator")
FIRST = dt.date(2025, 3, 3)
DATES = [FIRST + dt.timedelta(days=k) for k in range(30)]
BUILT_AT = dt.datetime(2025, 3, 1, 6, 0)
TENANT_SKUS = {"northwind": [f"n-{k:03d}" for k in range(1, 21)], "globex": ["g-001", "g-002"]}
SERVE = (
    "import sys; from forecast_hub.api import serve; from forecast_hub.settings import Settings;"
    " serve(Settings.from_env(), port=int(sys.argv[1]), log_level='warning', target=sys.argv[2])"
)
# The views dbt builds over the draft and the planning tables.
VIEWS = ("stg_planning__manual_edits", "stg_planning__user_prefs", "v_forecast")
START_TIMEOUT_S = 60
HISTORY_DAYS = 45
# A SKU known to its tenant (in dim_sku) without a draft.
UNDRAFTED = ("northwind", "n-gone")
# The warehouse tables the page's tables are loaded into on the emulator.
PAGE_TABLES_IN_WAREHOUSE = {
    "tenants": "gold.dim_tenant",
    "sku_attributes": "gold.dim_sku",
    "series_history": "gold.fct_series_history",
    "series_accuracy": "gold.fct_forecast_accuracy",
    "tenant_accuracy": "gold.fct_forecast_accuracy_by_tenant",
}
_WAREHOUSE_TYPES = {
    pa.string(): "varchar",
    pa.float64(): "float",
    pa.int32(): "integer",
    pa.int64(): "integer",
    pa.bool_(): "boolean",
    pa.date32(): "date",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def draft_rows(scale: float = 1.0) -> list[tuple[str, str, dt.date, int, float]]:
    return [
        (tenant, sku, date, step + 1, scale * (step + 1))
        for tenant, skus in TENANT_SKUS.items()
        for sku in skus
        for step, date in enumerate(DATES)
    ]


def hand_made_draft(scale: float = 1.0, built_at: dt.datetime = BUILT_AT) -> pa.Table:
    """The draft every backend serves, with its interval and members."""
    rows = draft_rows(scale)
    return pa.table(
        {
            "tenant_id": [r[0] for r in rows],
            "sku_id": [r[1] for r in rows],
            "forecast_date": [r[2] for r in rows],
            "step": pa.array([r[3] for r in rows], pa.int32()),
            "draft_qty": [r[4] for r in rows],
            "lower_qty": [r[4] / 2 for r in rows],
            "upper_qty": [r[4] * 2 for r in rows],
            "method": ["naive"] * len(rows),
            "members": ["naive,ses,tsb"] * len(rows),
            "built_at": [built_at] * len(rows),
        }
    )


def hand_made_page_tables(draft: pa.Table) -> dict[str, pa.Table]:
    return page_tables(draft, HISTORY_DAYS, extra_skus=[UNDRAFTED])


def publish_draft(
    data_dir: Path, scale: float = 1.0, built_at: dt.datetime = BUILT_AT, page: bool = True
) -> None:
    """The hand-made draft and (unless not ``page``) its page tables, published as dbt's
    publishing model does."""
    draft = hand_made_draft(scale, built_at)
    known = [(t, s) for t, skus in TENANT_SKUS.items() for s in skus] + [UNDRAFTED]
    skus = pa.table(
        {
            "tenant_id": [t for t, _ in known],
            "sku_id": [s for _, s in known],
            "is_active": [(t, s) != UNDRAFTED for t, s in known],
            "discontinued_date": pa.array([None] * len(known), pa.date32()),
        }
    )
    tables = hand_made_page_tables(draft) if page else None
    publish_snapshot(data_dir / "serving", draft, skus, page_tables=tables)


class Server:
    """`serve` in its own process, as an operator runs it."""

    def __init__(self, data_dir: Path, target: str, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.target = target
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**subprocess_env(self.data_dir), **self.env}
        log = (self.data_dir / f"server-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(self.port), self.target],
            env=env,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                httpx.get(f"{self.url}/healthz", timeout=30)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"the server did not start: {self.log()}")

    def log(self) -> str:
        return (self.data_dir / f"server-{self.port}.log").read_text(errors="replace")[-4000:]

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


class Backend:
    """A backend's storage for one data folder: what the server needs and what it wrote."""

    name = "embedded"
    target = "duckdb"

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def env(self) -> dict[str, str]:
        return {}

    def publish(self, scale: float = 1.0, built_at: dt.datetime = BUILT_AT) -> None:
        publish_draft(self.data_dir, scale, built_at)

    def lose_page_tables(self) -> None:
        """A new build of the same draft, without the planning page's tables."""
        publish_draft(self.data_dir, page=False)

    def server(self) -> Server:
        return Server(self.data_dir, self.target, self.env())

    def stored_versions(self, tenant_id: str) -> dict[tuple[str, str], int]:
        """(sku_id, forecast_date) -> version, read from the storage itself."""
        store = connect_store(edits_store_path(Settings(self.data_dir)), read_only=True)
        try:
            rows = store.execute(
                "select sku_id, forecast_date, version from manual_edits_ht where tenant_id = ?",
                (tenant_id,),
            ).fetchall()
        finally:
            store.close()
        return {(sku, date): version for sku, date, version in rows}

    def close(self) -> None:
        """Release what the backend holds beyond the data folder."""


_databases = itertools.count(1)


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, data_dir: Path, server: ServerState) -> None:
        super().__init__(data_dir)
        self.admin = server.connection
        self.database = replace(self.admin, database=f"api_{os.getpid()}_{next(_databases)}")
        name = sql.Identifier(self.database.database)
        with psycopg.connect(**self.admin.connect_parameters(), autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(name))

    def env(self) -> dict[str, str]:
        return {"FORECAST_HUB_EDITS_STORE": self.database.url()}

    def query(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(**self.database.connect_parameters()) as conn:
            return conn.execute(statement, params).fetchall()

    def stored_versions(self, tenant_id: str) -> dict[tuple[str, str], int]:
        rows = self.query(
            "select sku_id, forecast_date, version from planning.manual_edits_ht"
            " where tenant_id = %s",
            (tenant_id,),
        )
        return {(sku, date.isoformat()): version for sku, date, version in rows}

    def close(self) -> None:
        with psycopg.connect(**self.admin.connect_parameters(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database {} with (force)").format(
                    sql.Identifier(self.database.database)
                )
            )


def _forecast_hub(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from forecast_hub.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"forecast-hub {' '.join(args)}: {done.stderr[-3000:]}"
    return done.stdout


def _draft_columns() -> list[tuple[str, str]]:
    """fct_forecast_draft's contract: the columns and types dbt builds it with."""
    models = yaml.safe_load((REPO / "models/gold/forecast/_forecast__models.yml").read_text())
    (model,) = [m for m in models["models"] if m["name"] == "fct_forecast_draft"]
    return [(column["name"], column["data_type"]) for column in model["columns"]]


_view_ddl: list[str] = []
"""The statements dbt ran to build VIEWS, kept from the session's first emulator."""


class EmulatorBackend(Backend):
    name = "emulator"
    target = "emulator"

    def __init__(self, data_dir: Path, hybrid_by_cli: bool = True) -> None:
        """A new emulator with the planning tables: by `forecast-hub hybrid --target
        emulator` as an operator applies them, or by the function it runs (quicker)."""
        super().__init__(data_dir)
        self._stack = contextlib.ExitStack()
        self.emulator = self._stack.enter_context(running_emulator(data_dir / "emulator"))
        self.settings = SnowflakeSettings.emulator(self.emulator.port, env={})
        self.command_env = {**subprocess_env(data_dir), **self.env()}
        if hybrid_by_cli:
            _forecast_hub("hybrid", "--target", "emulator", env=self.command_env)
        else:
            apply_snowflake_hybrid(self.settings)

    def env(self) -> dict[str, str]:
        return {EMULATOR_PORT_ENV: str(self.emulator.port)}

    def execute(self, statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        connection = connect(self.settings)
        try:
            cursor = connection.cursor()
            cursor.execute(statement, params)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            connection.close()

    def publish(self, scale: float = 1.0, built_at: dt.datetime = BUILT_AT) -> None:
        """A new build: the draft and the page's tables replaced, the views built if missing."""
        draft = hand_made_draft(scale, built_at)
        self.execute("create schema if not exists gold")
        self.load_table("gold.fct_forecast_draft", draft, dict(_draft_columns()))
        tables = hand_made_page_tables(draft)
        for name, table in tables.items():
            self.load_table(PAGE_TABLES_IN_WAREHOUSE[name], table)
        described = tables["sku_attributes"].column_names
        hot = [column for column in described if column not in SKU_FIELDS]
        self.execute("create schema if not exists seeds")
        self.load_table("seeds.hot_attributes", pa.table({"attribute_name": hot}))
        self._build_views()

    def lose_page_tables(self) -> None:
        """The warehouse without the planning page's history table (the draft stays)."""
        self.execute(f"drop table if exists {PAGE_TABLES_IN_WAREHOUSE['series_history']}")

    def load_table(
        self, name: str, table: pa.Table, declared: dict[str, str] | None = None
    ) -> None:
        """Replace a warehouse table by ``table``'s rows; ``declared`` gives its columns' types
        (else they follow the Arrow types), a declared column ``table`` lacks is null."""
        if declared is None:
            declared = {f.name: _WAREHOUSE_TYPES[f.type] for f in table.schema}
        columns = ", ".join(f"{column} {kind}" for column, kind in declared.items())
        selected = ", ".join(
            f"cast({'value:' + column if column in table.column_names else 'null'} as {kind})"
            for column, kind in declared.items()
        )
        rows = [
            {k: v.isoformat(sep=" ") if isinstance(v, dt.datetime) else v for k, v in row.items()}
            for row in table.to_pylist()
        ]
        document = json.dumps(rows, default=lambda value: value.isoformat())
        self.execute(f"create or replace table {name} ({columns})")
        self.execute(
            f"insert into {name} select {selected} from table(flatten(input => parse_json(%s)))",
            [document],
        )

    def _build_views(self) -> None:
        if self.execute(
            "select table_name from information_schema.tables"
            " where table_schema = 'SERVING' and table_name = 'V_FORECAST'"
        ):
            return
        if not _view_ddl:
            self._dbt_run_views()
            return
        for schema in ("staging", "serving"):
            self.execute(f"create schema if not exists {schema}")
        for statement in _view_ddl:
            self.execute(statement)

    def _dbt_run_views(self) -> None:
        target = self.data_dir / "dbt-target"
        dbt = Path(sys.executable).with_name("dbt")
        done = subprocess.run(
            [
                *(str(dbt), "run", "--select", *VIEWS, "--target", "emulator"),
                *("--target-path", str(target), "--log-path", str(self.data_dir / "dbt-logs")),
            ],
            cwd=REPO,
            env=self.command_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-4000:]
        run = target / "run" / "forecast_hub" / "models"
        for name in VIEWS:
            (path,) = run.rglob(f"{name}.sql")
            _view_ddl.append(path.read_text())

    def stored_versions(self, tenant_id: str) -> dict[tuple[str, str], int]:
        rows = self.execute(
            "select sku_id, forecast_date, version from planning.manual_edits_ht"
            " where tenant_id = %s",
            [tenant_id],
        )
        return {(sku, date.isoformat()): int(version) for sku, date, version in rows}

    def close(self) -> None:
        self._stack.close()


@contextlib.contextmanager
def backend_of(
    name: str, data_dir: Path, postgres: ServerState | None = None, hybrid_by_cli: bool = True
) -> Iterator[Backend]:
    """A backend's storage for a data folder, released after the block."""
    if name == "embedded":
        backend: Backend = Backend(data_dir)
    elif name == "postgresql":
        assert postgres is not None
        backend = PostgresBackend(data_dir, postgres)
    else:
        backend = EmulatorBackend(data_dir, hybrid_by_cli)
    try:
        yield backend
    finally:
        backend.close()
