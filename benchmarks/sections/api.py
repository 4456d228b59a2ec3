"""The API under load (benchmarks/api_load.py) against two floors measured beside it.

- The latencies against a bare HTTP round trip: a minimal server on uvloop
  that answers every request with a fixed two-byte body, in its own process,
  read by the same keep-alive client over the same loopback. No server can
  answer faster; the ratio is what the API adds to that.
- Durable edits per second against durable SQLite commits per second: one
  single-row insert per transaction in WAL mode with synchronous=FULL (what
  the edits store promises per acknowledged edit), back to back for the same
  number of seconds, on the same file system. Above 1 the server groups
  concurrent edits into fewer commits.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchmarks.api_load import Connection, LoadOptions, percentiles, run_load

from .common import BenchError, ratio

BARE_SERVER = """
import asyncio, sys, uvloop
ANSWER = b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\nContent-Type: application/json\\r\\n\\r\\n{}"
async def handle(reader, writer):
    while True:
        length = 0
        line = await reader.readline()
        if not line:
            break
        while (line := await reader.readline()) not in (b"\\r\\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        writer.write(ANSWER)
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()
uvloop.run(main())
"""


@dataclass(frozen=True)
class ApiResult:
    load: dict[str, Any]
    bare_round_trip: dict[str, float]
    sqlite_commits_per_s: float
    read_p50_ratio: float | None  # one-SKU read / bare round trip
    read_p99_ratio: float | None
    edit_to_visible_p50_ratio: float | None  # an edit and a read: two bare round trips
    edit_to_visible_p99_ratio: float | None
    edits_to_commits_ratio: float | None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _bare_samples(port: int, count: int) -> list[float]:
    conn = Connection(port, "none")
    await conn.open()
    samples = []
    for _ in range(200 + count):  # the first 200 warm up
        started = time.perf_counter()
        await conn.request("GET", "/v1/tenants/bench/forecast?sku_id=SKU-000001")
        samples.append(time.perf_counter() - started)
    await conn.close()
    return samples[200:]


def bare_round_trip(count: int) -> dict[str, float]:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise BenchError("the bare HTTP server did not start") from None
                time.sleep(0.05)
        return percentiles(asyncio.run(_bare_samples(port, count)))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def sqlite_commits_per_s(seconds: float) -> float:
    with tempfile.TemporaryDirectory(prefix="forecast-hub-bench-sqlite-") as scratch:
        conn = sqlite3.connect(Path(scratch) / "commits.sqlite", isolation_level=None)
        conn.execute("pragma journal_mode = wal")
        conn.execute("pragma synchronous = full")
        conn.execute("create table edits (sku_id text, forecast_date text, qty real)")
        commits = 0
        started = time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            conn.execute("begin")
            conn.execute("insert into edits values (?, '2026-01-05', ?)", ("SKU-1", commits))
            conn.execute("commit")
            commits += 1
        conn.close()
    return round(commits / elapsed, 1)


def run_api(options: LoadOptions) -> ApiResult:
    with tqdm(total=3, desc="API load", unit="part", leave=False) as bar:
        bar.set_postfix_str("the API")
        load = run_load(options)
        bar.update()
        bar.set_postfix_str("bare HTTP")
        bare = bare_round_trip(options.reads)
        bar.update()
        bar.set_postfix_str("SQLite commits")
        commits = sqlite_commits_per_s(min(options.seconds, 5.0))
        bar.update()
    read, visible = load["one_sku_read"], load["edit_to_visible"]
    return ApiResult(
        load=load,
        bare_round_trip=bare,
        sqlite_commits_per_s=commits,
        read_p50_ratio=ratio(read["p50_ms"], bare["p50_ms"]),
        read_p99_ratio=ratio(read["p99_ms"], bare["p99_ms"]),
        edit_to_visible_p50_ratio=ratio(visible["p50_ms"], 2 * bare["p50_ms"]),
        edit_to_visible_p99_ratio=ratio(visible["p99_ms"], 2 * bare["p99_ms"]),
        edits_to_commits_ratio=ratio(load["sustained_edits"]["edits_per_second"], commits),
    )
