"""The whole chain with the API: generate, ingest, land, hybrid, dbt, serve.

On the duckdb target the API and an analyst's dbt build run at the same
time: the build publishes the new draft, the API keeps taking edits, and
neither side meets a lock. dbt commands never drop or empty the hybrid
tables, and the warehouse's v_forecast equals what the API serves.
"""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import pytest

from conftest import subprocess_env
from fixtures.builds import copy_build
from forecast_hub.api.tokens import add_token
from forecast_hub.hybrid import SCHEMA, apply_hybrid, connect_store, edits_store_path
from forecast_hub.settings import Settings

REPO = Path(__file__).resolve().parents[3]
SERVE = (
    "import sys; from forecast_hub.api import serve; from forecast_hub.settings import Settings;"
    " serve(Settings.from_env(), port=int(sys.argv[1]), log_level='warning')"
)


def _dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    found = str(beside) if beside.exists() else shutil.which("dbt")
    assert found, "dbt is not installed in this environment"
    return found


@dataclass
class Chain:
    data_dir: Path
    env: dict[str, str]
    url: str
    tokens: dict[str, str]
    server: subprocess.Popen[bytes] | None = None

    @property
    def settings(self) -> Settings:
        return Settings(self.data_dir)

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            list(command), cwd=REPO, env=self.env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, (
            f"{command} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
        return done

    def forecast_hub(self, *args: str) -> None:
        self.run(sys.executable, "-m", "forecast_hub", *args)

    def dbt(self, *args: str) -> subprocess.CompletedProcess[str]:
        # Where the session's build kept its manifest and logs.
        paths = ["--target-path", str(self.data_dir / "target-duckdb")]
        paths += ["--log-path", str(self.data_dir / "logs-duckdb")]
        return self.run(_dbt_executable(), *args, *paths)

    def start_server(self) -> None:
        port = self.url.rsplit(":", 1)[1]
        log = (self.data_dir / "server.log").open("ab")
        self.server = subprocess.Popen(
            [sys.executable, "-c", SERVE, port], env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError((self.data_dir / "server.log").read_text())

    def client(self, who: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def warehouse(self, sql: str) -> list[tuple]:
        con = duckdb.connect(str(self.settings.warehouse_path), read_only=True)
        try:
            return con.sql(sql).fetchall()
        finally:
            con.close()


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, duckdb_build: Path) -> Iterator[Chain]:
    """The session's duckdb build (generated, ingested, landed, hybrid, dbt build), copied,
    and the API serving it."""
    data_dir = copy_build(duckdb_build, tmp_path_factory.mktemp("api_chain"))
    env = subprocess_env(data_dir)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    tokens_file = data_dir / "api" / "tokens.json"
    tokens = {
        "ann": add_token(tokens_file, "northwind", "ann"),
        "carl": add_token(tokens_file, "northwind", "carl"),
    }
    built = Chain(data_dir, env, url, tokens)
    built.start_server()
    try:
        yield built
    finally:
        if built.server is not None:
            built.server.send_signal(signal.SIGTERM)
            built.server.wait(timeout=30)


def _rows(client: httpx.Client, tenant: str = "northwind") -> tuple[list[dict], httpx.Headers]:
    response = client.get(f"/v1/tenants/{tenant}/forecast", params={"limit": 10_000})
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["rows"], response.headers


def _iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _still_served(chain: Chain, rows: list, date_column: int) -> list:
    """The warehouse's northwind rows the API serves today: without the days that ended
    after the build's publication and by today (the cache's retention, docs/api.md), which
    leaves rows out only when the day turned since the build."""
    ((published,),) = chain.warehouse("select published_at from serving.forecast_draft_published")
    today = dt.datetime.now(dt.UTC).date()
    return [
        row
        for row in rows
        if not published.date() < row[date_column] + dt.timedelta(days=1) <= today
    ]


def test_the_build_published_the_draft_the_api_serves(chain: Chain) -> None:
    with chain.client("ann") as client:
        rows, headers = _rows(client)
    built = chain.warehouse(
        "select sku_id, forecast_date, draft_qty, method, built_at, lower_qty, upper_qty"
        " from gold.fct_forecast_draft"
        " where tenant_id = 'northwind' order by sku_id, forecast_date"
    )
    assert built, "the generated dataset forecast nothing for northwind"
    assert headers["X-Forecast-Built-At"] == _iso(built[0][4])
    built = _still_served(chain, built, date_column=1)
    assert [(r["sku_id"], r["forecast_date"], r["draft_qty"], r["method"]) for r in rows] == [
        (sku, date.isoformat(), qty, method) for sku, date, qty, method, *_ in built
    ]
    assert [(r["lower_qty"], r["upper_qty"]) for r in rows] == [
        (lower, upper) for *_, lower, upper in built
    ]
    (published,) = chain.warehouse("select build_id from serving.forecast_draft_published")
    assert published[0] in headers["X-Data-Source"]


def test_the_pages_endpoints_answer_what_gold_holds(chain: Chain) -> None:
    """/skus, /history and /accuracy of the build equal dim_sku, the draft and gold's tables."""
    with chain.client("ann") as client:
        skus = client.get("/v1/tenants/northwind/skus", params={"limit": 10_000}).json()
        listed = {row["sku_id"]: row for row in skus["rows"]}
        sku = sorted(listed)[0]
        history = client.get("/v1/tenants/northwind/history", params={"sku_id": sku}).json()
        series = client.get("/v1/tenants/northwind/accuracy", params={"sku_id": sku}).json()
        tenant = client.get("/v1/tenants/northwind/accuracy").json()
    drafted = chain.warehouse(
        "select distinct draft.sku_id, sku.sku_name, sku.category, sku.color, draft.method,"
        " draft.members, accuracy.window_1_wape"
        " from gold.fct_forecast_draft as draft"
        " inner join gold.dim_sku as sku using (tenant_id, sku_id)"
        " left join gold.fct_forecast_accuracy as accuracy"
        "   on draft.tenant_id = accuracy.tenant_id and draft.sku_id = accuracy.sku_id"
        "   and draft.method = accuracy.method"
        " where draft.tenant_id = 'northwind' order by 1"
    )
    members = [",".join(r["members"]) if r["members"] else None for r in skus["rows"]]
    assert [
        (r["sku_id"], r["sku_name"], r["category"], r["color"], r["method"], joined, r["wape"])
        for r, joined in zip(skus["rows"], members, strict=True)
    ] == drafted
    assert (
        skus["grain"]
        == chain.warehouse("select grain from gold.dim_tenant where tenant_id = 'northwind'")[0][0]
    )
    assert [(r["period_date"], r["qty"]) for r in history["rows"]] == [
        (date.isoformat(), qty)
        for date, qty in chain.warehouse(
            "select period_date, qty from gold.fct_series_history"
            f" where tenant_id = 'northwind' and sku_id = '{sku}' order by period_date"
        )
    ]
    assert history["rows"], "a drafted series has history"
    assert sorted((r["method"], r["wape"], r["method_rank"]) for r in series["rows"]) == sorted(
        chain.warehouse(
            "select method, wape, method_rank from gold.fct_forecast_accuracy"
            f" where tenant_id = 'northwind' and sku_id = '{sku}'"
        )
    )
    assert sorted((r["method"], r["wape"], r["interval_coverage"]) for r in tenant["rows"]) == (
        sorted(
            chain.warehouse(
                "select method, wape, interval_coverage from gold.fct_forecast_accuracy_by_tenant"
                " where tenant_id = 'northwind'"
            )
        )
    )


def test_dbt_build_during_a_stream_of_edits_both_succeed(chain: Chain) -> None:
    with chain.client("ann") as client:
        rows, headers = _rows(client)
    keys = [(r["sku_id"], r["forecast_date"]) for r in rows[:40]]
    stop = threading.Event()
    acknowledged: list[tuple[str, str, float, int]] = []
    failures: list[str] = []

    def stream(worker: int) -> None:
        with chain.client("ann") as client:
            n = 0
            while not stop.is_set():
                n += 1
                sku, date = keys[(worker * 10 + n) % len(keys)]
                body = {"edits": [{"sku_id": sku, "forecast_date": date, "qty": float(n)}]}
                response = client.put("/v1/tenants/northwind/edits", json=body)
                if response.status_code != 200:
                    failures.append(response.text)
                    continue
                edit = response.json()["edits"][0]
                acknowledged.append((sku, date, edit["qty"], edit["version"]))

    warehouse_copy = _hybrid_contents(chain)[1]
    with ThreadPoolExecutor(4) as pool:
        streams = [pool.submit(stream, worker) for worker in range(4)]
        try:
            build = chain.dbt("build", "--full-refresh")
        finally:
            stop.set()
        for done in streams:
            done.result()

    assert "Completed successfully" in build.stdout
    assert failures == []
    assert _hybrid_contents(chain)[1] == warehouse_copy, "dbt build --full-refresh kept them"
    assert len(acknowledged) > 100
    deadline = time.monotonic() + 15
    with chain.client("ann") as client:
        while True:
            rows_after, headers_after = _rows(client)
            if headers_after["X-Forecast-Built-At"] != headers["X-Forecast-Built-At"]:
                break
            assert time.monotonic() < deadline, "the API did not pick up the new build"
            time.sleep(0.1)
    assert headers_after["X-Forecast-Built-At"] > headers["X-Forecast-Built-At"]
    store = connect_store(edits_store_path(chain.settings), read_only=True)
    versions = dict(
        ((sku, date), version)
        for sku, date, version in store.execute(
            "select sku_id, forecast_date, version from manual_edits_ht"
            " where tenant_id = 'northwind'"
        )
    )
    logged = set(
        store.execute(
            "select sku_id, forecast_date, new_qty, version from manual_edit_log_ht"
            " where tenant_id = 'northwind'"
        ).fetchall()
    )
    store.close()
    assert set(acknowledged) <= logged
    assert all(versions[(sku, date)] >= version for sku, date, _, version in acknowledged)
    shown = {(r["sku_id"], r["forecast_date"]): r for r in rows_after}
    assert all(shown[key]["is_manual"] for key in keys)


def test_the_warehouse_v_forecast_equals_what_the_api_serves(chain: Chain) -> None:
    with chain.client("ann") as client:
        rows, _ = _rows(client)
        for row in rows[40:50]:
            body = {"edits": [{"sku_id": row["sku_id"], "forecast_date": row["forecast_date"]}]}
            body["edits"][0]["qty"] = 12.5
            assert client.put("/v1/tenants/northwind/edits", json=body).status_code == 200
        for row in rows[45:48]:
            path = f"/v1/tenants/northwind/edits/{row['sku_id']}/{row['forecast_date']}"
            assert client.delete(path).status_code == 204
    apply_hybrid(chain.settings)
    with chain.client("carl") as client:
        served, _ = _rows(client)
    columns = "sku_id, forecast_date, draft_qty, manual_qty, forecast_qty, is_manual, method"
    warehouse = chain.warehouse(
        f"select {columns}, edited_by, edited_at from serving.v_forecast"
        " where tenant_id = 'northwind' and user_id = '*' order by sku_id, forecast_date"
    )
    warehouse = _still_served(chain, warehouse, date_column=1)
    assert [
        (*row[:1], row[1].isoformat(), *row[2:7], row[7], _iso(row[8])) for row in warehouse
    ] == [
        (
            r["sku_id"],
            r["forecast_date"],
            r["draft_qty"],
            r["manual_qty"],
            r["forecast_qty"],
            r["is_manual"],
            r["method"],
            r["edited_by"],
            r["edited_at"],
        )
        for r in served
    ]
    assert sum(r["is_manual"] for r in served) == 40 + 10 - 3


def _hybrid_contents(chain: Chain) -> tuple[list, list]:
    store = connect_store(edits_store_path(chain.settings), read_only=True)
    in_store = [
        store.execute(f"select * from {table.name} order by 1, 2, 3").fetchall()
        for table in SCHEMA.tables
    ]
    store.close()
    in_warehouse = [
        chain.warehouse(f"select * from planning.{table.name} order by 1, 2, 3")
        for table in SCHEMA.tables
    ]
    return in_store, in_warehouse


def test_no_dbt_command_drops_or_empties_the_hybrid_tables(chain: Chain) -> None:
    with chain.client("ann") as client:
        assert client.put("/v1/tenants/northwind/prefs", json={"show_manual": True}).is_success
    apply_hybrid(chain.settings)
    before = _hybrid_contents(chain)
    assert all(before[1]), "every hybrid table holds rows before the dbt commands"
    state = chain.data_dir / "state"
    state.mkdir(exist_ok=True)
    shutil.copy(chain.data_dir / "target-duckdb" / "manifest.json", state / "manifest.json")
    for command in (
        ["run"],
        ["seed", "--full-refresh"],
        ["snapshot"],
        ["clone", "--state", str(state)],
    ):
        chain.dbt(*command)
        assert _hybrid_contents(chain) == before, command
