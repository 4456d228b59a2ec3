"""The API under load (benchmarks/api_load.py) against two floors measured beside it.

- The latencies against a bare HTTP round trip: a minimal server on uvloop
  that answers every request with a fixed two-byte body, in its own process,
  read by the same keep-alive client over the same loopback. No server can
  answer faster; the ratio is what the API adds to that. For the ratios, the
  API and the bare server run side by side and get their requests in turn
  (a one-SKU read, a bare round trip, an edit-to-visible), so both sides see
  the same moments of the machine's load.
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

from benchmarks.api_load import (
    TENANT,
    Connection,
    LoadOptions,
    edit_to_visible,
    one_sku_reads,
    percentiles,
    publish_draft,
    run_load,
    start_server,
)
from forecast_hub.api.tokens import add_token

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
    side_by_side: dict[str, dict[str, float]]  # read, bare, visible: taken in turn
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


async def _paired_samples(
    api_port: int, token: str, bare_port: int, skus: list[str], count: int
) -> dict[str, list[float]]:
    """One-SKU reads, bare round trips and edit-to-visible samples, taken in turn."""
    api, bare = Connection(api_port, token), Connection(bare_port, "none")
    await api.open()
    await bare.open()
    samples: dict[str, list[float]] = {"read": [], "bare": [], "visible": []}
    for number in range(200 + count):  # the first 200 warm up
        read = await one_sku_reads(api, skus, 1)
        started = time.perf_counter()
        await bare.request("GET", f"/v1/tenants/{TENANT}/forecast?sku_id={skus[0]}")
        floor = time.perf_counter() - started
        visible = await edit_to_visible(api, skus, 1)
        if number >= 200:
            samples["read"] += read
            samples["bare"].append(floor)
            samples["visible"] += visible
    await api.close()
    await bare.close()
    return samples


def _start_bare() -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", BARE_SERVER, str(port)])
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, port
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise BenchError("the bare HTTP server did not start") from None
            time.sleep(0.05)


def paired(options: LoadOptions) -> dict[str, dict[str, float]]:
    """The API and the bare server side by side, each request of one kind after the other."""
    with tempfile.TemporaryDirectory(prefix="forecast-hub-bench-api-") as scratch:
        data_dir = Path(scratch)
        token = add_token(data_dir / "api" / "tokens.json", TENANT, "bench")
        skus = publish_draft(data_dir, options.skus)
        api, api_port = start_server(data_dir)
        bare, bare_port = _start_bare()
        try:
            samples = asyncio.run(_paired_samples(api_port, token, bare_port, skus, options.reads))
        finally:
            for server in (api, bare):
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=60)
    return {name: percentiles(values) for name, values in samples.items()}


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
        bar.set_postfix_str("the API beside a bare HTTP server")
        side_by_side = paired(options)
        bar.update()
        bar.set_postfix_str("SQLite commits")
        commits = sqlite_commits_per_s(min(options.seconds, 5.0))
        bar.update()
    read, bare, visible = side_by_side["read"], side_by_side["bare"], side_by_side["visible"]
    return ApiResult(
        load=load,
        side_by_side=side_by_side,
        sqlite_commits_per_s=commits,
        read_p50_ratio=ratio(read["p50_ms"], bare["p50_ms"]),
        read_p99_ratio=ratio(read["p99_ms"], bare["p99_ms"]),
        edit_to_visible_p50_ratio=ratio(visible["p50_ms"], 2 * bare["p50_ms"]),
        edit_to_visible_p99_ratio=ratio(visible["p99_ms"], 2 * bare["p99_ms"]),
        edits_to_commits_ratio=ratio(load["sustained_edits"]["edits_per_second"], commits),
    )
