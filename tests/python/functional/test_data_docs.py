"""The data docs as a data steward opens them: from disk, in headless Chromium, offline.

Each page is opened by its file:// address and every request it makes is
recorded: all of them must be files of the site itself. The page must be
styled by the vendored bootstrap, its scripts must have built the
validation-results table, and the planted negative draft must show as failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page

from browser import Traffic, open_page
from forecast_hub.quality import QualityResult
from forecast_hub.quality.checks import datasets
from forecast_hub.settings import Settings

DATASETS = [dataset.name for dataset in datasets("silver")]
RESULTS_TABLE = "table.ge-index-page-validation-results-table"
# Bootstrap 4's colour of .text-danger.
BOOTSTRAP_DANGER = "rgb(220, 53, 69)"
# The ground the site's custom styles give the logo in dark mode.
LIGHT_GROUND = "rgb(248, 249, 250)"
# The rows bootstrap-table draws from the index page's data, as plain values.
ROWS_SCRIPT = """rows => rows.map(row => ({
    cells: [...row.cells].map(cell => cell.innerText.trim()),
    href: row.dataset.href,
    failed: row.querySelector('.fa-times.text-danger') !== null,
    passed: row.querySelector('.fa-check-circle.text-success') !== null,
}))"""


def _results_table(page: Page) -> list[dict[str, Any]]:
    page.wait_for_selector(f"{RESULTS_TABLE} tbody tr.clickable-row", timeout=10_000)
    rows: list[dict[str, Any]] = page.eval_on_selector_all(
        f"{RESULTS_TABLE} tbody tr.clickable-row", ROWS_SCRIPT
    )
    return rows


def _assert_offline(traffic: Traffic, site: Path) -> None:
    """Every request went to a file of the site, and each was served."""
    assert traffic.requests, "the page made no request at all"
    assert traffic.outside(site.as_uri() + "/") == [], "requests outside the site folder"
    assert traffic.failed == []


def _assert_styled(page: Page) -> None:
    """Bootstrap's navbar is a flex box and its reboot sets the system font stack."""
    assert page.evaluate("getComputedStyle(document.querySelector('nav.navbar')).display") == "flex"
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font.startswith("-apple-system"), font
    icons = page.evaluate(
        "document.fonts.ready.then(() => document.fonts.check('900 16px \"Font Awesome 6 Free\"'))"
    )
    assert icons, "the vendored Font Awesome did not load"


def _open_run(
    browser: Browser, result: QualityResult, screenshot: Path
) -> tuple[Page, Traffic, list[dict[str, Any]]]:
    """The index page, checked offline and styled, and its validation-results rows."""
    page, traffic = open_page(browser, result.data_docs_index.as_uri())
    _assert_offline(traffic, result.data_docs_index.parent)
    rows = _results_table(page)
    _assert_styled(page)
    page.screenshot(path=str(screenshot), full_page=True)
    return page, traffic, rows


def _open_row(page: Page, dataset: str) -> None:
    """Click the results row of one dataset, as a person does, and wait for its page."""
    # The page binds the row click in a jQuery ready handler, which jQuery runs
    # after a timeout, so possibly after the load event: a ready handler
    # queued now runs after it.
    page.evaluate("() => new Promise(resolve => $(() => resolve(true)))")
    row = page.locator(f"{RESULTS_TABLE} tbody tr.clickable-row", has_text=dataset).first
    with page.expect_navigation():
        row.click()
    page.wait_for_load_state("load")


def test_the_index_lists_the_run_offline_and_styled(
    chromium_browser: Browser, built: Settings, good_result: QualityResult
) -> None:
    screenshot = built.data_dir / "quality" / "data-docs-index.png"
    page, traffic, rows = _open_run(chromium_browser, good_result, screenshot)
    assert sorted(row["cells"][3] for row in rows) == sorted(DATASETS)
    assert {row["cells"][5] for row in rows} == {f"forecast_hub.{name}" for name in DATASETS}
    assert len({row["cells"][1] for row in rows}) == 1, "one run, one run time"
    assert all(row["passed"] and not row["failed"] for row in rows)
    site = good_result.data_docs_index.parent
    assert all((site / row["href"]).is_file() for row in rows)
    assert screenshot.stat().st_size > 0

    _open_row(page, "fct_forecast_draft")
    assert "/validations/forecast_hub/fct_forecast_draft/" in page.url
    _assert_styled(page)
    assert "Succeeded" in page.locator("body").inner_text()
    page.screenshot(
        path=str(built.data_dir / "quality" / "data-docs-validation.png"), full_page=True
    )
    _assert_offline(traffic, site)


def test_in_dark_mode_the_logo_has_a_light_ground(
    chromium_browser: Browser, good_result: QualityResult
) -> None:
    page, traffic = open_page(chromium_browser, good_result.data_docs_index.as_uri(), "dark")
    _results_table(page)
    brand = page.locator(".navbar-brand a")
    assert brand.evaluate("element => getComputedStyle(element).backgroundColor") == LIGHT_GROUND
    assert brand.locator("img").evaluate("img => getComputedStyle(img).visibility") == "visible"
    assert brand.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
    _assert_offline(traffic, good_result.data_docs_index.parent)


def test_the_negative_draft_shows_as_failed(
    chromium_browser: Browser, negative_draft: tuple[Settings, QualityResult]
) -> None:
    settings, result = negative_draft
    screenshot = settings.data_dir / "quality" / "data-docs-index.png"
    page, traffic, rows = _open_run(chromium_browser, result, screenshot)
    failed = [row["cells"][3] for row in rows if row["failed"]]
    assert failed == ["fct_forecast_draft"]
    assert sum(row["passed"] for row in rows) == len(DATASETS) - 1

    _open_row(page, "fct_forecast_draft")
    failure = page.locator("tr", has_text="values must be greater than or equal to").last
    assert failure.locator(".fa-times.text-danger").is_visible()
    danger = failure.locator("strong.text-danger")
    assert "1 unexpected values found" in danger.inner_text()
    assert danger.evaluate("element => getComputedStyle(element).color") == BOOTSTRAP_DANGER
    overview = page.locator("text=Unsuccessful Expectations").locator("xpath=ancestor::tr[1]")
    assert overview.inner_text().split() == ["Unsuccessful", "Expectations", "1"]
    page.screenshot(
        path=str(settings.data_dir / "quality" / "data-docs-validation.png"), full_page=True
    )
    _assert_offline(traffic, result.data_docs_index.parent)
