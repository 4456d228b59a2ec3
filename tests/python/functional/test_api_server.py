"""The API contract over a real socket, on every backend: one suite, three runs.

Each test runs against a server process on 127.0.0.1 for each backend of
``api_backends.py``: the embedded store, PostgreSQL and the Snowflake
emulator (`serve --target emulator`). The draft is a small hand-made table,
published the way dbt publishes it (or loaded into the warehouse's draft
table for the emulator), so these tests need no full dbt build; the whole
chain with dbt is in test_api_pipeline.py. One server per backend and
module, as the emulator is slow to set up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_backends import BACKENDS, BUILT_AT, DATES, TENANT_SKUS, Backend, Server, backend_of

from forecast_hub.api.tokens import add_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Api:
    """A running server of a backend, with its tokens and a client."""

    def __init__(self, server: Server, tokens: dict[str, str], backend: Backend) -> None:
        self.server = server
        self.tokens = tokens
        self.backend = backend
        self.client = httpx.Client(base_url=server.url, timeout=60)

    def get(self, path: str, who: str = "ann", **kwargs) -> httpx.Response:
        return self.client.get(path, headers=bearer(self.tokens[who]), **kwargs)

    def put(self, path: str, body: object, who: str = "ann") -> httpx.Response:
        return self.client.put(path, headers=bearer(self.tokens[who]), json=body)

    def edit(
        self, sku: str, date: dt.date, qty: float, who: str = "ann", **extra
    ) -> httpx.Response:
        body = {"edits": [{"sku_id": sku, "forecast_date": date.isoformat(), "qty": qty, **extra}]}
        return self.put(f"/v1/tenants/{self.tenant(who)}/edits", body, who)

    def tenant(self, who: str) -> str:
        return "globex" if who == "eve" else "northwind"

    def forecast(self, who: str = "ann", **params) -> list[dict]:
        rows, cursor = [], None
        while True:
            page = self.get(
                f"/v1/tenants/{self.tenant(who)}/forecast",
                who,
                params={**params, "limit": 10_000, **({"cursor": cursor} if cursor else {})},
            )
            assert page.status_code == 200, page.text
            rows += page.json()["rows"]
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return rows

    def log(self, who: str = "ann") -> list[dict]:
        response = self.get(
            f"/v1/tenants/{self.tenant(who)}/edits/log", who, params={"limit": 10000}
        )
        assert response.status_code == 200, response.text
        return response.json()["entries"]

    def state(self) -> tuple:
        """Everything both tenants can read: compared before and after bad requests."""
        return (
            self.forecast("ann"),
            self.log("ann"),
            self.forecast("eve"),
            self.log("eve"),
            self.get("/v1/tenants/northwind/prefs").json(),
        )


@pytest.fixture(scope="module", params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _postgres(request: pytest.FixtureRequest, name: str):  # type: ignore[no-untyped-def]
    """The session's PostgreSQL server, started only when a PostgreSQL backend runs."""
    return request.getfixturevalue("postgres_server") if name == "postgresql" else None


@pytest.fixture(scope="module")
def api(
    backend_name: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Api]:
    data_dir = tmp_path_factory.mktemp(f"api-{backend_name}")
    tokens_file = data_dir / "api" / "tokens.json"
    tokens = {
        "ann": add_token(tokens_file, "northwind", "ann"),
        "bob": add_token(tokens_file, "northwind", "bob"),
        "eve": add_token(tokens_file, "globex", "eve"),
    }
    with backend_of(backend_name, data_dir, _postgres(request, backend_name)) as backend:
        backend.publish()
        server = backend.server()
        server.start()
        try:
            yield Api(server, tokens, backend)
        finally:
            server.stop()


@pytest.fixture
def empty_api(backend_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Api]:
    """A server of the same backend over storage where nothing was built yet."""
    token = add_token(tmp_path / "api" / "tokens.json", "northwind", "ann")
    postgres = _postgres(request, backend_name)
    with backend_of(backend_name, tmp_path, postgres, hybrid_by_cli=False) as backend:
        server = backend.server()
        server.start()
        try:
            yield Api(server, {"ann": token}, backend)
        finally:
            server.stop()


def test_the_openapi_document_and_docs_are_served(api: Api) -> None:
    document = api.client.get("/openapi.json").json()
    assert set(document["paths"]) >= {
        "/healthz",
        "/v1/tenants/{tenant_id}/forecast",
        "/v1/tenants/{tenant_id}/edits",
        "/v1/tenants/{tenant_id}/edits/{sku_id}/{forecast_date}",
        "/v1/tenants/{tenant_id}/edits/log",
        "/v1/tenants/{tenant_id}/prefs",
        "/v1/tenants/{tenant_id}/skus",
        "/v1/tenants/{tenant_id}/history",
        "/v1/tenants/{tenant_id}/accuracy",
    }
    assert "EditsBody" in document["components"]["schemas"]
    docs = api.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_healthz_reports_storage_draft_age_and_persistence(api: Api) -> None:
    health = api.client.get("/healthz")
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ready"
    assert body["backend"] == api.backend.name
    assert body["storage"] == {"edits_store": "reachable", "writer": "running"}
    assert body["draft"]["age_seconds"] > 0
    assert body["persistence"]["pending_requests"] == 0


def test_every_status_code_of_the_spec(api: Api, empty_api: Api) -> None:
    day = DATES[3]
    forecast = api.get("/v1/tenants/northwind/forecast", params={"sku_id": "n-010"})
    assert forecast.status_code == 200
    assert forecast.headers["X-Forecast-Built-At"] == "2025-03-01T06:00:00.000000Z"
    assert "X-Edits-As-Of" in forecast.headers
    assert forecast.headers["X-Data-Source"].startswith(f"{api.backend.name};")

    created = api.edit("n-010", day, 5)
    assert created.status_code == 200 and created.json()["edits"][0]["version"] == 1
    stale = api.edit("n-010", day, 6, expected_version=0)
    assert stale.status_code == 409
    assert stale.json()["error"]["details"]["conflicts"][0]["current"]["qty"] == 5
    removed = api.client.delete(
        f"/v1/tenants/northwind/edits/n-010/{day}", headers=bearer(api.tokens["ann"])
    )
    assert removed.status_code == 204 and removed.content == b""
    again = api.client.delete(
        f"/v1/tenants/northwind/edits/n-010/{day}", headers=bearer(api.tokens["ann"])
    )
    assert again.status_code == 404

    assert api.client.get("/v1/tenants/northwind/forecast").status_code == 401
    unknown = api.client.get("/v1/tenants/northwind/forecast", headers=bearer("fh_nope"))
    assert unknown.status_code == 401
    assert api.get("/v1/tenants/globex/forecast").status_code == 403
    malformed = api.client.put(
        "/v1/tenants/northwind/edits", headers=bearer(api.tokens["ann"]), content=b"{"
    )
    assert malformed.status_code == 400
    assert api.edit("n-010", day, -1).status_code == 422
    big = api.client.put(
        "/v1/tenants/northwind/edits",
        headers=bearer(api.tokens["ann"]),
        content=b" " * (9 * 1024 * 1024),
    )
    assert big.status_code == 413
    assert api.get("/v1/tenants/northwind/nothing-here").status_code == 404

    assert empty_api.client.get("/healthz").status_code == 503
    assert empty_api.get("/v1/tenants/northwind/forecast").status_code == 503
    assert empty_api.edit("n-001", day, 1).status_code == 503
    for resource in ("skus", "history?sku_id=n-001", "accuracy"):
        assert empty_api.get(f"/v1/tenants/northwind/{resource}").status_code == 503
    for response in (stale, malformed, big, again):
        error = response.json()["error"]
        assert set(error) <= {"code", "message", "details"} and error["message"]


def test_a_new_build_is_served_without_a_restart(empty_api: Api) -> None:
    empty_api.backend.publish()
    deadline = time.monotonic() + 10
    while empty_api.client.get("/healthz").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert empty_api.forecast(sku_id="n-001")[0]["draft_qty"] == 1.0
    assert empty_api.edit("n-001", DATES[0], 9).status_code == 200

    later = BUILT_AT + dt.timedelta(days=1)
    empty_api.backend.publish(scale=2.0, built_at=later)
    deadline = time.monotonic() + 10
    while True:
        response = empty_api.get("/v1/tenants/northwind/forecast", params={"sku_id": "n-001"})
        if response.headers["X-Forecast-Built-At"].startswith("2025-03-02T06:00"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first = response.json()["rows"][0]
    assert (first["draft_qty"], first["manual_qty"], first["forecast_qty"]) == (2.0, 9.0, 9.0)


def test_another_tenants_token_gets_403_everywhere_and_changes_nothing(api: Api) -> None:
    day = DATES[4]
    assert api.edit("n-011", day, 42, reason="secret plan").status_code == 200
    before = api.state()
    eve = bearer(api.tokens["eve"])
    body = {"edits": [{"sku_id": "n-011", "forecast_date": day.isoformat(), "qty": 1}]}
    attempts = [
        api.client.get("/v1/tenants/northwind/forecast", headers=eve),
        api.client.get("/v1/tenants/northwind/forecast?sku_id=n-011", headers=eve),
        api.client.put("/v1/tenants/northwind/edits", headers=eve, json=body),
        api.client.put("/v1/tenants/northwind/edits", headers=eve, content=b"{bad"),
        api.client.delete(f"/v1/tenants/northwind/edits/n-011/{day}", headers=eve),
        api.client.delete("/v1/tenants/northwind/edits/n-011/not-a-date", headers=eve),
        api.client.get("/v1/tenants/northwind/edits/log", headers=eve),
        api.client.get("/v1/tenants/northwind/edits/log?since=garbage", headers=eve),
        api.client.get("/v1/tenants/northwind/prefs", headers=eve),
        api.client.put("/v1/tenants/northwind/prefs", headers=eve, json={"show_manual": False}),
        api.client.get("/v1/tenants/northwind/skus?q=n-011", headers=eve),
        api.client.get("/v1/tenants/northwind/history?sku_id=n-011", headers=eve),
        api.client.get("/v1/tenants/northwind/history?sku_id=nope&limit=0", headers=eve),
        api.client.get("/v1/tenants/northwind/accuracy?sku_id=n-011", headers=eve),
    ]
    for response in attempts:
        assert response.status_code == 403, (response.request.url, response.text)
        assert response.json() == {
            "error": {
                "code": "forbidden",
                "message": "this token does not give access to this tenant",
            }
        }
        assert "X-Forecast-Built-At" not in response.headers
    assert api.state() == before


INJECTION = "'; drop table manual_edits_ht; --"


def _bad_requests(api: Api) -> list[tuple[str, str, dict, int]]:
    """(method, path, request arguments, expected status)."""
    day = DATES[5].isoformat()
    page = "/v1/tenants/northwind"
    edits = f"{page}/edits"

    def body(**edit) -> dict:
        return {"json": {"edits": [{"sku_id": "n-012", "forecast_date": day, "qty": 1, **edit}]}}

    return [
        ("PUT", edits, {"content": b'{"edits": [}'}, 400),
        ("PUT", edits, {"content": b'{"edits": [{"qty": NaN}]}'}, 400),
        ("PUT", edits, {"content": "{}".encode("utf-16")}, 400),
        ("PUT", edits, {"content": b""}, 400),
        ("PUT", edits, {"content": b"x" * (8 * 1024 * 1024 + 1)}, 413),
        ("PUT", edits, {"json": {"edits": [{"sku_id": "n-012", "qty": 1}] * 10_001}}, 413),
        ("PUT", edits, {"json": {"edits": []}}, 422),
        ("PUT", edits, {"json": {"edits": "all"}}, 422),
        ("PUT", edits, {"json": [1, 2]}, 422),
        ("PUT", edits, body(qty="1"), 422),
        ("PUT", edits, body(qty=None), 422),
        ("PUT", edits, body(qty=[1]), 422),
        ("PUT", edits, body(qty=-0.5), 422),
        ("PUT", edits, body(qty=1e10), 422),
        ("PUT", edits, {"content": str(body()["json"]).encode()}, 400),
        (
            "PUT",
            edits,
            {"content": json.dumps(body()["json"]).replace("1}", "1e999}").encode()},
            422,
        ),
        ("PUT", edits, body(reason="r" * 501), 422),
        ("PUT", edits, body(reason=["list"]), 422),
        ("PUT", edits, body(expected_version="1"), 422),
        ("PUT", edits, body(expected_version=True), 422),
        ("PUT", edits, body(sku_id=INJECTION), 422),
        ("PUT", edits, body(sku_id=1), 422),
        ("PUT", edits, body(forecast_date=INJECTION), 422),
        ("PUT", edits, body(forecast_date="2025-03-08' or '1'='1"), 422),
        ("PUT", edits, body(qty=INJECTION), 422),
        ("PUT", edits, body(expected_version=INJECTION), 422),
        ("PUT", edits, body(extra=INJECTION), 422),
        ("PUT", edits, body(sku_id="n-gone"), 422),
        ("PUT", edits, body(forecast_date="2031-01-01"), 422),
        ("PUT", "/v1/tenants/northwind/prefs", {"json": {"show_manual": INJECTION}}, 422),
        ("PUT", "/v1/tenants/northwind/prefs", {"content": b"nope"}, 400),
        ("DELETE", f"{edits}/{INJECTION}/{day}", {}, 404),
        ("DELETE", f"{edits}/n-012/{INJECTION}", {}, 400),
        ("GET", f"/v1/tenants/{INJECTION}/forecast", {}, 403),
        ("GET", "/v1/tenants/northwind/forecast", {"params": {"limit": "10001"}}, 400),
        ("GET", "/v1/tenants/northwind/forecast", {"params": {"limit": INJECTION}}, 400),
        ("GET", "/v1/tenants/northwind/forecast", {"params": {"start": INJECTION}}, 400),
        ("GET", "/v1/tenants/northwind/forecast", {"params": {"show_manual": "yes"}}, 400),
        ("GET", "/v1/tenants/northwind/forecast", {"params": {"cursor": INJECTION}}, 400),
        (
            "GET",
            "/v1/tenants/northwind/forecast",
            {"params": {"start": day, "end": "2025-03-01"}},
            400,
        ),
        ("GET", f"{edits}/log", {"params": {"since": INJECTION}}, 400),
        ("GET", f"{edits}/log", {"params": {"cursor": "eyJ4Ijox"}}, 400),
        ("GET", f"{page}/skus", {"params": {"limit": "0"}}, 400),
        ("GET", f"{page}/skus", {"params": {"cursor": INJECTION}}, 400),
        ("GET", f"{page}/skus", {"params": {"q": "x" * 201}}, 400),
        ("GET", f"{page}/history", {}, 400),
        ("GET", f"{page}/history", {"params": {"sku_id": INJECTION}}, 404),
        ("GET", f"{page}/history", {"params": {"sku_id": "n-012", "start": INJECTION}}, 400),
        ("GET", f"{page}/history", {"params": {"sku_id": "n-012", "cursor": "eyJ4Ijox"}}, 400),
        ("GET", f"{page}/accuracy", {"params": {"sku_id": "g-001"}}, 404),
    ]


def test_bad_input_gets_the_right_4xx_and_changes_nothing(api: Api) -> None:
    before = api.state()
    headers = bearer(api.tokens["ann"])
    wrong = []
    for method, path, arguments, expected in _bad_requests(api):
        response = api.client.request(method, path, headers=headers, **arguments)
        if response.status_code != expected or "error" not in response.json():
            wrong.append((method, path, str(arguments)[:80], response.status_code, expected))
    assert wrong == []
    assert api.state() == before
    search = api.get("/v1/tenants/northwind/forecast", params={"sku_id": INJECTION})
    assert search.status_code == 200 and search.json()["rows"] == []


def test_a_reason_shaped_like_sql_is_stored_as_text(api: Api) -> None:
    response = api.edit("n-013", DATES[6], 3, reason=INJECTION)
    assert response.status_code == 200
    entry = [e for e in api.log() if e["sku_id"] == "n-013"][-1]
    assert entry["reason"] == INJECTION
    assert api.forecast(sku_id="n-013")[6]["manual_qty"] == 3


def test_200_concurrent_edits_of_one_key_end_with_one_winner_and_a_full_log(api: Api) -> None:
    day = DATES[7]
    token = api.tokens["ann"]

    async def edit_all(bodies: list[dict]) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=200)
        async with httpx.AsyncClient(base_url=api.server.url, limits=limits, timeout=60) as c:
            return await asyncio.gather(
                *(
                    c.put("/v1/tenants/northwind/edits", headers=bearer(token), json=b)
                    for b in bodies
                )
            )

    def body(qty: float, **extra) -> dict:
        return {
            "edits": [{"sku_id": "n-014", "forecast_date": day.isoformat(), "qty": qty, **extra}]
        }

    responses = asyncio.run(edit_all([body(float(n)) for n in range(200)]))
    assert [r.status_code for r in responses] == [200] * 200
    acked = {r.json()["edits"][0]["version"]: r.json()["edits"][0]["qty"] for r in responses}
    assert sorted(acked) == list(range(1, 201))
    shown = api.forecast(sku_id="n-014")[7]
    assert shown["manual_qty"] == acked[200]
    chain = [e for e in api.log() if e["sku_id"] == "n-014"]
    assert [e["version"] for e in chain] == list(range(1, 201))
    assert [e["new_qty"] for e in chain] == [acked[v] for v in range(1, 201)]
    assert all(a["new_qty"] == b["old_qty"] for a, b in itertools.pairwise(chain))

    guarded = asyncio.run(edit_all([body(1000.0 + n, expected_version=200) for n in range(200)]))
    statuses = [r.status_code for r in guarded]
    assert statuses.count(200) == 1 and statuses.count(409) == 199
    winner = guarded[statuses.index(200)].json()["edits"][0]
    assert winner["version"] == 201
    for response in guarded:
        if response.status_code == 409:
            current = response.json()["error"]["details"]["conflicts"][0]["current"]
            assert current["version"] in (200, 201)
    assert api.forecast(sku_id="n-014")[7]["manual_qty"] == winner["qty"]
    assert len([e for e in api.log() if e["sku_id"] == "n-014"]) == 201


def test_an_edit_shows_in_the_next_read_of_any_client(api: Api) -> None:
    reader = httpx.Client(base_url=api.server.url, headers=bearer(api.tokens["bob"]), timeout=10)
    for n in range(30):
        response = api.edit("n-015", DATES[n], 100 + n)
        assert response.status_code == 200
        edited_at = response.json()["edits"][0]["edited_at"]
        read = reader.get(
            "/v1/tenants/northwind/forecast",
            params={"sku_id": "n-015", "start": DATES[n].isoformat(), "end": DATES[n].isoformat()},
        )
        (row,) = read.json()["rows"]
        assert (row["manual_qty"], row["forecast_qty"], row["is_manual"]) == (
            100 + n,
            100 + n,
            True,
        )
        assert (row["edited_by"], row["edited_at"]) == ("ann", edited_at)
        assert read.headers["X-Edits-As-Of"] >= edited_at
    reader.close()


def test_preferences_and_the_per_request_override(api: Api) -> None:
    day = DATES[8]
    assert api.edit("n-016", day, 77).status_code == 200
    assert api.get("/v1/tenants/northwind/prefs").json()["show_manual"] is True
    saved = api.put("/v1/tenants/northwind/prefs", {"show_manual": False}, who="bob")
    assert saved.status_code == 200
    assert saved.json()["stored"] == {"show_manual": False}

    def row(who: str, **params) -> dict:
        return api.forecast(who, sku_id="n-016", **params)[8]

    assert (row("bob")["forecast_qty"], row("bob")["is_manual"]) == (9.0, False)
    assert row("bob")["manual_qty"] == 77
    assert row("bob", show_manual="true")["forecast_qty"] == 77
    assert row("ann")["forecast_qty"] == 77
    assert row("ann", show_manual="false")["forecast_qty"] == 9.0
    reset = api.put("/v1/tenants/northwind/prefs", {"show_manual": None}, who="bob")
    assert reset.json()["show_manual"] is True
    assert row("bob")["forecast_qty"] == 77


def test_pages_and_filters_return_every_row_once(api: Api) -> None:
    seen, cursor = [], None
    while True:
        params = {"limit": 47, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/tenants/northwind/forecast", params=params).json()
        assert len(page["rows"]) <= 47
        seen += [(r["sku_id"], r["forecast_date"]) for r in page["rows"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = [(s, d.isoformat()) for s in TENANT_SKUS["northwind"] for d in DATES]
    assert seen == expected
    window = api.forecast(
        sku_id=["n-002", "n-001", "nope"], start=DATES[3].isoformat(), end=DATES[5].isoformat()
    )
    assert [(r["sku_id"], r["forecast_date"]) for r in window] == [
        (s, d.isoformat()) for s in ("n-001", "n-002") for d in DATES[3:6]
    ]


def test_the_log_has_removals_and_filters_by_time(api: Api) -> None:
    day = DATES[9]
    first = api.edit("n-017", day, 1, reason="first")
    time.sleep(0.01)
    since = first.json()["edits"][0]["edited_at"]
    assert api.edit("n-017", day, 2).status_code == 200
    delete = api.client.delete(
        f"/v1/tenants/northwind/edits/n-017/{day}", headers=bearer(api.tokens["bob"])
    )
    assert delete.status_code == 204
    assert api.forecast(sku_id="n-017")[9]["manual_qty"] is None
    response = api.get("/v1/tenants/northwind/edits/log", params={"since": since})
    entries = [e for e in response.json()["entries"] if e["sku_id"] == "n-017"]
    assert [(e["action"], e["old_qty"], e["new_qty"], e["edited_by"]) for e in entries] == [
        ("upsert", None, 1, "ann"),
        ("upsert", 1, 2, "ann"),
        ("remove", 2, None, "bob"),
    ]
    later = api.get("/v1/tenants/northwind/edits/log", params={"since": entries[1]["edited_at"]})
    assert [e["action"] for e in later.json()["entries"] if e["sku_id"] == "n-017"] == [
        "upsert",
        "remove",
    ]
    back = api.edit("n-017", day, 3, expected_version=3)
    assert back.status_code == 200 and back.json()["edits"][0]["version"] == 4


def test_edits_acknowledged_before_kill_9_are_all_there_after_restart(api: Api) -> None:
    skus = TENANT_SKUS["northwind"][:10]
    acknowledged: list[tuple[str, str, float, int]] = []
    token = api.tokens["ann"]

    async def client(number: int, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=api.server.url, timeout=60) as c:
            n = 0
            while not stop.is_set():
                n += 1
                sku, day = skus[number], DATES[20 + n % 10].isoformat()
                body = {"edits": [{"sku_id": sku, "forecast_date": day, "qty": float(n)}]}
                try:
                    response = await c.put(
                        "/v1/tenants/northwind/edits", headers=bearer(token), json=body
                    )
                except httpx.TransportError:
                    return
                assert response.status_code == 200
                edit = response.json()["edits"][0]
                acknowledged.append((sku, day, edit["qty"], edit["version"]))

    async def stream_then_kill() -> None:
        """Kill the server while all ten clients stream, once 100 edits are acknowledged."""
        stop = asyncio.Event()
        tasks = [asyncio.create_task(client(n, stop)) for n in range(10)]
        deadline = time.monotonic() + 120
        while len(acknowledged) <= 100 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        api.server.kill()
        stop.set()
        await asyncio.gather(*tasks)

    asyncio.run(stream_then_kill())
    assert len(acknowledged) > 100
    api.server.start()
    logged = {(e["sku_id"], e["forecast_date"], e["new_qty"], e["version"]) for e in api.log()}
    assert set(acknowledged) <= logged
    rows = {(r["sku_id"], r["forecast_date"]): r for r in api.forecast()}
    versions = api.backend.stored_versions("northwind")
    for sku, day, _qty, version in acknowledged:
        assert versions[(sku, day)] >= version
        assert rows[(sku, day)]["manual_qty"] is not None


def test_the_edits_are_where_the_backend_keeps_them_and_nowhere_else(api: Api) -> None:
    """Embedded: the SQLite file; PostgreSQL: the database; the warehouse: nothing on disk."""
    assert api.edit("n-018", DATES[2], 8).status_code == 200
    assert api.backend.stored_versions("northwind")[("n-018", DATES[2].isoformat())] >= 1
    data_dir = api.server.data_dir
    assert (data_dir / "edits" / "edits.sqlite").exists() == (api.backend.name == "embedded")
    held = {path.relative_to(data_dir).parts[0] for path in data_dir.iterdir()}
    if api.backend.target != "duckdb":
        # The tokens the operator configured, the server logs and the test's own
        # emulator and dbt folders; no draft, no edits.
        assert not held & {"serving", "edits", "warehouse"}, held


def test_a_tenant_reads_and_writes_only_its_own_rows(api: Api) -> None:
    """The principal's tenant bounds every read and write, whatever the request names."""
    assert api.edit("n-019", DATES[1], 31, reason="northwind only").status_code == 200
    rows = api.forecast("eve")
    assert {row["sku_id"] for row in rows} == set(TENANT_SKUS["globex"])
    assert api.forecast("eve", sku_id=["n-019", "g-001"]) == [
        row for row in rows if row["sku_id"] == "g-001"
    ]
    assert all(entry["sku_id"].startswith("g-") for entry in api.log("eve"))
    foreign = api.edit("n-019", DATES[1], 1, who="eve")
    assert foreign.status_code == 422
    assert foreign.json()["error"]["details"][0]["problems"][0]["code"] == "unknown_sku"
    (row,) = api.forecast(sku_id="n-019", start=DATES[1].isoformat(), end=DATES[1].isoformat())
    assert (row["manual_qty"], row["edited_by"]) == (31, "ann")
