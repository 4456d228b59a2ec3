"""The planning page's endpoints over a real socket, on every backend: /skus, /history, /accuracy.

Part of the contract suite: the same backends, servers and hand-made draft
as test_api_server.py (its fixtures, one server per backend for this
module), with the page's tables beside the draft (``published.py``):
published with the build for the embedded and PostgreSQL backends, in the
warehouse's own tables for the emulator. Each endpoint pages by cursor like
the others, answers only for the token's tenant and names what was wrong
with a request; the forecast rows carry the draft's interval.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
import test_api_server as suite
from api_backends import DATES, HISTORY_DAYS, TENANT_SKUS
from test_api_server import Api

from published import CATEGORIES, history_qty, sku_name

NORTHWIND = TENANT_SKUS["northwind"]
# The contract suite's fixtures: a server of each backend for this module.
backend_name = suite.backend_name
api = suite.api


def _pages(api: Api, resource: str, who: str = "ann", field: str = "rows", **params) -> list[dict]:
    """Every row of a paged endpoint, following next_cursor."""
    rows, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"/v1/tenants/{api.tenant(who)}/{resource}", who, params=query)
        assert page.status_code == 200, page.text
        assert field == "entries" or "X-Forecast-Built-At" in page.headers
        rows += page.json()[field]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return rows


def test_the_sku_list_pages_every_forecast_sku_once(api: Api) -> None:
    rows = _pages(api, "skus", limit=3)
    assert [row["sku_id"] for row in rows] == NORTHWIND, "n-gone has no draft"
    first = rows[0]
    assert first == {
        "sku_id": "n-001",
        "sku_name": sku_name("n-001"),
        "category": CATEGORIES[0],
        "color": "red",
        "method": "naive",
        "members": ["naive", "ses", "tsb"],
        "wape": pytest.approx(0.2 + 0.1 + 0.05),
        "edit_count": 0,
    }
    page = api.get("/v1/tenants/northwind/skus", params={"limit": 2}).json()
    assert (page["grain"], page["hot_attributes"]) == ("day", ["color"])
    assert page["categories"] == sorted(CATEGORIES)
    assert [row["sku_id"] for row in _pages(api, "skus", "eve")] == ["g-001", "g-002"]


def test_the_search_filters_by_id_name_and_category(api: Api) -> None:
    def ids(**params) -> list[str]:
        return [row["sku_id"] for row in _pages(api, "skus", **params)]

    assert ids(q="N-01") == [f"n-{k:03d}" for k in range(10, 20)]
    assert ids(q=sku_name("n-007").lower()) == ["n-007"]
    assert ids(q="n-0", category=CATEGORIES[1], limit=1) == [
        sku for index, sku in enumerate(NORTHWIND) if index % 3 == 1 and sku.startswith("n-0")
    ]
    assert ids(q="g-001") == [], "another tenant's SKU is not found"
    assert ids(q="", category="") == NORTHWIND


def test_edit_counts_follow_the_edits(api: Api) -> None:
    def count() -> int:
        (row,) = _pages(api, "skus", q="n-005")
        return row["edit_count"]

    assert count() == 0
    for day in DATES[:3]:
        assert api.edit("n-005", day, 11).status_code == 200
    assert count() == 3
    path = f"/v1/tenants/northwind/edits/n-005/{DATES[1]}"
    assert api.client.delete(path, headers={"Authorization": f"Bearer {api.tokens['ann']}"})
    assert count() == 2


def test_history_pages_one_series_in_date_order(api: Api) -> None:
    rows = _pages(api, "history", sku_id="n-003", limit=10)
    expected_dates = [DATES[0] - dt.timedelta(days=HISTORY_DAYS - k) for k in range(HISTORY_DAYS)]
    assert [row["period_date"] for row in rows] == [d.isoformat() for d in expected_dates]
    assert [row["qty"] for row in rows] == [history_qty(2, k) for k in range(HISTORY_DAYS)]
    window = _pages(
        api, "history", sku_id="n-003", start=expected_dates[5], end=expected_dates[7], limit=2
    )
    assert window == rows[5:8]
    whole = api.get("/v1/tenants/northwind/history", params={"sku_id": "n-003"}).json()
    assert (whole["sku_id"], whole["grain"], whole["next_cursor"]) == ("n-003", "day", None)
    known_without_history = api.get("/v1/tenants/northwind/history", params={"sku_id": "n-gone"})
    assert known_without_history.status_code == 200 and known_without_history.json()["rows"] == []
    other = api.get("/v1/tenants/northwind/history", params={"sku_id": "g-001"})
    assert other.status_code == 404
    assert other.json()["error"]["message"] == "no such SKU for this tenant"


def test_accuracy_of_the_tenant_and_of_one_series(api: Api) -> None:
    tenant = api.get("/v1/tenants/northwind/accuracy")
    assert tenant.status_code == 200 and "X-Data-Source" in tenant.headers
    rows = tenant.json()["rows"]
    assert [row["method"] for row in rows] == ["top3_median", "naive", "ses", "tsb"]
    assert rows[0]["interval_coverage"] == 0.79 and rows[0]["interval_level"] == 0.8
    series = api.get("/v1/tenants/northwind/accuracy", params={"sku_id": "n-002"}).json()
    assert series["sku_id"] == "n-002"
    assert [(r["method"], r["method_rank"], r["is_member"]) for r in series["rows"]] == [
        ("top3_median", None, False),
        ("naive", 1, True),
        ("ses", 2, True),
        ("tsb", 3, False),
    ]
    assert series["rows"][0]["window_1_coverage"] == 0.8
    scored = api.get("/v1/tenants/globex/accuracy", "eve", params={"sku_id": "g-002"}).json()
    assert len(scored["rows"]) == 4


def test_forecast_rows_carry_the_drafts_interval(api: Api) -> None:
    rows = api.forecast(sku_id="n-004")
    assert [(r["lower_qty"], r["draft_qty"], r["upper_qty"]) for r in rows] == [
        ((step + 1) / 2, step + 1, (step + 1) * 2) for step in range(len(DATES))
    ]


def test_the_log_of_one_sku_pages_its_entries_only(api: Api) -> None:
    for n, sku in enumerate(["n-006", "n-007", "n-006", "n-008", "n-006"]):
        assert api.edit(sku, DATES[n], float(n)).status_code == 200
    entries = _pages(api, "edits/log", sku_id="n-006", limit=1, field="entries")
    assert [(e["sku_id"], e["new_qty"]) for e in entries] == [
        ("n-006", 0.0),
        ("n-006", 2.0),
        ("n-006", 4.0),
    ]
    assert _pages(api, "edits/log", sku_id="g-001", field="entries") == []
    everything = _pages(api, "edits/log", field="entries")
    assert [e for e in everything if e["sku_id"] == "n-006"] == entries


def test_without_the_pages_tables_the_page_endpoints_are_not_ready_and_say_what_to_run(
    api: Api,
) -> None:
    """Last in the module: a build (or a warehouse) without the page's tables, then again
    with them."""
    api.backend.lose_page_tables()
    deadline = time.monotonic() + 10
    while (
        answer := api.get("/v1/tenants/northwind/history", params={"sku_id": "n-001"})
    ).status_code == 200:
        assert time.monotonic() < deadline, "the server did not pick up the build"
        time.sleep(0.05)
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "not_ready" and "dbt build" in error["message"]
    assert api.forecast(sku_id="n-001"), "the forecast is still served"
    api.backend.publish()
    deadline = time.monotonic() + 10
    while api.get("/v1/tenants/northwind/skus").status_code != 200:
        assert time.monotonic() < deadline, "the server did not pick up the build"
        time.sleep(0.05)
