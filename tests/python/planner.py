"""The planning page driven the way a planner uses it, in headless Chromium.

A ``Planner`` is one browser tab on the page at ``url``. It keeps every
console error and page error, and the method and address of every request,
so a test can say the page logged nothing wrong and asked nothing of another
host. Chromium logs each API answer of 4xx as a console error ("Failed to
load resource"); a test that provokes one on purpose (a 409, a 422) says so
with ``expect_refusal``, and only those are set aside. The grid's rows carry
their period (``data-date``) and Tabulator names each cell's column
(``tabulator-field``), which is how cells are found.

    planner = Planner(browser, "http://127.0.0.1:8000")
    planner.sign_in("northwind", token)
    planner.open_sku("NW-000004")
    planner.type_manual("2026-10-28", "12")
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request, Response

TIMEOUT_MS = 15_000
# A paste as a spreadsheet sends it: a ClipboardEvent carrying text/plain.
PASTE_SCRIPT = """([selector, text]) => {
    const target = document.querySelector(selector);
    const data = new DataTransfer();
    data.setData("text/plain", text);
    const paste = {clipboardData: data, bubbles: true, cancelable: true};
    target.dispatchEvent(new ClipboardEvent("paste", paste));
}"""
REFUSED = re.compile(r"^Failed to load resource: the server responded with a status of (\d{3})")


class Planner:
    def __init__(
        self, browser: Browser, url: str, screenshots: Path | None = None, width: int = 1400
    ) -> None:
        self.url = url.rstrip("/")
        self.screenshots = screenshots
        self.page: Page = browser.new_page(
            viewport={"width": width, "height": 1000}, locale="en-US", timezone_id="UTC"
        )
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.refusals: list[str] = []
        self.expected: set[int] = set()
        self.requests: list[tuple[str, str]] = []
        self.responses: list[Response] = []
        self.page.on("console", self._console)
        self.page.on("response", lambda response: self.responses.append(response))
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        self.page.on("request", self._request)

    def expect_refusal(self, *statuses: int) -> None:
        """The API answering these statuses is part of the scenario, not an error."""
        self.expected.update(statuses)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        refused = REFUSED.match(message.text)
        address = message.location.get("url", "")
        if refused and int(refused[1]) in self.expected and address.startswith(self.url + "/v1/"):
            self.refusals.append(f"{refused[1]} {address}")
        else:
            self.errors.append(f"console: {message.text} ({address})")

    def _request(self, request: Request) -> None:
        self.requests.append((request.method, request.url))

    def outside(self) -> list[str]:
        """Requests to anything but the API that serves the page."""
        return [url for _, url in self.requests if not url.startswith(self.url + "/")]

    def puts(self) -> list[str]:
        return [url for method, url in self.requests if method == "PUT"]

    def screenshot(self, name: str) -> Path | None:
        if self.screenshots is None:
            return None
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = self.screenshots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.page.context.close()

    # Signing in and finding a SKU.

    def open(self) -> None:
        self.page.goto(self.url + "/", wait_until="load")
        self.page.wait_for_selector("#sign-in:not([hidden]), #workspace:not([hidden])")

    def sign_in(self, tenant: str, token: str) -> None:
        self.open()
        self.page.fill("#tenant", tenant)
        self.page.fill("#token", token)
        self.page.click("#sign-in-form button[type=submit]")
        self.page.wait_for_selector("#workspace:not([hidden]) .sku")
        self.settle()

    def listed(self) -> list[str]:
        return self.page.locator(".sku .sku-id").all_inner_texts()

    def search(self, text: str = "", category: str = "") -> list[str]:
        """Type a search and choose a category; the SKUs listed once the API answered."""
        with self.page.expect_response(lambda r: "/skus?" in r.url and r.ok):
            self.page.fill("#search", text)
            self.page.keyboard.press("Enter")
        if category != self.page.input_value("#category"):
            with self.page.expect_response(lambda r: "/skus?" in r.url and r.ok):
                self.page.select_option("#category", category)
        self.settle()
        return self.listed()

    def open_sku(self, sku_id: str) -> None:
        self.page.evaluate("() => { delete document.body.dataset.drawn; }")
        self.page.locator(f'.sku[data-sku="{sku_id}"]').click()
        self.page.wait_for_selector(f'body[data-drawn="{sku_id}"]', state="attached")
        self.settle()

    # The series.

    def drawn(self) -> dict[str, Any]:
        """What the chart draws: counts of actual, draft and band points, manual by date."""
        drawn: dict[str, Any] = json.loads(self.page.get_attribute("#chart", "data-drawn") or "{}")
        return drawn

    def measures(self, name: str = "sku-open-to-drawn") -> list[float]:
        """The page's own measures: sku-open-to-drawn, from a click on a SKU to its chart and
        grid drawn; sku-open-to-loaded, to its data arrived."""
        durations: list[float] = self.page.evaluate(
            "name => performance.getEntriesByName(name).map(entry => entry.duration)", name
        )
        return durations

    def shown_dates(self) -> list[str]:
        """The periods of the grid's rows in the page (the grid draws those in view)."""
        return [
            row.get_attribute("data-date") or ""
            for row in self.page.locator(".tabulator-row").all()
        ]

    def scroll_grid_to_end(self) -> None:
        """End, as on a keyboard, in the grid."""
        self.page.locator(".tabulator-row").first.locator(".tabulator-cell").first.click()
        self.page.keyboard.press("End")
        self.page.wait_for_timeout(100)

    def cell(self, date: str, field: str) -> Locator:
        return self.page.locator(
            f'.tabulator-row[data-date="{date}"] .tabulator-cell[tabulator-field="{field}"]'
        )

    def text(self, date: str, field: str) -> str:
        return self.cell(date, field).inner_text().strip()

    def status(self) -> str:
        return self.page.inner_text("#grid-status").strip()

    # Editing.

    def type_manual(self, date: str, value: str) -> None:
        """Select the Manual cell, Enter to edit, type, Enter to commit; wait for the answer."""
        self.cell(date, "manual_qty").click()
        with self.page.expect_response(lambda r: r.request.method == "PUT"):
            self.page.keyboard.press("Enter")
            self.page.keyboard.type(value)
            self.page.keyboard.press("Enter")
        self.settle()

    def cancel_manual(self, date: str, value: str) -> None:
        """Select the Manual cell, Enter to edit, type, then Escape."""
        self.cell(date, "manual_qty").click()
        self.page.keyboard.press("Enter")
        self.page.keyboard.type(value)
        self.page.keyboard.press("Escape")
        self.settle()

    def paste_manual(self, first_date: str, values: list[str]) -> None:
        """Select first_date's Manual cell, paste a column of values, wait for the answer."""
        self.cell(first_date, "manual_qty").click()
        text = "\n".join(values) + "\n"
        with self.page.expect_response(lambda r: r.request.method == "PUT"):
            selector = f'.tabulator-row[data-date="{first_date}"] [tabulator-field="manual_qty"]'
            self.page.evaluate(PASTE_SCRIPT, [selector, text])
        self.settle()

    def remove(self, date: str) -> None:
        with self.page.expect_response(lambda r: r.request.method == "DELETE"):
            self.cell(date, "sku_id").get_by_role("button", name="Remove").click()
        self.settle()

    def settle(self) -> None:
        """Every request the page started has been answered, and no cell waits for one."""
        self.page.wait_for_selector("body[aria-busy=false]", state="attached")
        self.page.wait_for_selector(".cell-pending", state="detached")

    def set_show_manual(self, shown: bool) -> None:
        box = self.page.locator("#show-manual")
        if box.is_checked() == shown:
            return
        with self.page.expect_response(lambda r: r.request.method == "PUT" and "/prefs" in r.url):
            box.click()
        self.settle()

    def log_rows(self) -> list[list[str]]:
        rows = self.page.locator("#edit-log tbody tr").all()
        return [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows]
