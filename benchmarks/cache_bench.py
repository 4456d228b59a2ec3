"""The API's forecast cache against littletable and against the tuple loader it replaced.

Publishes one synthetic draft (default 4 tenants x 5,000 SKUs x 50 weekly
periods = 1,000,000 rows, with the interval and members columns) and loads
it, each in a fresh process so resident memory can be measured (after a
small draft was loaded the same way, so what any first load starts, pandas
and Arrow's pools among it, is not counted):

- littletable (3.0.2): one namedtuple per row, a unique index on
  (tenant, SKU, date) and one on (tenant, SKU);
- the cache, cold (from the Parquet, writing its local copy) and warm (from
  the memory-mapped copy);
- the tuple loader the cache replaced, run from the repository's history
  (``--before``, default: the commit before the cache was added).

For each: bytes per row (resident growth), load seconds, a one-SKU page read
(the SKU's whole horizon as the API reads it: for the cache, dates as date
objects and each quantity a view whose items are floats as they are read; for
the cache also with every value made a Python object) and a point look-up
(one SKU and date), in microseconds of CPU. Then the API itself, old and new, over HTTP: the
p50 and p99 of one-SKU reads by one keep-alive client per server, the two
servers running side by side and asked in turn. Goals: <= 40 bytes a
row, a page <= 5 us, a point <= 2 us, a warm start <= 150 ms for 1M rows.

    python benchmarks/cache_bench.py [--tenants 4] [--skus 5000] [--horizon 50]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FIRST = dt.date(2027, 1, 4)
SERVE = (
    "import sys; from forecast_hub.api import serve; from forecast_hub.settings import Settings;"
    " serve(Settings.from_env(), port=int(sys.argv[1]), log_level='warning')"
)
Probe = tuple[str, str, dt.date]


def tenant_name(t: int) -> str:
    return f"tenant-{t}"


def sku_name(s: int) -> str:
    return f"SKU-{s:06d}"


def publish(data: Path, tenants: int, skus: int, horizon: int) -> int:
    """The synthetic draft, published as dbt publishes it; its row count."""
    import numpy as np
    import pyarrow as pa

    from forecast_hub.api.snapshot import publish_snapshot

    names = np.array([tenant_name(t) for t in range(tenants)], dtype=object)
    ids = np.array([sku_name(s) for s in range(skus)], dtype=object)
    rows, series = tenants * skus * horizon, tenants * skus
    rng = np.random.default_rng(1)
    qty = rng.gamma(2.0, 10.0, rows).round(3)
    short = np.repeat(rng.random(series) < 0.2, horizon)
    method = np.where(short, "short_history_mean", "top3_median").astype(object)
    members = np.full(series * horizon, "ses,naive,tsb", dtype=object)
    members[short] = None
    epoch_day = (FIRST - dt.date(1970, 1, 1)).days
    draft = pa.table(
        {
            "tenant_id": pa.array(np.repeat(names, skus * horizon), pa.string()),
            "sku_id": pa.array(np.tile(np.repeat(ids, horizon), tenants), pa.string()),
            "forecast_date": pa.array(
                (np.tile(np.arange(horizon) * 7, series) + epoch_day).astype(np.int32)
            ).cast(pa.date32()),
            "step": pa.array(np.tile(np.arange(1, horizon + 1, dtype=np.int32), series)),
            "draft_qty": pa.array(qty),
            "lower_qty": pa.array(np.where(short, np.nan, qty * 0.7)).cast(pa.float64()),
            "upper_qty": pa.array(np.where(short, np.nan, qty * 1.3)).cast(pa.float64()),
            "method": pa.array(method, pa.string()),
            "members": pa.array(members, pa.string()),
            "built_at": pa.array(np.full(rows, np.datetime64("2027-01-03T06:00", "us"))),
        }
    )
    known = pa.table(
        {
            "tenant_id": pa.array(np.repeat(names, skus), pa.string()),
            "sku_id": pa.array(np.tile(ids, tenants), pa.string()),
            "is_active": pa.array(np.ones(series, dtype=bool)),
            "discontinued_date": pa.nulls(series, pa.date32()),
        }
    )
    publish_snapshot(data / "serving", draft, known)
    return rows


def probes(tenants: int, skus: int, horizon: int, count: int = 20_000) -> list[Probe]:
    rng = random.Random(2)
    return [
        (
            tenant_name(rng.randrange(tenants)),
            sku_name(rng.randrange(skus)),
            FIRST + dt.timedelta(weeks=rng.randrange(horizon)),
        )
        for _ in range(count)
    ]


def resident() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def per_call_us(function: Callable[[Probe], object], sample: list[Probe]) -> float:
    """The median over five passes of the mean CPU time of one call, in microseconds
    (CPU time, not wall time: on a shared machine it moves less with the others' load)."""
    passes = []
    for _ in range(5):
        started = time.process_time()
        for probe in sample:
            function(probe)
        passes.append((time.process_time() - started) / len(sample) * 1e6)
    return round(statistics.median(passes), 3)


def measured(
    before: int,
    started: float,
    rows: int,
    page: Callable[[Probe], object],
    point: Callable[[Probe], object],
    sample: list[Probe],
) -> dict[str, Any]:
    seconds = time.perf_counter() - started
    gc.collect()
    growth = resident() - before
    return {
        "load_seconds": round(seconds, 3),
        "bytes_per_row": round(growth / rows, 1),
        "page_us": per_call_us(page, sample),
        "point_us": per_call_us(point, sample),
    }


def warm_up(load: Callable[[Path], object], data: Path) -> None:
    """Load the small draft beside ``data`` first: what a first load starts (pandas,
    which pyarrow imports, Arrow's pools and readers) is not the draft's memory."""
    import pandas  # noqa: F401

    load(data.parent / "small")
    gc.collect()


def measure_littletable(data: Path, sample: list[Probe]) -> dict[str, Any]:
    import collections

    import littletable as lt
    import pyarrow.parquet as pq

    from forecast_hub.api.snapshot import current_build_id

    fields = "tenant_id sku_id forecast_date step draft_qty lower_qty upper_qty method members"
    # One namedtuple a row, the two keys littletable indexes among its fields.
    named: Any = collections.namedtuple
    row = named("Row", [*fields.split(), "series_key", "row_key"])

    def load(root: Path) -> Any:
        folder = root / "serving" / str(current_build_id(root / "serving"))
        table: Any = lt.Table()
        table.create_index("row_key", unique=True)
        table.create_index("series_key")
        for batch in pq.ParquetFile(folder / "draft.parquet").iter_batches(100_000):
            columns = batch.to_pydict()
            table.insert_many(
                row(t, s, d, *rest, (t, s), (t, s, d))
                for t, s, d, *rest in zip(*(columns[name] for name in fields.split()), strict=True)
            )
        return table

    warm_up(load, data)
    before, started = resident(), time.perf_counter()
    table = load(data)

    def page(probe: Probe) -> object:
        return list(table.by.series_key[(probe[0], probe[1])])

    def point(probe: Probe) -> object:
        return table.by.row_key[probe].draft_qty

    return measured(before, started, len(table), page, point, sample[:2000])


def measure_cache(data: Path, sample: list[Probe], warm: bool) -> dict[str, Any]:
    from forecast_hub.api.cache import CacheConfig, ForecastCache

    def load(root: Path) -> ForecastCache:
        cache = ForecastCache(root / "serving", CacheConfig(root / "cache", mode="preload"))
        assert cache.refresh_now()
        return cache

    if not warm:
        shutil.rmtree(data / "cache", ignore_errors=True)
    warm_up(load, data)
    before, started = resident(), time.perf_counter()
    generation = load(data).current()
    held = generation.resident

    def page(probe: Probe) -> object:
        return held[probe[0]].series(probe[1])

    def point(probe: Probe) -> object:
        return held[probe[0]].draft_qty_of(probe[1], probe[2])

    def values(probe: Probe) -> object:
        series = held[probe[0]].series(probe[1])
        assert series is not None
        fields = (series.draft_qty, series.lower_qty, series.upper_qty, series.steps)
        return [list(field) for field in fields if field is not None]

    result = measured(before, started, generation.rows, page, point, sample)
    result["held_bytes_per_row"] = round(generation.nbytes / generation.rows, 1)
    result["page_values_us"] = per_call_us(values, sample)
    return result


def measure_tuples(data: Path, sample: list[Probe]) -> dict[str, Any]:
    """The loader before the cache (run with the old code on PYTHONPATH)."""
    import bisect

    from forecast_hub.api.snapshot import (  # type: ignore[attr-defined]
        current_build_id,
        load_snapshot,
    )

    def load(root: Path) -> Any:
        return load_snapshot(root / "serving", current_build_id(root / "serving"))

    warm_up(load, data)
    before, started = resident(), time.perf_counter()
    snapshot = load(data)
    tenants = snapshot.tenants

    def page(probe: Probe) -> object:
        series = tenants[probe[0]].series[probe[1]]
        window = series.span(None, None)
        return series.dates[window.start : window.stop], series.draft_qty[
            window.start : window.stop
        ]

    def point(probe: Probe) -> object:
        series = tenants[probe[0]].series[probe[1]]
        return series.draft_qty[bisect.bisect_left(series.dates, probe[2])]

    return measured(before, started, snapshot.publication.draft_rows, page, point, sample)


def commit_before_cache() -> str:
    """The commit before the one that added the cache (its tuple loader is the 'before')."""
    added = subprocess.run(
        [
            "git",
            "-C",
            str(REPO),
            "log",
            "--diff-filter=A",
            "--format=%H",
            "--",
            "scripts/forecast_hub/api/cache.py",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not added:
        raise SystemExit("no commit adds scripts/forecast_hub/api/cache.py: pass --before REF")
    return f"{added[-1]}^"


def old_scripts(ref: str, work: Path) -> Path:
    """scripts/ of ``ref``, extracted from git into ``work`` (kept for later runs)."""
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", ref], capture_output=True, text=True, check=True
    ).stdout.strip()
    target = work / f"before-{commit[:12]}"
    if not (target / "scripts").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit, "scripts"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "scripts"


def in_process(kind: str, data: Path, args: argparse.Namespace, scripts: Path) -> dict[str, Any]:
    """Run one ``--measure`` in a fresh interpreter with ``scripts`` first on the path."""
    command = [sys.executable, __file__, "--measure", kind, "--data", str(data)]
    command += ["--tenants", str(args.tenants), "--skus", str(args.skus)]
    command += ["--horizon", str(args.horizon)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(scripts), str(REPO / "benchmarks")])}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {kind}: {result}", flush=True)
    return result


def in_processes(kind: str, data: Path, args: argparse.Namespace, scripts: Path) -> dict[str, Any]:
    """``in_process`` ``args.processes`` times: each figure the median over the
    processes, its lowest and highest beside it. A figure of microseconds moves
    by a third from one process to the next here (where its memory lands), far
    more than between passes within one."""
    runs = [in_process(kind, data, args, scripts) for _ in range(args.processes)]
    result: dict[str, Any] = {
        key: round(statistics.median(run[key] for run in runs), 3) for key in runs[0]
    }
    result["ranges"] = {
        key: [min(run[key] for run in runs), max(run[key] for run in runs)] for key in runs[0]
    }
    return result


def server_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Served:
    """`serve` over one data folder with the package from ``scripts``, and its token."""

    def __init__(self, data: Path, scripts: Path) -> None:
        from forecast_hub.api.tokens import add_token

        self.data = data
        self.token = add_token(data / "api" / "tokens.json", tenant_name(0), "bench")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = {**os.environ, "FORECAST_HUB_DATA_DIR": str(data), "PYTHONPATH": str(scripts)}
        log = (data / "server.log").open("ab")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(self.port)], env=env, stdout=log, stderr=log
        )
        self.ready_seconds = 0.0

    def wait_ready(self) -> None:
        import urllib.error
        import urllib.request

        while True:
            if self.process.poll() is not None or time.perf_counter() - self.started > 300:
                raise SystemExit(f"the server did not start; see {self.data / 'server.log'}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        self.ready_seconds = time.perf_counter() - self.started

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)


def http_reads(
    servers: dict[str, Served], args: argparse.Namespace, sample: list[Probe]
) -> dict[str, dict[str, Any]]:
    """p50 and p99 of one-SKU reads over HTTP, one keep-alive client per server, the
    servers' requests interleaved (so a shared machine's load weighs on both alike)."""
    from api_load import Connection, percentiles

    skus = [sku for tenant, sku, _ in sample if tenant == tenant_name(0)]

    async def reads() -> dict[str, list[float]]:
        conns = {name: Connection(served.port, served.token) for name, served in servers.items()}
        for conn in conns.values():
            await conn.open()
        samples: dict[str, list[float]] = {name: [] for name in conns}
        for number in range(200 + args.reads):
            path = f"/v1/tenants/{tenant_name(0)}/forecast?sku_id={skus[number % len(skus)]}"
            for name, conn in conns.items():
                begun = time.perf_counter()
                status, body = await conn.request("GET", path)
                samples[name].append(time.perf_counter() - begun)
                assert status == 200 and len(json.loads(body)["rows"]) == args.horizon
        for conn in conns.values():
            await conn.close()
        return {name: latencies[200:] for name, latencies in samples.items()}

    latencies = asyncio.run(reads())
    return {
        name: {
            **percentiles(latencies[name]),
            "server_rss_mb": round(server_rss(served.process.pid) / 2**20, 1),
            "start_seconds": round(served.ready_seconds, 2),
        }
        for name, served in servers.items()
    }


def copy_data(data: Path, name: str, work: Path) -> Path:
    target = work / name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copytree(data / "serving", target / "serving")
    return target


GOALS = {"bytes_per_row": "<= 40", "page_us": "<= 5", "point_us": "<= 2"}


def report(results: dict[str, Any], rows: int) -> None:
    columns = ("littletable", "tuples_before", "cache_cold", "cache_warm")
    print(f"\n{rows:,} draft rows; the machine may be shared, so figures vary run to run")
    print(f"{'':24}" + "".join(f"{c:>15}" for c in columns) + f"{'goal':>10}")
    for key, label in (
        ("bytes_per_row", "bytes a row (RSS)"),
        ("load_seconds", "load seconds"),
        ("page_us", "one-SKU page, us"),
        ("point_us", "point look-up, us"),
    ):
        cells = "".join(f"{results[c][key]:>15}" for c in columns)
        goal = GOALS.get(key, "<= 0.15" if key == "load_seconds" else "")
        print(f"{label:24}{cells}{goal if key != 'load_seconds' else '(warm) <= 0.15':>10}")
    warm = results["cache_warm"]
    for kind in ("cache_cold", "cache_warm"):
        spans = ", ".join(
            f"{key} {low} to {high}" for key, (low, high) in results[kind]["ranges"].items()
        )
        print(f"{kind}, lowest to highest of the processes: {spans}")
    print(f"cache bytes a row as it counts them: {warm['held_bytes_per_row']}")
    print(
        f"cache one-SKU page with every value made a Python object: {warm['page_values_us']} us"
        " (the page above makes them as they are read)"
    )
    for name in ("http_before", "http_after"):
        http = results[name]
        print(
            f"HTTP one-SKU read, {name.split('_')[1]}: p50 {http['p50_ms']} ms, "
            f"p99 {http['p99_ms']} ms; server RSS {http['server_rss_mb']} MB, "
            f"ready in {http['start_seconds']} s"
        )


def measure_only(args: argparse.Namespace) -> None:
    sample = probes(args.tenants, args.skus, args.horizon)
    kinds: dict[str, Callable[[], dict[str, Any]]] = {
        "littletable": lambda: measure_littletable(args.data, sample),
        "cache_cold": lambda: measure_cache(args.data, sample, warm=False),
        "cache_warm": lambda: measure_cache(args.data, sample, warm=True),
        "tuples_before": lambda: measure_tuples(args.data, sample),
    }
    print(json.dumps(kinds[args.measure]()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=4, help="Tenants in the draft.")
    parser.add_argument("--skus", type=int, default=5000, help="SKUs per tenant.")
    parser.add_argument("--horizon", type=int, default=50, help="Weekly periods per SKU.")
    parser.add_argument("--reads", type=int, default=2000, help="HTTP one-SKU reads per server.")
    parser.add_argument(
        "--processes", type=int, default=3, help="Fresh processes per cache measure (median)."
    )
    parser.add_argument("--work", type=Path, default=None, help="Scratch folder (kept).")
    parser.add_argument(
        "--before",
        default=None,
        help="The 'before' commit (default: the commit before the cache was added).",
    )
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure_only(args)
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="forecast-hub-cache-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "draft"
    for folder in (data, work / "small"):
        shutil.rmtree(folder, ignore_errors=True)
    publish(work / "small", 2, 20, 10)
    rows = publish(data, args.tenants, args.skus, args.horizon)
    print(f"published {rows:,} rows under {data}", flush=True)
    before = old_scripts(args.before or commit_before_cache(), work)
    now = REPO / "scripts"
    results = {
        "littletable": in_process("littletable", data, args, now),
        "tuples_before": in_process("tuples_before", data, args, before),
        "cache_cold": in_processes("cache_cold", data, args, now),
        "cache_warm": in_processes("cache_warm", data, args, now),
    }
    sample = probes(args.tenants, args.skus, args.horizon)
    servers = {
        "http_before": Served(copy_data(data, "http-before", work), before),
        "http_after": Served(copy_data(data, "http-after", work), now),
    }
    try:
        for served in servers.values():
            served.wait_ready()
        results.update(http_reads(servers, args, sample))
    finally:
        for served in servers.values():
            served.stop()
    print(f"  http: {results['http_before']} before, {results['http_after']} after", flush=True)
    (work / "cache_bench.json").write_text(json.dumps(results, indent=2), "utf-8")
    report(results, rows)


if __name__ == "__main__":
    main()
