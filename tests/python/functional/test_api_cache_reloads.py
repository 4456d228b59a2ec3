"""The forecast cache over a real socket: reloads under load, /metrics, memory against RSS.

The servers run in their own processes on 127.0.0.1 with the app `serve`
runs; the reload test's server looks at the CURRENT pointer every 10 ms
instead of every 500 ms, so a hundred builds go by in seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pytest
from api_backends import free_port
from prometheus_client.parser import text_string_to_metric_families

from conftest import subprocess_env
from forecast_hub.api.snapshot import publish_snapshot
from forecast_hub.api.tokens import add_token

SERVE_FAST = (
    "import sys, dataclasses, uvicorn;"
    " from forecast_hub.api import ApiConfig, create_app;"
    " from forecast_hub.settings import Settings;"
    " config = dataclasses.replace("
    "ApiConfig.from_settings(Settings.from_env()), snapshot_poll_seconds=0.01);"
    " uvicorn.run(create_app(config), host='127.0.0.1', port=int(sys.argv[1]),"
    " loop='uvloop', http='httptools', log_level='warning')"
)
BUILT_AT = dt.datetime(2025, 3, 1, 6, 0)
FIRST = dt.date(2025, 3, 3)
TENANTS = {f"t{n}": [f"t{n}-s{k:02d}" for k in range(8)] for n in range(3)}


def draft_of(scale: int, horizon: int = 12) -> tuple[pa.Table, pa.Table]:
    """Build ``scale``: every quantity is scale * 1000 + step, built_at scale seconds on."""
    rows = [
        (tenant, sku, FIRST + dt.timedelta(days=step), step + 1)
        for tenant, skus in TENANTS.items()
        for sku in skus
        for step in range(horizon)
    ]
    draft = pa.table(
        {
            "tenant_id": [r[0] for r in rows],
            "sku_id": [r[1] for r in rows],
            "forecast_date": pa.array([r[2] for r in rows], pa.date32()),
            "step": pa.array([r[3] for r in rows], pa.int32()),
            "draft_qty": [scale * 1000.0 + r[3] for r in rows],
            "method": ["ses"] * len(rows),
            "built_at": [BUILT_AT + dt.timedelta(seconds=scale)] * len(rows),
        }
    )
    known = [(tenant, sku) for tenant, skus in TENANTS.items() for sku in skus]
    skus = pa.table(
        {
            "tenant_id": [t for t, _ in known],
            "sku_id": [s for _, s in known],
            "is_active": [True] * len(known),
            "discontinued_date": pa.nulls(len(known), pa.date32()),
        }
    )
    return draft, skus


class FastServer:
    """The app in its own process, polling CURRENT every 10 ms."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log = (data_dir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE_FAST, str(self.port)], env=env, stdout=log, stderr=log
        )
        self.client = httpx.Client(base_url=self.url, timeout=5)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (data_dir / "server.log").read_text()
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError("the server did not start")

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=30)

    def build_id(self) -> str:
        return str(self.client.get("/healthz").json()["draft"]["build_id"])


@pytest.fixture(params=["preload", "on_demand"])
def reloading(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[FastServer, dict[str, str], Path]]:
    publish_snapshot(tmp_path / "serving", *draft_of(0))
    tokens_file = tmp_path / "api" / "tokens.json"
    tokens = {tenant: add_token(tokens_file, tenant, "reader") for tenant in TENANTS}
    env = subprocess_env(tmp_path) | {"FORECAST_HUB_CACHE_MODE": request.param}
    server = FastServer(tmp_path, env)
    try:
        yield server, tokens, tmp_path
    finally:
        server.stop()


def test_100_reloads_under_10_readers_fail_nothing_and_mix_no_builds(
    reloading: tuple[FastServer, dict[str, str], Path],
) -> None:
    server, tokens, data_dir = reloading
    stop = threading.Event()
    answered: list[int] = []
    problems: list[str] = []

    def read(number: int) -> None:
        tenant = list(TENANTS)[number % len(TENANTS)]
        headers = {"Authorization": f"Bearer {tokens[tenant]}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            while not stop.is_set():
                try:
                    response = client.get(f"/v1/tenants/{tenant}/forecast?limit=10000")
                except httpx.TransportError as error:
                    problems.append(f"transport: {error!r}")
                    continue
                if response.status_code != 200:
                    problems.append(f"{response.status_code}: {response.text[:200]}")
                    continue
                built = dt.datetime.fromisoformat(response.headers["X-Forecast-Built-At"])
                scale = round((built.replace(tzinfo=None) - BUILT_AT).total_seconds())
                rows = response.json()["rows"]
                scales = {int(row["draft_qty"] // 1000) for row in rows}
                if scales != {scale} or len(rows) != 8 * 12:
                    problems.append(f"build {scale} answered rows of builds {sorted(scales)}")
                answered.append(scale)
                # A pause between reads leaves the reloading thread some of the
                # server's time on a shared machine; ten clients still overlap.
                time.sleep(0.02)

    readers = [threading.Thread(target=read, args=(n,)) for n in range(10)]
    for reader in readers:
        reader.start()
    try:
        for scale in range(1, 101):
            build_id = publish_snapshot(data_dir / "serving", *draft_of(scale)).build_id
            deadline = time.monotonic() + 30
            while server.build_id() != build_id:
                assert time.monotonic() < deadline, f"build {scale} was not picked up"
                time.sleep(0.01)
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    assert problems == []
    assert len(set(answered)) > 20, "the readers saw too few of the builds to tell"
    metrics = httpx.get(f"{server.url}/metrics").text
    reloads = re.search(r"^forecast_hub_cache_reloads_total (\S+)$", metrics, re.M)
    assert reloads is not None and float(reloads.group(1)) == 101
    failures = re.search(r"^forecast_hub_cache_reload_failures_total (\S+)$", metrics, re.M)
    assert failures is not None and float(failures.group(1)) == 0


def _families(text: str) -> dict[str, list[tuple[str, dict[str, str], float]]]:
    families: dict[str, list[tuple[str, dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = [(s.name, s.labels, s.value) for s in family.samples]
    return families


def _value(
    families: dict[str, list[tuple[str, dict[str, str], float]]],
    family: str,
    sample: str,
    **labels: str,
) -> float:
    return sum(
        value
        for name, found, value in families.get(family, [])
        if name == sample and all(found.get(k) == v for k, v in labels.items())
    )


def test_metrics_parse_as_prometheus_text_and_move_with_the_traffic(tmp_path: Path) -> None:
    publish_snapshot(tmp_path / "serving", *draft_of(1))
    tokens_file = tmp_path / "api" / "tokens.json"
    token = add_token(tokens_file, "t1", "ann")
    server = FastServer(tmp_path, subprocess_env(tmp_path))
    try:
        client = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        before = _families(client.get("/metrics").text)
        for _ in range(7):
            assert client.get("/v1/tenants/t1/forecast", params={"sku_id": "t1-s03"}).is_success
        assert client.get("/v1/tenants/t1/forecast", params={"sku_id": "unknown"}).is_success
        assert client.get("/v1/tenants/t2/forecast").status_code == 403
        assert client.get("/v1/tenants/t1/nothing/t1-s03").status_code == 404
        scrape = client.get("/metrics")
        after = _families(scrape.text)
    finally:
        server.stop()
    assert scrape.headers["content-type"].startswith("text/plain")
    route = "/v1/tenants/{tenant_id}/forecast"
    requests = "forecast_hub_http_requests"
    latency = "forecast_hub_http_request_duration_seconds"

    def moved(family: str, sample: str, **labels: str) -> float:
        return _value(after, family, sample, **labels) - _value(before, family, sample, **labels)

    assert moved(requests, f"{requests}_total", route=route, status="200", method="GET") == 8
    assert moved(requests, f"{requests}_total", route=route, status="403") == 1
    assert moved(requests, f"{requests}_total", route="unmatched", status="404") == 1
    assert moved(latency, f"{latency}_count", route=route, status="200") == 8
    assert moved(latency, f"{latency}_bucket", route=route, status="200", le="+Inf") == 8
    assert moved(latency, f"{latency}_sum", route=route, status="200") > 0
    assert moved("forecast_hub_cache_hits", "forecast_hub_cache_hits_total") == 7
    assert moved("forecast_hub_cache_negative_hits", "forecast_hub_cache_negative_hits_total") == 1
    assert _value(after, "forecast_hub_cache_rows", "forecast_hub_cache_rows") == 3 * 8 * 12
    assert _value(after, "forecast_hub_cache_bytes", "forecast_hub_cache_bytes") > 0
    labels = {v for samples in after.values() for _, found, _ in samples for v in found.values()}
    named = {"t1", "t2", "t1-s03", "unknown"}
    assert not {v for v in labels if v in named or any(f"/{name}" in v for name in named)}


MEASURE = """
import gc, json, sys
from pathlib import Path
import pandas  # noqa: F401  (pyarrow imports it on its first array; not the draft's memory)
import pyarrow as pa
from forecast_hub.api.cache import CacheConfig, ForecastCache
from forecast_hub.api.generation import BuildSource, estimate_build
from forecast_hub.api.snapshot import current_build_id

def resident():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

def loaded(root, mode):
    cache = ForecastCache(root / "serving", CacheConfig(root / "cache", mode=mode))
    assert cache.refresh_now()
    generation = cache.current()
    for tenant in sorted(generation.directory):
        cache.tenant_now(generation, tenant)
    return cache

small, large, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
warm_up = loaded(small, mode)  # the readers, pools and threads a first load starts
source = BuildSource(large / "serving" / current_build_id(large / "serving"))
estimate = estimate_build(source.tenants, source.publication.columns, mode)
del source
gc.collect()
before = resident()
cache = loaded(large, mode)
gc.collect()
pa.default_memory_pool().release_unused()
print(json.dumps({"estimate": estimate, "growth": resident() - before,
                  "rows": cache.current().rows, "held": cache.current().nbytes}))
"""


def _big_draft(tenants: int, skus: int, horizon: int) -> tuple[pa.Table, pa.Table]:
    import numpy as np

    names = np.array([f"tenant-{t}" for t in range(tenants)], dtype=object)
    ids = np.array([f"SKU-{s:06d}" for s in range(skus)], dtype=object)
    rows = tenants * skus * horizon
    qty = np.random.default_rng(3).gamma(2.0, 10.0, rows).round(3)
    first = (dt.date(2027, 1, 4) - dt.date(1970, 1, 1)).days
    draft = pa.table(
        {
            "tenant_id": pa.array(np.repeat(names, skus * horizon), pa.string()),
            "sku_id": pa.array(np.tile(np.repeat(ids, horizon), tenants), pa.string()),
            "forecast_date": pa.array(
                (np.tile(np.arange(horizon) * 7, tenants * skus) + first).astype(np.int32)
            ).cast(pa.date32()),
            "step": pa.array(np.tile(np.arange(1, horizon + 1, dtype=np.int32), tenants * skus)),
            "draft_qty": pa.array(qty),
            "lower_qty": pa.array(qty * 0.8),
            "upper_qty": pa.array(qty * 1.2),
            "method": pa.array(np.full(rows, "top3_median", dtype=object), pa.string()),
            "members": pa.array(np.full(rows, "ses,naive,tsb", dtype=object), pa.string()),
            "built_at": pa.array(np.full(rows, np.datetime64("2027-01-03T06:00", "us"))),
        }
    )
    skus_table = pa.table(
        {
            "tenant_id": pa.array(np.repeat(names, skus), pa.string()),
            "sku_id": pa.array(np.tile(ids, tenants), pa.string()),
            "is_active": pa.array(np.ones(tenants * skus, dtype=bool)),
            "discontinued_date": pa.nulls(tenants * skus, pa.date32()),
        }
    )
    return draft, skus_table


@pytest.fixture(scope="module")
def drafts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    small = tmp_path_factory.mktemp("small")
    publish_snapshot(small / "serving", *_big_draft(2, 20, 10))
    large = tmp_path_factory.mktemp("large")
    publish_snapshot(large / "serving", *_big_draft(4, 3000, 50))
    return small, large


@pytest.mark.parametrize("mode", ["preload", "on_demand"])
def test_the_memory_estimate_is_within_a_quarter_of_the_resident_growth(
    drafts: tuple[Path, Path], mode: str
) -> None:
    small, large = drafts
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(small), str(large), mode],
        env=subprocess_env(large),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    assert measured["rows"] == 4 * 3000 * 50
    growth, estimate = measured["growth"], measured["estimate"]
    assert abs(estimate - growth) <= 0.25 * growth, measured
