"""Load on the forecast API: edit-to-visible latency, one-SKU reads, durable edits/s.

Starts `serve` over a synthetic published draft in a scratch data folder
(one tenant, --skus SKUs x 91 daily periods), then measures over real
sockets with a minimal HTTP/1.1 keep-alive client on asyncio streams (so the
client costs little next to the server):

- edit-to-visible: PUT one edit, then GET that SKU and date; from sending
  the PUT to the GET answering with the new quantity (one client).
- one-SKU read: GET one SKU's whole horizon (one client).
- sustained durable edits/s: --clients clients each sending single-edit PUTs
  back to back for --seconds; only acknowledged (committed, fsynced) edits count.

Targets: edit-to-visible p99 < 10 ms, one-SKU read p99 < 5 ms,
>= 1,000 durable edits/s with 10 clients.

    python benchmarks/api_load.py [--skus 500] [--seconds 10] [--clients 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from forecast_hub.api.snapshot import publish_snapshot
from forecast_hub.api.tokens import add_token

SERVE = (
    "import sys; from forecast_hub.api import serve; from forecast_hub.settings import Settings;"
    " serve(Settings.from_env(), port=int(sys.argv[1]), log_level='warning')"
)
TENANT = "bench"
FIRST = dt.date(2026, 1, 5)
HORIZON = 91


class Connection:
    """One keep-alive HTTP/1.1 connection; enough of the protocol for this API."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.auth = f"Authorization: Bearer {token}\r\n".encode()
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(body)}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self.writer.write(head + self.auth + b"\r\n" + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) != b"\r\n":
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        "n": len(ordered),
    }


def edit_body(sku: str, date: dt.date, qty: float) -> bytes:
    edit = {"sku_id": sku, "forecast_date": date.isoformat(), "qty": qty}
    return json.dumps({"edits": [edit]}).encode()


async def edit_to_visible(conn: Connection, skus: list[str], count: int) -> list[float]:
    samples = []
    for n in range(count):
        sku = random.choice(skus)
        date = FIRST + dt.timedelta(days=random.randrange(HORIZON))
        qty = float(n)
        started = time.perf_counter()
        status, _ = await conn.request(
            "PUT", f"/v1/tenants/{TENANT}/edits", edit_body(sku, date, qty)
        )
        assert status == 200, status
        day = date.isoformat()
        status, body = await conn.request(
            "GET", f"/v1/tenants/{TENANT}/forecast?sku_id={sku}&start={day}&end={day}"
        )
        samples.append(time.perf_counter() - started)
        assert status == 200 and json.loads(body)["rows"][0]["manual_qty"] == qty
    return samples


async def one_sku_reads(conn: Connection, skus: list[str], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        path = f"/v1/tenants/{TENANT}/forecast?sku_id={random.choice(skus)}"
        started = time.perf_counter()
        status, body = await conn.request("GET", path)
        samples.append(time.perf_counter() - started)
        assert status == 200 and len(json.loads(body)["rows"]) == HORIZON
    return samples


async def sustained_edits(
    port: int, token: str, skus: list[str], clients: int, seconds: float
) -> tuple[int, float, list[float]]:
    latencies: list[float] = []
    acknowledged = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal acknowledged
        conn = Connection(port, token)
        await conn.open()
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            body = edit_body(
                random.choice(skus), FIRST + dt.timedelta(days=random.randrange(HORIZON)), n
            )
            started = time.perf_counter()
            status, _ = await conn.request("PUT", f"/v1/tenants/{TENANT}/edits", body)
            latencies.append(time.perf_counter() - started)
            if status == 200:
                acknowledged += 1
        await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return acknowledged, time.perf_counter() - started, latencies


def publish_draft(data_dir: Path, sku_count: int) -> list[str]:
    skus = [f"SKU-{n:06d}" for n in range(sku_count)]
    dates = [FIRST + dt.timedelta(days=k) for k in range(HORIZON)]
    rows = len(skus) * HORIZON
    draft = pa.table(
        {
            "tenant_id": [TENANT] * rows,
            "sku_id": [sku for sku in skus for _ in dates],
            "forecast_date": dates * len(skus),
            "step": pa.array(list(range(1, HORIZON + 1)) * len(skus), pa.int32()),
            "draft_qty": [float(k % 17) for k in range(rows)],
            "method": ["ses"] * rows,
            "built_at": [dt.datetime(2026, 1, 4, 6, 0)] * rows,
        }
    )
    known = pa.table(
        {
            "tenant_id": [TENANT] * len(skus),
            "sku_id": skus,
            "is_active": [True] * len(skus),
            "discontinued_date": pa.array([None] * len(skus), pa.date32()),
        }
    )
    publish_snapshot(data_dir / "serving", draft, known)
    return skus


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "FORECAST_HUB_DATA_DIR": str(data_dir)}
    log = (data_dir / "server.log").open("ab")
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port)], env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server, port
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit(f"the server did not start; see {data_dir / 'server.log'}")


@dataclass(frozen=True)
class LoadOptions:
    """How much load to send; the defaults are the command's."""

    skus: int = 500
    edits: int = 2000
    reads: int = 2000
    clients: int = 10
    seconds: float = 10.0
    seed: int = 1


async def measure(port: int, token: str, skus: list[str], args: LoadOptions) -> dict[str, Any]:
    conn = Connection(port, token)
    await conn.open()
    await one_sku_reads(conn, skus, 200)  # warm up
    visible = await edit_to_visible(conn, skus, args.edits)
    reads = await one_sku_reads(conn, skus, args.reads)
    await conn.close()
    acknowledged, elapsed, latencies = await sustained_edits(
        port, token, skus, args.clients, args.seconds
    )
    return {
        "edit_to_visible": percentiles(visible),
        "one_sku_read": percentiles(reads),
        "sustained_edits": {
            "clients": args.clients,
            "seconds": round(elapsed, 2),
            "acknowledged": acknowledged,
            "edits_per_second": round(acknowledged / elapsed, 1),
            "put_latency": percentiles(latencies),
        },
    }


def run_load(options: LoadOptions) -> dict[str, Any]:
    """Publish the synthetic draft, serve it, measure; the server is stopped after."""
    random.seed(options.seed)
    with tempfile.TemporaryDirectory(prefix="forecast-hub-api-load-") as scratch:
        data_dir = Path(scratch)
        token = add_token(data_dir / "api" / "tokens.json", TENANT, "bench")
        skus = publish_draft(data_dir, options.skus)
        server, port = start_server(data_dir)
        try:
            return asyncio.run(measure(port, token, skus, options))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=500, help="SKUs in the synthetic draft.")
    parser.add_argument("--edits", type=int, default=2000, help="Edit-to-visible samples.")
    parser.add_argument("--reads", type=int, default=2000, help="One-SKU read samples.")
    parser.add_argument("--clients", type=int, default=10, help="Concurrent editing clients.")
    parser.add_argument("--seconds", type=float, default=10.0, help="Sustained edit duration.")
    parser.add_argument("--seed", type=int, default=1)
    results = run_load(LoadOptions(**vars(parser.parse_args())))
    visible, reads = results["edit_to_visible"], results["one_sku_read"]
    sustained = results["sustained_edits"]
    print(json.dumps(results, indent=2))
    print(
        f"edit-to-visible p50 {visible['p50_ms']} ms p99 {visible['p99_ms']} ms; "
        f"one-SKU read p50 {reads['p50_ms']} ms p99 {reads['p99_ms']} ms; "
        f"{sustained['edits_per_second']:,} durable edits/s with {sustained['clients']} clients"
    )


if __name__ == "__main__":
    main()
