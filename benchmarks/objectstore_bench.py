"""Object storage: a cold start, edit acknowledgement in sync against local, kill -9 trials.

Runs a moto S3 server on 127.0.0.1 and measures:

- cold start: an edits store of about --store-mb MB as the bucket's snapshot,
  opened on an empty folder as `serve` opens it (download, replay, open) up
  to the answer of the first read of a page of 100 SKUs with their edits;
  goal < 1 s. Also when every edit is in memory (read in the background).
- edit acknowledgement p50/p99 (one client) and sustained edits/s with
  --clients clients, `serve` in local durability and in sync; goal: sync at
  least 70 % of local's edits/s.
- --trials kill -9 trials in sync: the edits store in a process of its own
  (tests/python/functional/edits_worker.py, forked per trial) under a write
  load, killed at a random point, started again on an empty folder; then a
  cold start must hold every acknowledged edit. Goal: 0 lost.

    python benchmarks/objectstore_bench.py [--store-mb 50] [--clients 10] [--trials 200]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from api_load import Connection, percentiles, publish_draft, start_server, sustained_edits

from forecast_hub.api.edits import EditsStore
from forecast_hub.api.tokens import add_token
from forecast_hub.hybrid.migrate import migrate_sqlite
from forecast_hub.hybrid.store import connect_store
from forecast_hub.hybrid.tables import SCHEMA
from forecast_hub.objectstore import ObjectStore
from forecast_hub.objectstore.persistence import EditsPersistence
from forecast_hub.objectstore.restore import build_from_bucket

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "python" / "functional" / "edits_worker.py"
DATE = dt.date(2026, 1, 5)
KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1"}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_moto(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    with (folder / "moto.log").open("ab") as log:
        process = subprocess.Popen(
            [str(moto), "-p", str(port), "-H", "127.0.0.1"], stdout=log, stderr=log
        )
    import socket

    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("moto_server did not start")


def new_bucket() -> str:
    import boto3

    name = f"bench-{uuid.uuid4().hex[:10]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return f"s3://{name}/hub"


def cold_start(folder: Path, megabytes: int) -> dict[str, Any]:
    """A store of ``megabytes`` as the bucket's snapshot, restored into an empty folder."""
    url = new_bucket()
    source = folder / "big" / "edits.sqlite"
    source.parent.mkdir(parents=True)
    conn = connect_store(source)
    migrate_sqlite(conn, SCHEMA)
    rows, reason = 0, "x" * 120
    conn.execute("begin")
    while source.stat().st_size < megabytes * 1_000_000:
        batch = [
            (
                "bench",
                f"SKU-{rows + k:07d}",
                "2026-01-05",
                1.0,
                reason,
                "u",
                "2026-01-01 00:00:00.000000",
                1,
                0,
            )
            for k in range(20_000)
        ]
        conn.executemany("insert into manual_edits_ht values (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
        conn.execute("commit")
        conn.execute("begin")
        rows += len(batch)
    conn.execute("commit")
    conn.close()
    EditsPersistence(ObjectStore(url), source, "sync").snapshot()
    page = [f"SKU-{k:07d}" for k in range(0, rows, rows // 100)]
    return asyncio.run(_cold_start(url, folder / "cold" / "edits.sqlite", page))


async def _cold_start(url: str, target: Path, page: list[str]) -> dict[str, Any]:
    """From an empty folder to the first read of a page with its edits, as `serve` opens
    the store (restore, migrate, open); then until every edit is in memory."""
    started = time.perf_counter()
    persistence = EditsPersistence(ObjectStore(url), target, "sync")
    store = EditsStore(target, persistence=persistence)
    store.open()
    # What a page's read does (merge.py): the tenant's edits, looked up row by row.
    edits = store.tenant_edits("bench")
    found = [edits.get((sku, DATE)) for sku in page] if edits else []
    seconds = time.perf_counter() - started
    hits = sum(edit is not None for edit in found)
    assert hits == len(page), f"the first read found {hits} of {len(page)} edits"
    while store.cache.unloaded:
        await asyncio.sleep(0.01)
    in_memory = time.perf_counter() - started
    restored = persistence.restored
    store.close()
    assert restored is not None
    return {
        "store_mb": round(restored.snapshot_bytes / 1e6, 1),
        "edits": len(store.tenant_edits("bench")),
        "seconds": round(seconds, 3),
        "restore_seconds": round(restored.seconds, 3),
        "all_edits_in_memory_seconds": round(in_memory, 3),
    }


async def acknowledgement(port: int, token: str, skus: list[str], count: int) -> list[float]:
    conn = Connection(port, token)
    await conn.open()
    samples = []
    for n in range(count):
        body = json.dumps(
            {"edits": [{"sku_id": random.choice(skus), "forecast_date": "2026-01-05", "qty": n}]}
        ).encode()
        started = time.perf_counter()
        status, _ = await conn.request("PUT", "/v1/tenants/bench/edits", body)
        samples.append(time.perf_counter() - started)
        assert status == 200, status
    await conn.close()
    return samples


def serve_and_measure(
    folder: Path, env: dict[str, str], args: argparse.Namespace
) -> dict[str, Any]:
    folder.mkdir(parents=True)
    token = add_token(folder / "api" / "tokens.json", "bench", "bench")
    skus = publish_draft(folder, 500)
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        server, port = start_server(folder)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        acks = asyncio.run(acknowledgement(port, token, skus, args.edits))
        acked, elapsed, latencies = asyncio.run(
            sustained_edits(port, token, skus, args.clients, args.seconds)
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    return {
        "ack": percentiles(acks),
        "edits_per_second": round(acked / elapsed, 1),
        "put_latency_10_clients": percentiles(latencies),
    }


def _collect(answers: Any, lines: list[str]) -> None:
    lines.extend(raw.decode().strip() for raw in answers)


def kill_trials(folder: Path, endpoint: str, trials: int) -> dict[str, Any]:
    url = new_bucket()
    folder.mkdir(parents=True)
    zygote = subprocess.Popen(
        [sys.executable, str(WORKER), "--zygote"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(folder / "zygote.log").open("ab"),
    )
    assert zygote.stdin is not None and zygote.stdout is not None
    rng = random.Random(200)
    acknowledged: set[int] = set()
    n = 0
    for trial in range(trials):
        here = folder / f"trial-{trial}"
        here.mkdir(parents=True)
        env = {
            **KEYS,
            "AWS_ENDPOINT_URL": endpoint,
            "FORECAST_HUB_OBJECT_STORE": url,
            "FORECAST_HUB_DATA_DIR": str(here),
        }
        (here / "env.json").write_text(json.dumps(env))
        os.mkfifo(here / "in")
        os.mkfifo(here / "out")
        line = f"{here / 'env.json'} {here / 'in'} {here / 'out'} {here / 'worker.log'}\n"
        zygote.stdin.write(line.encode())
        zygote.stdin.flush()
        pid = int(zygote.stdout.readline().split()[1])
        feed, answers = (here / "in").open("wb"), (here / "out").open("rb")
        lines: list[str] = []
        reader = threading.Thread(target=_collect, args=(answers, lines), daemon=True)
        reader.start()
        while "ready" not in lines:
            time.sleep(0.005)
        deadline = time.monotonic() + rng.uniform(0.05, 0.4)
        try:
            while time.monotonic() < deadline:
                for _ in range(rng.randint(1, 6)):
                    feed.write(f"{n} s{rng.randrange(12)}\n".encode())
                    n += 1
                feed.flush()
                time.sleep(rng.uniform(0.001, 0.01))
        except BrokenPipeError:
            pass
        os.kill(pid, signal.SIGKILL)
        while True:
            try:
                os.kill(pid, 0)
                time.sleep(0.005)
            except ProcessLookupError:
                break
        reader.join(timeout=10)
        acknowledged |= {int(x.split()[1]) for x in lines if x.startswith("ok ")}
    zygote.stdin.close()
    zygote.wait(timeout=30)
    built = build_from_bucket(ObjectStore(url), folder / "cold" / "edits.sqlite")
    with sqlite3.connect(built.path) as conn:
        logged = {int(q) for (q,) in conn.execute("select new_qty from manual_edit_log_ht")}
    return {
        "trials": trials,
        "edits_sent": n,
        "acknowledged": len(acknowledged),
        "acknowledged_lost": len(acknowledged - logged),
    }


def step(report: dict[str, Any], name: str, value: Any) -> None:
    """Each figure as soon as it is measured (stderr), all of them at the end (stdout)."""
    report[name] = value
    print(f"{name}: {json.dumps(value)}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--store-mb", type=int, default=50)
    parser.add_argument("--edits", type=int, default=300, help="Acknowledgement samples.")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    random.seed(1)
    with tempfile.TemporaryDirectory(prefix="forecast-hub-objectstore-") as scratch:
        folder = Path(scratch)
        moto, endpoint = start_moto(folder)
        os.environ.update({**KEYS, "AWS_ENDPOINT_URL": endpoint})
        try:
            report: dict[str, Any] = {}
            step(report, "cold_start", cold_start(folder / "cold", args.store_mb))
            local_env = {"FORECAST_HUB_EDITS_DURABILITY": "local"}
            step(report, "local", serve_and_measure(folder / "local", local_env, args))
            sync_env = {"FORECAST_HUB_OBJECT_STORE": new_bucket()}
            step(report, "sync", serve_and_measure(folder / "sync", sync_env, args))
            local, sync = report["local"]["edits_per_second"], report["sync"]["edits_per_second"]
            step(report, "sync_over_local", round(sync / local, 3) if local else None)
            step(report, "kill_9", kill_trials(folder / "kills", endpoint, args.trials))
        finally:
            moto.terminate()
            moto.wait(timeout=30)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
