"""The tenant gate: every route under /v1/tenants/{tenant_id} is authorised first.

The routes are taken from the app's own OpenAPI document, so a route added
later is held to the same rule without this file changing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.responses import Response

from forecast_hub.api import ApiConfig, create_app
from forecast_hub.api.auth import TENANT_PREFIX, Caller, GatedRoute, State, tenant_router
from forecast_hub.api.snapshot import publish_snapshot
from forecast_hub.api.tokens import add_token
from forecast_hub.hybrid import connect_store
from published import page_tables

DAY = dt.date(2025, 3, 3)
PATH_VALUES = {"tenant_id": "northwind", "sku_id": "n-001", "forecast_date": DAY.isoformat()}
BODIES = {
    "/edits": {"edits": [{"sku_id": "n-001", "forecast_date": DAY.isoformat(), "qty": 7}]},
    "/prefs": {"show_manual": False},
}
QUERIES = {"/history": "?sku_id=n-001"}


def _publish(serving_dir: Path) -> None:
    draft = pa.table(
        {
            "tenant_id": ["northwind", "globex"],
            "sku_id": ["n-001", "g-001"],
            "forecast_date": [DAY, DAY],
            "step": pa.array([1, 1], pa.int32()),
            "draft_qty": [3.0, 4.0],
            "method": ["naive", "naive"],
            "built_at": [dt.datetime(2025, 3, 1, 6, 0)] * 2,
        }
    )
    skus = pa.table(
        {
            "tenant_id": ["northwind", "globex"],
            "sku_id": ["n-001", "g-001"],
            "is_active": [True, True],
            "discontinued_date": pa.array([None, None], pa.date32()),
        }
    )
    publish_snapshot(serving_dir, draft, skus, page_tables=page_tables(draft))


class Served:
    def __init__(
        self, app: FastAPI, client: TestClient, config: ApiConfig, tokens: dict[str, str]
    ) -> None:
        self.app = app
        self.client = client
        self.config = config
        self.tokens = tokens

    def tenant_requests(self) -> list[tuple[str, str, object]]:
        """(method, path, body) of every tenant route the app documents, for northwind."""
        requests = []
        for template, operations in self.app.openapi()["paths"].items():
            if not template.startswith(TENANT_PREFIX):
                continue
            resource = template.removeprefix(TENANT_PREFIX)
            path = template.format(**PATH_VALUES) + QUERIES.get(resource, "")
            body = BODIES.get(resource)
            requests += [(method.upper(), path, body) for method in sorted(operations)]
        return requests

    def send(self, method: str, path: str, body: object, token: str | None) -> int:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return int(self.client.request(method, path, json=body, headers=headers).status_code)

    def stored_rows(self) -> int:
        store = connect_store(self.config.edits_store, read_only=True)
        try:
            tables = ("manual_edits_ht", "user_prefs_ht", "manual_edit_log_ht")
            return sum(store.execute(f"select count(*) from {t}").fetchone()[0] for t in tables)
        finally:
            store.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    config = ApiConfig(
        edits_store=tmp_path / "edits" / "edits.sqlite",
        serving_dir=tmp_path / "serving",
        tokens_file=tmp_path / "api" / "tokens.json",
    )
    tokens = {
        "ann": add_token(config.tokens_file, "northwind", "ann"),
        "eve": add_token(config.tokens_file, "globex", "eve"),
    }
    _publish(config.serving_dir)
    app = create_app(config)
    with TestClient(app) as client:
        yield Served(app, client, config, tokens)


def test_every_tenant_route_of_the_app_is_behind_the_gate(served: Served) -> None:
    requests = served.tenant_requests()
    assert {(method, path) for method, path, _ in requests} >= {
        ("GET", "/v1/tenants/northwind/forecast"),
        ("PUT", "/v1/tenants/northwind/edits"),
        ("DELETE", f"/v1/tenants/northwind/edits/n-001/{DAY}"),
        ("GET", "/v1/tenants/northwind/edits/log"),
        ("GET", "/v1/tenants/northwind/prefs"),
        ("PUT", "/v1/tenants/northwind/prefs"),
        ("GET", "/v1/tenants/northwind/skus"),
        ("GET", "/v1/tenants/northwind/history?sku_id=n-001"),
        ("GET", "/v1/tenants/northwind/accuracy"),
    }
    answers = {
        (method, path): (
            served.send(method, path, body, None),
            served.send(method, path, body, "fh_unknown"),
            served.send(method, path, body, served.tokens["eve"]),
        )
        for method, path, body in requests
    }
    assert set(answers.values()) == {(401, 401, 403)}, answers
    assert served.stored_rows() == 0


def test_the_owner_of_the_tenant_gets_through(served: Served) -> None:
    """The same requests with the tenant's own token are answered, and write."""
    statuses = [
        served.send(method, path, body, served.tokens["ann"])
        for method, path, body in served.tenant_requests()
    ]
    assert all(status < 400 or status == 404 for status in statuses), statuses
    assert served.stored_rows() > 0


def test_a_gated_route_takes_only_the_gate() -> None:
    """A GatedRoute skips FastAPI's resolution only where nothing but the gate is resolved."""
    router = tenant_router()

    async def with_query(request: Request, caller: Caller, state: State, limit: int) -> Response:
        return Response()

    with pytest.raises(TypeError, match="takes \\(request, caller, state\\) only"):
        router.add_api_route("/x", with_query, methods=["PUT"], route_class_override=GatedRoute)

    async def gated(request: Request, caller: Caller, state: State) -> Response:
        return Response(caller.user_id)

    router.add_api_route("/y", gated, methods=["PUT"], route_class_override=GatedRoute)
    assert [type(route) for route in router.routes] == [GatedRoute]
