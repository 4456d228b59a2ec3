"""What each backend promises beyond the shared contract of test_api_server.py.

- PostgreSQL: two API processes on one database, both running: an edit one
  acknowledged shows in the next read of the other, and of concurrent
  guarded edits of one key through both exactly one wins.
- An unreachable store or warehouse is a 503 with a JSON error, within a
  bounded time, never a 500 and never a hang: PostgreSQL and the emulator
  at an address nothing listens on, and the emulator stopped under a
  running API.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_backends import DATES, EmulatorBackend, PostgresBackend, Server, free_port, publish_draft

from forecast_hub.api.tokens import add_token
from forecast_hub.postgres.server import ServerState
from forecast_hub.snowflake.settings import EMULATOR_PORT_ENV

# An answer of an unreachable backend comes within this many seconds.
ANSWER_WITHIN_S = 30


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def edit_body(sku: str, day: dt.date, qty: float, **extra: object) -> dict[str, object]:
    return {"edits": [{"sku_id": sku, "forecast_date": day.isoformat(), "qty": qty, **extra}]}


class TwoProcesses:
    def __init__(self, first: Server, second: Server, token: str, backend: PostgresBackend):
        self.servers = (first, second)
        self.token = token
        self.backend = backend

    def client(self, index: int) -> httpx.Client:
        server = self.servers[index]
        return httpx.Client(base_url=server.url, headers=bearer(self.token), timeout=60)


@pytest.fixture(scope="module")
def two_processes(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: ServerState
) -> Iterator[TwoProcesses]:
    data_dir = tmp_path_factory.mktemp("two-processes")
    token = add_token(data_dir / "api" / "tokens.json", "northwind", "ann")
    publish_draft(data_dir)
    backend = PostgresBackend(data_dir, postgres_server)
    first, second = backend.server(), backend.server()
    try:
        first.start()
        second.start()
        yield TwoProcesses(first, second, token, backend)
    finally:
        first.stop()
        second.stop()
        backend.close()


def test_an_edit_acknowledged_by_one_process_shows_in_the_next_read_of_the_other(
    two_processes: TwoProcesses,
) -> None:
    with two_processes.client(0) as one, two_processes.client(1) as other:
        for n, (writer, reader) in zip(range(20), itertools.cycle([(one, other), (other, one)])):
            day = DATES[n]
            written = writer.put("/v1/tenants/northwind/edits", json=edit_body("n-003", day, n))
            assert written.status_code == 200, written.text
            edited_at = written.json()["edits"][0]["edited_at"]
            params = {"sku_id": "n-003", "start": day.isoformat(), "end": day.isoformat()}
            read = reader.get("/v1/tenants/northwind/forecast", params=params)
            (row,) = read.json()["rows"]
            assert (row["manual_qty"], row["is_manual"], row["edited_at"]) == (n, True, edited_at)
            assert read.headers["X-Edits-As-Of"] >= edited_at
        removed = one.delete(f"/v1/tenants/northwind/edits/n-003/{DATES[0]}")
        assert removed.status_code == 204
        params = {"sku_id": "n-003", "start": DATES[0].isoformat(), "end": DATES[0].isoformat()}
        (row,) = other.get("/v1/tenants/northwind/forecast", params=params).json()["rows"]
        assert row["manual_qty"] is None
        assert other.put("/v1/tenants/northwind/prefs", json={"show_manual": False}).is_success
        assert one.get("/v1/tenants/northwind/prefs").json()["stored"] == {"show_manual": False}


def test_concurrent_edits_through_both_processes_keep_one_version_chain(
    two_processes: TwoProcesses,
) -> None:
    day = DATES[5]

    async def edit_all(bodies: list[dict[str, object]]) -> list[httpx.Response]:
        headers, path = bearer(two_processes.token), "/v1/tenants/northwind/edits"
        async with (
            httpx.AsyncClient(base_url=two_processes.servers[0].url, timeout=60) as a,
            httpx.AsyncClient(base_url=two_processes.servers[1].url, timeout=60) as b,
        ):
            return await asyncio.gather(
                *(
                    (a if n % 2 else b).put(path, headers=headers, json=body)
                    for n, body in enumerate(bodies)
                )
            )

    unguarded = asyncio.run(edit_all([edit_body("n-004", day, float(n)) for n in range(200)]))
    assert [r.status_code for r in unguarded] == [200] * 200
    versions = sorted(r.json()["edits"][0]["version"] for r in unguarded)
    assert versions == list(range(1, 201))

    guarded = asyncio.run(
        edit_all([edit_body("n-004", day, 1000.0 + n, expected_version=200) for n in range(200)])
    )
    statuses = [r.status_code for r in guarded]
    assert statuses.count(200) == 1 and statuses.count(409) == 199

    with two_processes.client(1) as reader:
        entries = reader.get("/v1/tenants/northwind/edits/log", params={"limit": 10000}).json()[
            "entries"
        ]
    chain = sorted((e for e in entries if e["sku_id"] == "n-004"), key=lambda e: e["version"])
    assert [e["version"] for e in chain] == list(range(1, 202))
    assert all(a["new_qty"] == b["old_qty"] for a, b in itertools.pairwise(chain))
    assert len({e["log_id"] for e in chain}) == 201


def _answers_503_in_time(server: Server, token: str) -> None:
    """Every kind of request: a 503 JSON error within ANSWER_WITHIN_S, never a 500."""
    headers = bearer(token)
    requests = [
        ("GET", "/healthz", None),
        ("GET", "/v1/tenants/northwind/forecast", None),
        ("PUT", "/v1/tenants/northwind/edits", edit_body("n-001", DATES[0], 1)),
        ("DELETE", f"/v1/tenants/northwind/edits/n-001/{DATES[0]}", None),
        ("GET", "/v1/tenants/northwind/edits/log", None),
        ("GET", "/v1/tenants/northwind/prefs", None),
        ("PUT", "/v1/tenants/northwind/prefs", {"show_manual": False}),
    ]
    with httpx.Client(base_url=server.url, headers=headers, timeout=ANSWER_WITHIN_S * 2) as c:
        for method, path, body in requests:
            started = time.monotonic()
            response = c.request(method, path, json=body)
            elapsed = time.monotonic() - started
            assert response.status_code == 503, (method, path, response.text)
            assert elapsed < ANSWER_WITHIN_S, (method, path, elapsed)
            document = response.json()
            assert "error" in document or document["status"] == "not_ready", document


@pytest.mark.parametrize("backend", ["postgresql", "emulator"])
def test_an_unreachable_store_answers_503(backend: str, tmp_path: Path) -> None:
    """PostgreSQL or the warehouse at an address nothing listens on."""
    token = add_token(tmp_path / "api" / "tokens.json", "northwind", "ann")
    if backend == "postgresql":
        publish_draft(tmp_path)
        nowhere = f"postgresql://forecast_hub@127.0.0.1:{free_port()}/forecast_hub"
        server = Server(tmp_path, "duckdb", {"FORECAST_HUB_EDITS_STORE": nowhere})
    else:
        server = Server(tmp_path, "emulator", {EMULATOR_PORT_ENV: str(free_port())})
    server.start()
    try:
        _answers_503_in_time(server, token)
    finally:
        server.stop()


def test_a_warehouse_gone_under_a_running_api_answers_503(tmp_path: Path) -> None:
    token = add_token(tmp_path / "api" / "tokens.json", "northwind", "ann")
    backend = EmulatorBackend(tmp_path, hybrid_by_cli=False)
    server = backend.server()
    try:
        backend.publish()
        server.start()
        with httpx.Client(base_url=server.url, headers=bearer(token), timeout=60) as c:
            edited = c.put("/v1/tenants/northwind/edits", json=edit_body("n-002", DATES[1], 4))
            assert edited.status_code == 200, edited.text
        os.kill(backend.emulator.pid, signal.SIGKILL)
        _answers_503_in_time(server, token)
    finally:
        server.stop()
        backend.close()
