"""Load on the forecast API per backend (make bench-api): edit-to-visible, reads, edits/s.

For each backend of ``api_targets.py`` (embedded, PostgreSQL, the Snowflake
emulator) it starts the servers over a synthetic draft (one tenant, --skus
SKUs x 91 daily periods), then measures over real sockets with a minimal
HTTP/1.1 keep-alive client on asyncio streams (so the client costs little
next to the servers):

- edit-to-visible: PUT one edit, then GET that SKU and date (from the other
  API process where there are two); from sending the PUT to the GET
  answering with the new quantity.
- one-SKU read: GET one SKU's whole horizon.
- sustained acknowledged edits/s: --clients clients, spread over the API
  processes, each sending single-edit PUTs back to back for --seconds; only
  acknowledged (committed) edits count, with the PUT latency.

Where the bench can read the store (PostgreSQL), it then checks the log:
every acknowledged edit has its log row, and no row is there twice. The
machine's load average is reported with the figures, as the measurement
shares the machine. The emulator's figures say the warehouse path works;
they are no measure of an account.

    python benchmarks/api_backends.py [--backends embedded,postgresql,emulator]
        [--skus 500] [--seconds 60] [--clients 10] [--postgres-processes 2]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import json
import os
import random
import statistics
import time
from collections.abc import Iterator
from typing import Any

import api_targets
from api_targets import FIRST, HORIZON, TENANT, Target


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
    if not ordered:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "n": 0}
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 3),
        "n": len(ordered),
    }


def edit_body(sku: str, date: dt.date, qty: float) -> bytes:
    edit = {"sku_id": sku, "forecast_date": date.isoformat(), "qty": qty}
    return json.dumps({"edits": [edit]}).encode()


Acknowledged = list[tuple[str, str, int]]
"""(sku_id, forecast_date, version) of every acknowledged edit."""


def _acknowledge(body: bytes, acknowledged: Acknowledged) -> None:
    (edit,) = json.loads(body)["edits"]
    acknowledged.append((edit["sku_id"], edit["forecast_date"], edit["version"]))


async def edit_to_visible(
    writer: Connection, reader: Connection, skus: list[str], count: int, acknowledged: Acknowledged
) -> list[float]:
    samples = []
    for n in range(count):
        sku = random.choice(skus)
        date = FIRST + dt.timedelta(days=random.randrange(HORIZON))
        qty = float(n)
        started = time.perf_counter()
        status, body = await writer.request(
            "PUT", f"/v1/tenants/{TENANT}/edits", edit_body(sku, date, qty)
        )
        assert status == 200, (status, body)
        day = date.isoformat()
        status, answer = await reader.request(
            "GET", f"/v1/tenants/{TENANT}/forecast?sku_id={sku}&start={day}&end={day}"
        )
        samples.append(time.perf_counter() - started)
        assert status == 200 and json.loads(answer)["rows"][0]["manual_qty"] == qty
        _acknowledge(body, acknowledged)
    return samples


async def one_sku_reads(conn: Connection, skus: list[str], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        path = f"/v1/tenants/{TENANT}/forecast?sku_id={random.choice(skus)}"
        started = time.perf_counter()
        status, body = await conn.request("GET", path)
        samples.append(time.perf_counter() - started)
        assert status == 200 and len(json.loads(body)["rows"]) == HORIZON, status
    return samples


async def sustained_edits(
    target: Target, skus: list[str], clients: int, seconds: float, acknowledged: Acknowledged
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    deadline = time.perf_counter() + seconds

    async def client(port: int) -> None:
        conn = Connection(port, target.token)
        await conn.open()
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            day = FIRST + dt.timedelta(days=random.randrange(HORIZON))
            body = edit_body(random.choice(skus), day, n)
            started = time.perf_counter()
            status, answer = await conn.request("PUT", f"/v1/tenants/{TENANT}/edits", body)
            latencies.append(time.perf_counter() - started)
            statuses[status] += 1
            if status == 200:
                _acknowledge(answer, acknowledged)
        await conn.close()

    before = len(acknowledged)
    started = time.perf_counter()
    ports = target.ports
    await asyncio.gather(*(client(ports[n % len(ports)]) for n in range(clients)))
    elapsed = time.perf_counter() - started
    count = len(acknowledged) - before
    return {
        "clients": clients,
        "processes": len(ports),
        "seconds": round(elapsed, 2),
        "acknowledged": count,
        "edits_per_second": round(count / elapsed, 1),
        "statuses": dict(statuses),
        "put_latency": percentiles(latencies),
    }


def check_log(target: Target, acknowledged: Acknowledged) -> dict[str, Any] | None:
    """Every acknowledged edit logged once, and nothing logged twice."""
    rows = target.log_rows()
    if rows is None:
        return None
    logged = collections.Counter(rows)
    return {
        "log_rows": len(rows),
        "acknowledged": len(acknowledged),
        "lost": sum(1 for edit in acknowledged if edit not in logged),
        "duplicated": sum(count - 1 for count in logged.values() if count > 1),
        "acknowledged_twice": len(acknowledged) - len(set(acknowledged)),
    }


async def measure(target: Target, skus: list[str], args: argparse.Namespace) -> dict[str, Any]:
    seconds = args.emulator_seconds if target.name == "emulator" else args.seconds
    samples = args.emulator_samples if target.name == "emulator" else args.samples
    writer = Connection(target.ports[0], target.token)
    reader = Connection(target.ports[-1], target.token)
    await writer.open()
    await reader.open()
    acknowledged: Acknowledged = []
    await one_sku_reads(reader, skus, max(5, samples // 10))  # warm up
    visible = await edit_to_visible(writer, reader, skus, samples, acknowledged)
    reads = await one_sku_reads(reader, skus, samples)
    await writer.close()
    await reader.close()
    load_before = os.getloadavg()
    sustained = await sustained_edits(target, skus, args.clients, seconds, acknowledged)
    load_after = os.getloadavg()
    return {
        "backend": target.name,
        **target.notes,
        "edit_to_visible": percentiles(visible),
        "one_sku_read": percentiles(reads),
        "sustained_edits": sustained,
        "log_check": check_log(target, acknowledged),
        "load_average": {
            "before_sustained": [round(v, 2) for v in load_before],
            "after_sustained": [round(v, 2) for v in load_after],
        },
        "cpus": os.cpu_count(),
    }


@contextlib.contextmanager
def started(name: str, skus: list[str], args: argparse.Namespace) -> Iterator[Target]:
    if name == "embedded":
        with api_targets.embedded(skus) as target:
            yield target
    elif name == "postgresql":
        with api_targets.postgresql(skus, args.postgres_processes) as target:
            yield target
    else:
        with api_targets.emulator(skus[: args.emulator_skus]) as target:
            yield target


def summary(result: dict[str, Any]) -> str:
    visible, reads = result["edit_to_visible"], result["one_sku_read"]
    sustained = result["sustained_edits"]
    line = (
        f"{result['backend']}: edit-to-visible p50 {visible['p50_ms']} ms p99"
        f" {visible['p99_ms']} ms; one-SKU read p50 {reads['p50_ms']} ms p99 {reads['p99_ms']}"
        f" ms; {sustained['edits_per_second']:,} acknowledged edits/s with"
        f" {sustained['clients']} clients on {sustained['processes']} processes for"
        f" {sustained['seconds']} s (PUT p99 {sustained['put_latency']['p99_ms']} ms)"
    )
    if result["log_check"]:
        check = result["log_check"]
        line += f"; log: {check['lost']} lost, {check['duplicated']} duplicated"
    if result.get("functional_only"):
        line += " [emulator: functional figures only, not an account's]"
    return line + f"; load average {result['load_average']['after_sustained']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--backends",
        default="embedded,postgresql,emulator",
        help="Comma-separated: embedded, postgresql, emulator.",
    )
    parser.add_argument("--skus", type=int, default=500, help="SKUs in the synthetic draft.")
    parser.add_argument("--samples", type=int, default=2000, help="Edit-to-visible and reads.")
    parser.add_argument("--clients", type=int, default=10, help="Concurrent editing clients.")
    parser.add_argument("--seconds", type=float, default=60.0, help="Sustained edit duration.")
    parser.add_argument(
        "--postgres-processes", type=int, default=2, help="API processes on PostgreSQL."
    )
    parser.add_argument("--emulator-skus", type=int, default=50, help="SKUs on the emulator.")
    parser.add_argument("--emulator-samples", type=int, default=50)
    parser.add_argument("--emulator-seconds", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    random.seed(args.seed)
    skus = api_targets.sku_ids(args.skus)
    results = []
    for name in args.backends.split(","):
        with started(name.strip(), skus, args) as target:
            results.append(asyncio.run(measure(target, skus, args)))
        print(summary(results[-1]), flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
