"""`serve` with an object store: a warm start from the bucket, a newer build fetched
and served by the forecast cache, a restart from the cache's local copy, the store
failing and coming back, fencing over HTTP, SIGTERM in async durability, `edits persist`.

The draft is published with publish_snapshot, as the dbt model does, from the
small hand-made table of test_api_server.py (with the planning page's
tables of it, for the warm start).
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from prometheus_client.parser import text_string_to_metric_families
from s3_support import FaultProxy, MotoServer, free_port, s3_env
from test_api_server import DATES, TENANT_SKUS

from conftest import subprocess_env
from forecast_hub.api.snapshot import current_build_id, publish_snapshot
from forecast_hub.api.tokens import add_token
from forecast_hub.errors import UserError
from forecast_hub.objectstore import ObjectStore
from forecast_hub.objectstore.drafts import read_pointer, upload_build
from forecast_hub.objectstore.restore import build_from_bucket
from published import page_tables

SERVE = (
    "import sys; from forecast_hub.api import serve; from forecast_hub.settings import Settings;"
    " serve(Settings.from_env(), port=int(sys.argv[1]), log_level='info')"
)
SKU = TENANT_SKUS["northwind"][0]


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3_env(server.url, "").items():
            if name.startswith("AWS_"):
                patch.setenv(name, value)
        yield server
    server.stop()


@pytest.fixture
def bucket(moto: MotoServer) -> str:
    return f"s3://{moto.new_bucket()}/hub"


@pytest.fixture
def proxy(moto: MotoServer) -> Iterator[FaultProxy]:
    faults = FaultProxy(moto.port)
    yield faults
    faults.close()


class Api:
    """`serve` on an empty data folder but for a token, with an object store."""

    def __init__(self, folder: Path, endpoint: str, url: str, **settings: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.token = add_token(folder / "api" / "tokens.json", "northwind", "ann")
        self.env = {**subprocess_env(folder), **s3_env(endpoint, url, **settings)}
        if not url:
            del self.env["FORECAST_HUB_OBJECT_STORE"]
        self.port = free_port()
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)
        with (folder / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVE, str(self.port)], env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, "the server did not start"
            try:
                self.client.get("/healthz", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)

    def log(self) -> str:
        return (self.folder / "server.log").read_text()

    def edit(self, qty: float, sku: str = SKU) -> httpx.Response:
        body = {"edits": [{"sku_id": sku, "forecast_date": DATES[0].isoformat(), "qty": qty}]}
        return self.client.put(
            "/v1/tenants/northwind/edits",
            json=body,
            headers={"Authorization": f"Bearer {self.token}"},
        )

    def forecast(self) -> list[dict]:
        return self.read("forecast", limit=10_000)["rows"]

    def read(self, resource: str, **params: object) -> dict:
        answer = self.client.get(
            f"/v1/tenants/northwind/{resource}",
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def persistence(self) -> dict:
        return self.client.get("/healthz").json()["persistence"]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)


def logged_quantities(url: str, folder: Path) -> list[float]:
    import sqlite3

    built = build_from_bucket(ObjectStore(url), folder / "edits.sqlite")
    with sqlite3.connect(built.path) as conn:
        return [qty for (qty,) in conn.execute("select new_qty from manual_edit_log_ht")]


def draft_tables(scale: float = 1.0) -> tuple[pa.Table, pa.Table]:
    rows = [
        (t, sku, d, k + 1)
        for t, skus in TENANT_SKUS.items()
        for sku in skus
        for k, d in enumerate(DATES)
    ]
    draft = pa.table(
        {
            "tenant_id": [r[0] for r in rows],
            "sku_id": [r[1] for r in rows],
            "forecast_date": [r[2] for r in rows],
            "step": pa.array([r[3] for r in rows], pa.int32()),
            "draft_qty": [scale * r[3] for r in rows],
            "method": ["naive"] * len(rows),
            "built_at": [dt.datetime(2025, 3, 1, 6)] * len(rows),
        }
    )
    known = [(t, sku) for t, skus in TENANT_SKUS.items() for sku in skus]
    skus = pa.table(
        {
            "tenant_id": [t for t, _ in known],
            "sku_id": [sku for _, sku in known],
            "is_active": [True] * len(known),
            "discontinued_date": pa.array([None] * len(known), pa.date32()),
        }
    )
    return draft, skus


def _page_answers(api: Api) -> list[dict]:
    """What the planning page reads beside the forecast."""
    return [
        api.read("skus"),
        api.read("history", sku_id=SKU),
        api.read("accuracy"),
        api.read("accuracy", sku_id=SKU),
    ]


def test_an_api_on_an_empty_folder_serves_the_draft_from_the_bucket_alone(
    tmp_path: Path, bucket: str, moto: MotoServer
) -> None:
    build = tmp_path / "build"
    draft, skus = draft_tables()
    publication = publish_snapshot(
        build / "serving", draft, skus, ObjectStore(bucket), page_tables(draft)
    )
    assert {"series_history.parquet", "tenants.parquet"} < set(publication.files)
    local = Api(build, moto.url, "")  # no object store: the build machine's own files
    try:
        expected = local.forecast()
        page = _page_answers(local)
    finally:
        local.stop()
    assert page[1]["rows"] and page[0]["rows"], "the page's tables were published"
    warm = Api(tmp_path / "elsewhere", moto.url, bucket)
    try:
        health = warm.client.get("/healthz").json()
        assert health["status"] == "ready", health
        assert health["draft"]["build_id"] == publication.build_id
        assert warm.forecast() == expected and len(expected) == 20 * len(DATES)
        assert _page_answers(warm) == page, "the page's tables came with the draft"
        assert current_build_id(tmp_path / "elsewhere" / "serving") == publication.build_id
    finally:
        warm.stop()


def _copy_files(folder: Path, build_id: str) -> dict[str, tuple[int, int]]:
    """The cache's local copy of a build: each file's inode and modification time."""
    return {
        path.name: (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in sorted((folder / "cache" / build_id).glob("*.arrow"))
    }


def _metrics(api: Api) -> dict[str, float]:
    answer = api.client.get("/metrics")
    assert answer.status_code == 200
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if not sample.labels
    }


def _quantities(scale: float) -> set[float]:
    """The draft quantities of draft_tables(scale)."""
    return {scale * (k + 1) for k in range(len(DATES))}


def test_a_newer_build_in_the_bucket_is_served_and_a_restart_maps_the_local_copy(
    tmp_path: Path, bucket: str, moto: MotoServer
) -> None:
    first = publish_snapshot(tmp_path / "a", *draft_tables(), object_store=ObjectStore(bucket))
    folder = tmp_path / "api"
    api = Api(folder, moto.url, bucket, FORECAST_HUB_CACHE_RELOAD_SECONDS="1")
    try:
        assert api.client.get("/healthz").json()["cache"]["build_id"] == first.build_id
        assert {row["draft_qty"] for row in api.forecast()} == _quantities(1.0)
        assert _copy_files(folder, first.build_id)  # the warm start's Arrow IPC copy
        second = publish_snapshot(
            tmp_path / "b", *draft_tables(3.0), object_store=ObjectStore(bucket)
        )
        deadline = time.monotonic() + 30
        while {row["draft_qty"] for row in api.forecast()} != _quantities(3.0):
            assert time.monotonic() < deadline, api.log()  # fetched at the reload period
            time.sleep(0.2)
        cache = api.client.get("/healthz").json()["cache"]
        assert cache["build_id"] == second.build_id and cache["mode"] == "preload"
        assert api.edit(5.0).status_code == 200
        metrics = _metrics(api)
        assert metrics["forecast_hub_cache_reloads_total"] >= 2
        assert metrics["forecast_hub_persistence_uploads_total"] >= 1
        assert metrics["forecast_hub_persistence_fenced"] == 0
        assert not (folder / "cache" / first.build_id).exists()  # the old copy pruned
        copied = _copy_files(folder, second.build_id)
        assert copied
    finally:
        api.stop()
    again = Api(folder, moto.url, bucket)
    try:
        rows = again.forecast()
        assert {row["draft_qty"] for row in rows} == _quantities(3.0)
        assert next(r["manual_qty"] for r in rows if r["sku_id"] == SKU and r["is_manual"]) == 5.0
        assert _copy_files(folder, second.build_id) == copied  # mapped, not written again
    finally:
        again.stop()


def test_two_builds_cannot_interleave_their_pointer(tmp_path: Path, bucket: str) -> None:
    store = ObjectStore(bucket)
    first = publish_snapshot(tmp_path / "a", *draft_tables(), object_store=store)
    _, lease = read_pointer(store)  # a second build starts...
    third = publish_snapshot(tmp_path / "c", *draft_tables(2.0), object_store=store)
    second = publish_snapshot(tmp_path / "b", *draft_tables(3.0))  # its files, local only
    with pytest.raises(UserError, match="another build published"):
        upload_build(store, tmp_path / "b" / second.build_id, lease)  # ...and finishes last
    assert read_pointer(store)[0] == third.build_id != first.build_id


def test_sync_refuses_while_the_store_is_down_or_slow_and_loses_nothing(
    tmp_path: Path, bucket: str, proxy: FaultProxy
) -> None:
    publish_snapshot(tmp_path / "build", *draft_tables(), object_store=ObjectStore(bucket))
    api = Api(tmp_path / "api", proxy.url, bucket)
    try:
        assert api.edit(1.0).status_code == 200
        proxy.set("down")
        refused = api.edit(2.0)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "not_ready"
        assert api.persistence()["upload_failures"] >= 1
        proxy.set("slow", delay=4.0)  # the write lands, its answer comes too late
        started = time.monotonic()
        slow = api.edit(3.0)
        assert slow.status_code == 503 and time.monotonic() - started < 20
        assert api.persistence()["unsettled_change"] is not None
        proxy.set("up")  # back: the late write is settled (voided) before the next one
        assert api.edit(4.0).status_code == 200
        health = api.persistence()
        assert health["unsettled_change"] is None and health["mode"] == "sync"
        assert next(r["manual_qty"] for r in api.forecast() if r["sku_id"] == SKU) == 4.0
    finally:
        api.stop()
    assert sorted(logged_quantities(bucket, tmp_path / "cold")) == [1.0, 4.0]


def test_async_accepts_while_the_store_is_down_and_catches_up(
    tmp_path: Path, bucket: str, proxy: FaultProxy
) -> None:
    publish_snapshot(tmp_path / "build", *draft_tables(), object_store=ObjectStore(bucket))
    api = Api(
        tmp_path / "api",
        proxy.url,
        bucket,
        FORECAST_HUB_EDITS_DURABILITY="async",
        FORECAST_HUB_PERSIST_EVERY_WRITES="3",
        FORECAST_HUB_PERSIST_EVERY_SECONDS="0.5",
    )
    try:
        proxy.set("down")
        assert [api.edit(float(q)).status_code for q in range(5)] == [200] * 5
        health = api.persistence()
        assert health["writes_pending"] == 5 and health["pending_since"] is not None
        assert health["upload_failures"] >= 1 and health["last_error"]
        proxy.set("up")
        deadline = time.monotonic() + 30
        while api.persistence()["writes_pending"]:  # retried with backoff
            assert time.monotonic() < deadline, api.persistence()
            time.sleep(0.1)
        assert api.persistence()["last_persisted_at"] is not None
        assert api.edit(5.0).status_code == 200
    finally:
        api.stop(signal.SIGTERM)  # persists the last one on the way out
    # uvicorn ends by re-raising the signal it handled: -15 is a clean stop.
    assert api.process.returncode in (0, -signal.SIGTERM), api.log()
    assert "Application shutdown complete" in api.log()
    assert sorted(logged_quantities(bucket, tmp_path / "cold")) == [float(q) for q in range(6)]


def test_edits_persist_uploads_what_async_has_queued(
    tmp_path: Path, bucket: str, moto: MotoServer
) -> None:
    publish_snapshot(tmp_path / "build", *draft_tables(), object_store=ObjectStore(bucket))
    settings = {
        "FORECAST_HUB_EDITS_DURABILITY": "async",
        "FORECAST_HUB_PERSIST_EVERY_WRITES": "1000",
        "FORECAST_HUB_PERSIST_EVERY_SECONDS": "1000",
    }
    api = Api(tmp_path / "api", moto.url, bucket, **settings)
    try:
        assert [api.edit(float(q)).status_code for q in range(3)] == [200] * 3
        assert logged_quantities(bucket, tmp_path / "before") == []
        run = subprocess.run(
            [sys.executable, "-m", "forecast_hub", "edits", "persist"],
            env=api.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.startswith("uploaded change 1 (3 writes) and a snapshot of change 1")
    finally:
        api.stop(signal.SIGKILL)
    assert sorted(logged_quantities(bucket, tmp_path / "cold")) == [0.0, 1.0, 2.0]


def test_an_overtaken_instance_answers_fenced_and_serves_the_bucket(
    tmp_path: Path, bucket: str, moto: MotoServer
) -> None:
    publish_snapshot(tmp_path / "build", *draft_tables(), object_store=ObjectStore(bucket))
    first = Api(tmp_path / "first", moto.url, bucket)
    second = Api(tmp_path / "second", moto.url, bucket)
    try:
        assert second.edit(1.0).status_code == 200
        fenced = first.edit(2.0)
        assert fenced.status_code == 503 and fenced.json()["error"]["code"] == "fenced"
        deadline = time.monotonic() + 30
        while next(r["manual_qty"] for r in first.forecast() if r["sku_id"] == SKU) != 1.0:
            assert time.monotonic() < deadline  # reloaded from the bucket
            time.sleep(0.1)
        health = first.client.get("/healthz")
        assert health.status_code == 503 and health.json()["persistence"]["fenced"] is True
        assert first.edit(3.0).json()["error"]["code"] == "fenced"
        assert second.edit(4.0).status_code == 200
    finally:
        first.stop()
        second.stop()
    assert sorted(logged_quantities(bucket, tmp_path / "cold")) == [1.0, 4.0]
