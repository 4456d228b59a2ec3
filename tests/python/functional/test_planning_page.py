"""The planning page in headless Chromium over a real build, as planners use it.

A copy of the session's duckdb build (fixtures/builds.py: generate, ingest,
land, hybrid, dbt build) and one server over it, as test_api_pipeline.py
serves them; each test is a new
browser tab signed in with a token. Each test writes a screenshot under the
build's data folder (page/<test>.png) and fails if the page logged a console
error or asked anything of a host other than the API.
"""

from __future__ import annotations

import datetime as dt
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_backends import Server, publish_draft
from playwright.sync_api import Browser
from test_api_pipeline import Chain

from conftest import subprocess_env
from fixtures.builds import copy_build
from forecast_hub.api.tokens import add_token
from planner import Planner

TENANT = "northwind"


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, duckdb_build: Path) -> Iterator[Chain]:
    data_dir = copy_build(duckdb_build, tmp_path_factory.mktemp("planning_page"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    tokens_file = data_dir / "api" / "tokens.json"
    tokens = {user: add_token(tokens_file, TENANT, user) for user in ("ann", "bob")}
    built = Chain(data_dir, subprocess_env(data_dir), url, tokens)
    built.start_server()
    try:
        yield built
    finally:
        if built.server is not None:
            built.server.send_signal(signal.SIGTERM)
            built.server.wait(timeout=30)


@pytest.fixture(scope="module")
def skus(chain: Chain) -> list[dict]:
    """The tenant's drafted SKUs with an interval; each test takes its own."""
    with chain.client("ann") as client:
        rows = client.get(f"/v1/tenants/{TENANT}/skus", params={"limit": 10_000}).json()["rows"]
    combined = [row for row in rows if row["method"] == "top3_median"]
    assert len(combined) >= 8, "the generated dataset has too few SKUs with a backtest"
    return combined


@pytest.fixture
def planner(
    chromium_browser: Browser, chain: Chain, request: pytest.FixtureRequest
) -> Iterator[Planner]:
    """A new tab; after the test, no console error and no request off the API."""
    tab = Planner(chromium_browser, chain.url, chain.data_dir / "page")
    try:
        yield tab
        tab.screenshot(request.node.name.removeprefix("test_"))
        assert tab.errors == [], "the page logged errors"
        assert tab.outside() == [], "the page asked another host"
    finally:
        tab.close()


@pytest.fixture
def zoomed(chromium_browser: Browser, chain: Chain) -> Iterator[Planner]:
    """A tab as wide as a 1400-pixel window at 200 % zoom."""
    tab = Planner(chromium_browser, chain.url, chain.data_dir / "page", width=700)
    try:
        yield tab
        tab.screenshot("zoomed_200_percent")
        assert tab.errors == [] and tab.outside() == []
    finally:
        tab.close()


def _forecast(chain: Chain, sku_id: str, who: str = "ann") -> dict[str, dict]:
    with chain.client(who) as client:
        rows = client.get(
            f"/v1/tenants/{TENANT}/forecast", params={"sku_id": sku_id, "show_manual": "true"}
        ).json()["rows"]
    return {row["forecast_date"]: row for row in rows}


def _signed_in(planner: Planner, chain: Chain, sku: dict | None = None) -> list[str]:
    """Sign in as ann, open a SKU if given; its horizon's dates."""
    planner.sign_in(TENANT, chain.tokens["ann"])
    if sku is None:
        return []
    planner.search(sku["sku_id"])
    planner.open_sku(sku["sku_id"])
    return sorted(_forecast(chain, sku["sku_id"]))


def test_sign_in_shows_the_tenant_the_user_and_the_freshness(
    planner: Planner, chain: Chain
) -> None:
    planner.expect_refusal(401)
    planner.open()
    planner.page.fill("#tenant", TENANT)
    planner.page.fill("#token", "fh_not-a-token")
    planner.page.click("#sign-in-form button[type=submit]")
    planner.page.wait_for_selector("#sign-in-error:has-text('not known')")
    planner.sign_in(TENANT, chain.tokens["ann"])
    assert planner.page.inner_text("#who") == f"{TENANT} · ann"
    freshness = planner.page.inner_text("#freshness")
    assert "Draft built" in freshness and "edits as of" in freshness
    assert "draft=serving/" in freshness
    stored = planner.page.evaluate("() => Object.keys(sessionStorage)")
    assert stored == ["forecast-hub.session"]
    assert planner.page.evaluate("() => document.cookie") == ""
    assert all(chain.tokens["ann"] not in url for _, url in planner.requests)
    assert len(planner.refusals) == 1


def test_search_by_id_or_name_and_filter_by_category(
    planner: Planner, chain: Chain, skus: list[dict]
) -> None:
    _signed_in(planner, chain)
    wanted = skus[0]
    assert planner.search(wanted["sku_id"].lower()) == [wanted["sku_id"]]
    word = wanted["sku_name"].split()[-1]
    by_name = planner.search(word)
    assert wanted["sku_id"] in by_name
    assert all(word.lower() in row["sku_name"].lower() for row in skus if row["sku_id"] in by_name)
    in_category = planner.search("", wanted["category"])
    assert wanted["sku_id"] in in_category
    assert {row["category"] for row in skus if row["sku_id"] in in_category} == {wanted["category"]}
    facts = planner.page.locator(f'.sku[data-sku="{wanted["sku_id"]}"] .sku-facts').inner_text()
    assert "top3_median of " + ", ".join(wanted["members"]) in facts
    assert "WAPE" in facts and "0 edits" in facts


def test_opening_a_sku_draws_its_history_draft_band_and_grid(
    planner: Planner, chain: Chain, skus: list[dict]
) -> None:
    sku = skus[1]
    dates = _signed_in(planner, chain, sku)
    forecast = _forecast(chain, sku["sku_id"])
    headers = planner.page.locator(".tabulator-col-title")
    assert headers.all_inner_texts()[:7] == [
        "Period",
        "Draft",
        "Interval",
        "Manual",
        "Final",
        "Who",
        "When",
    ]
    assert all(title.is_visible() for title in headers.all()[:7])
    shown = planner.shown_dates()
    assert len(shown) >= 10 and shown == dates[: len(shown)]
    planner.scroll_grid_to_end()
    assert planner.shown_dates()[-1] == dates[-1]
    with chain.client("ann") as client:
        history = client.get(
            f"/v1/tenants/{TENANT}/history", params={"sku_id": sku["sku_id"], "limit": 10_000}
        ).json()["rows"]
    drawn = planner.drawn()
    assert (drawn["actual"], drawn["draft"]) == (len(history), len(forecast))
    assert drawn["band"] == sum(row["lower_qty"] is not None for row in forecast.values())
    assert len(planner.measures()) == len(planner.measures("sku-open-to-loaded")) == 1
    assert planner.page.inner_text("#series-accuracy").count("top3_median (the draft)") == 1
    assert "(80%)" in planner.page.inner_text("#tenant-accuracy")


def test_an_edited_cell_shows_once_acknowledged_and_the_chart_follows(
    planner: Planner, chain: Chain, skus: list[dict]
) -> None:
    sku = skus[2]
    dates = _signed_in(planner, chain, sku)
    planner.cancel_manual(dates[3], "99")
    assert planner.puts() == [] and planner.text(dates[3], "manual_qty") == ""
    planner.page.fill("#reason", "promotion week")
    planner.type_manual(dates[3], "12.5")
    assert planner.text(dates[3], "manual_qty") == "12.5"
    assert planner.text(dates[3], "forecast_qty") == "12.5 (manual)"
    assert planner.text(dates[3], "edited_by") == "ann"
    assert planner.drawn()["manual"] == {dates[3]: 12.5}
    stored = _forecast(chain, sku["sku_id"])[dates[3]]
    assert (stored["manual_qty"], stored["edited_by"]) == (12.5, "ann")
    assert planner.status() == "Saved 1 change."


def test_a_pasted_column_of_13_values_is_one_request_and_all_applied(
    planner: Planner, chain: Chain, skus: list[dict]
) -> None:
    sku = skus[3]
    dates = _signed_in(planner, chain, sku)
    before = len(planner.puts())
    values = [str(10 + k) for k in range(13)]
    planner.paste_manual(dates[0], values)
    assert len(planner.puts()) == before + 1, "one PUT for the whole column"
    stored = _forecast(chain, sku["sku_id"])
    assert [stored[date]["manual_qty"] for date in dates[:13]] == [10.0 + k for k in range(13)]
    assert stored[dates[13]]["manual_qty"] is None
    assert [planner.text(date, "manual_qty") for date in dates[:13]] == values
    assert len(planner.drawn()["manual"]) == 13


def test_a_pasted_column_with_one_bad_value_marks_it_and_applies_nothing(
    planner: Planner, chain: Chain, skus: list[dict]
) -> None:
    sku = skus[4]
    dates = _signed_in(planner, chain, sku)
    values = [str(5 + k) for k in range(13)]
    values[6] = "-3"
    planner.expect_refusal(422)
    planner.paste_manual(dates[0], values)
    bad = planner.cell(dates[6], "manual_qty")
    assert "cell-invalid" in (bad.get_attribute("class") or "")
    assert bad.get_attribute("aria-invalid") == "true"
    assert bad.get_attribute("title") == "qty is not negative"
    assert bad.inner_text().strip() == "⚠ -3"
    assert planner.page.locator(".cell-invalid").count() == 1
    assert "1 of 13 edits are invalid; none was applied" in planner.status()
    assert all(row["manual_qty"] is None for row in _forecast(chain, sku["sku_id"]).values())
    shown = [planner.text(date, "manual_qty") for date in dates[:13]]
    assert shown == [""] * 6 + ["⚠ -3"] + [""] * 6


def test_the_manual_toggle_is_the_stored_preference_and_survives_a_reload(
    planner: Planner, chain: Chain, skus: list[dict]
) -> None:
    sku = skus[5]
    dates = _signed_in(planner, chain, sku)
    planner.type_manual(dates[0], "40")
    planner.set_show_manual(False)
    assert planner.drawn()["manual"] == {}
    assert "(manual)" not in planner.text(dates[0], "forecast_qty")
    assert planner.text(dates[0], "manual_qty") == "40"
    with chain.client("ann") as client:
        assert client.get(f"/v1/tenants/{TENANT}/prefs").json()["show_manual"] is False
    planner.page.reload()
    planner.page.wait_for_selector("#workspace:not([hidden]) .sku")
    assert not planner.page.locator("#show-manual").is_checked()
    planner.search(sku["sku_id"])
    planner.open_sku(sku["sku_id"])
    assert planner.drawn()["manual"] == {}
    assert planner.text(dates[0], "forecast_qty") == planner.text(dates[0], "draft_qty")
    planner.set_show_manual(True)
    assert planner.drawn()["manual"] == {dates[0]: 40}
    assert planner.text(dates[0], "forecast_qty") == "40 (manual)"


def _edit_as(chain: Chain, who: str, sku_id: str, date: str, qty: float) -> None:
    with chain.client(who) as client:
        body = {"edits": [{"sku_id": sku_id, "forecast_date": date, "qty": qty}]}
        assert client.put(f"/v1/tenants/{TENANT}/edits", json=body).status_code == 200


def test_a_concurrent_edit_is_a_409_resolved_either_way(
    planner: Planner, chain: Chain, skus: list[dict]
) -> None:
    sku = skus[6]
    dates = _signed_in(planner, chain, sku)
    _edit_as(chain, "bob", sku["sku_id"], dates[1], 70)
    planner.expect_refusal(409)
    planner.type_manual(dates[1], "30")
    conflict = planner.page.locator("#conflict")
    assert conflict.is_visible()
    cells = conflict.locator("tbody td").all_inner_texts()
    assert cells[1:3] == ["30", "70"] and cells[3].startswith("bob, ")
    assert _forecast(chain, sku["sku_id"])[dates[1]]["manual_qty"] == 70
    planner.screenshot("conflict")
    with planner.page.expect_response(lambda r: r.request.method == "PUT"):
        planner.page.click("#keep-mine")
    planner.settle()
    assert _forecast(chain, sku["sku_id"])[dates[1]]["manual_qty"] == 30
    assert planner.text(dates[1], "manual_qty") == "30" and not conflict.is_visible()

    _edit_as(chain, "bob", sku["sku_id"], dates[1], 75)
    planner.type_manual(dates[1], "31")
    assert conflict.is_visible()
    planner.page.click("#take-theirs")
    planner.settle()
    assert planner.text(dates[1], "manual_qty") == "75"
    assert planner.text(dates[1], "edited_by") == "bob"
    stored = _forecast(chain, sku["sku_id"])[dates[1]]
    assert (stored["manual_qty"], stored["edited_by"]) == (75, "bob")
    planner.type_manual(dates[1], "32")
    assert not conflict.is_visible(), "taking theirs took their version too"
    assert len(planner.refusals) == 2
    assert _forecast(chain, sku["sku_id"])[dates[1]]["manual_qty"] == 32


def test_removing_an_edit_brings_the_draft_back(
    planner: Planner, chain: Chain, skus: list[dict]
) -> None:
    sku = skus[7]
    dates = _signed_in(planner, chain, sku)
    planner.type_manual(dates[2], "9")
    planner.remove(dates[2])
    assert planner.text(dates[2], "manual_qty") == ""
    assert planner.text(dates[2], "forecast_qty") == planner.text(dates[2], "draft_qty")
    assert planner.drawn()["manual"] == {}
    assert _forecast(chain, sku["sku_id"])[dates[2]]["manual_qty"] is None
    planner.type_manual(dates[2], "8")
    assert _forecast(chain, sku["sku_id"])[dates[2]]["manual_qty"] == 8, "the version followed"


def test_the_edit_log_lists_who_when_old_new_and_why(
    planner: Planner, chain: Chain, skus: list[dict]
) -> None:
    sku = skus[0]
    dates = _signed_in(planner, chain, sku)
    planner.page.fill("#reason", "promotion week")
    planner.type_manual(dates[3], "12.5")
    planner.page.fill("#reason", "late delivery")
    planner.type_manual(dates[3], "14")
    planner.remove(dates[3])
    day = dt.date.fromisoformat(dates[3])
    period = f"{day:%b} {day.day}, {day.year}"
    assert [row[1:] for row in planner.log_rows()] == [
        ["ann", period, "removed", "14", "", ""],
        ["ann", period, "set", "12.5", "14", "late delivery"],
        ["ann", period, "set", "", "12.5", "promotion week"],
    ]
    with chain.client("ann") as client:
        entries = client.get(
            f"/v1/tenants/{TENANT}/edits/log", params={"sku_id": sku["sku_id"]}
        ).json()["entries"]
    assert [entry["action"] for entry in entries] == ["upsert", "upsert", "remove"]


def test_an_api_without_a_draft_or_with_an_old_one_shows_a_banner_not_a_blank_page(
    chromium_browser: Browser, tmp_path: Path
) -> None:
    """A server with nothing built answers 503; then a draft three days old is published."""
    token = add_token(tmp_path / "api" / "tokens.json", TENANT, "ann")
    server = Server(tmp_path, "duckdb", {})
    server.start()
    planner = Planner(chromium_browser, server.url, tmp_path / "page")
    try:
        planner.expect_refusal(503)
        planner.open()
        planner.page.fill("#tenant", TENANT)
        planner.page.fill("#token", token)
        planner.page.click("#sign-in-form button[type=submit]")
        unavailable = planner.page.locator('.banner[data-cause="unavailable"]')
        unavailable.wait_for()
        assert "not available" in unavailable.inner_text()
        assert "run `dbt build`" in unavailable.inner_text()
        assert planner.page.locator("#workspace").is_visible()
        planner.screenshot("no_draft_banner")

        publish_draft(tmp_path, built_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
        deadline = time.monotonic() + 10
        while httpx.get(f"{server.url}/healthz").status_code != 200:
            assert time.monotonic() < deadline, "the server did not pick up the build"
            time.sleep(0.05)
        assert planner.search("n-00")[:2] == ["n-001", "n-002"]
        stale = planner.page.locator('.banner[data-cause="stale"]')
        assert "built 3 days ago, more than one day ago" in stale.inner_text()
        assert unavailable.count() == 0
        planner.screenshot("stale_draft_banner")
        assert planner.errors == [] and planner.outside() == []
        assert planner.refusals
    finally:
        planner.close()
        server.stop()


def test_at_200_percent_zoom_the_columns_stack_and_nothing_overflows(
    zoomed: Planner, chain: Chain, skus: list[dict]
) -> None:
    _signed_in(zoomed, chain, skus[1])
    finder, series = (
        zoomed.page.locator(f".{name}").bounding_box() for name in ("finder", "series")
    )
    assert finder is not None and series is not None
    assert series["y"] >= finder["y"] + finder["height"], "the series sits below the finder"
    overflow = zoomed.page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    assert zoomed.page.locator(".tabulator-col-title", has_text="Manual").is_visible()
