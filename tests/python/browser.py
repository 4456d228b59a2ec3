"""Headless Chromium for browser tests: Debian's package, driven by Playwright.

Playwright cannot download its own browsers here, so tests drive
``/usr/bin/chromium`` and install Debian's ``chromium`` package when it is
missing. Every request a page makes is recorded, so a test can say that
nothing left the machine.

    with chromium() as browser:
        page, traffic = open_page(browser, url)
        assert traffic.outside("http://127.0.0.1:8000/") == []
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from playwright.sync_api import Browser, Page, Request, sync_playwright

from forecast_hub.apt import one_installer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def ensure_chromium() -> Path:
    """/usr/bin/chromium, installed from Debian's packages when it is missing."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None:
        raise RuntimeError(f"{CHROMIUM} is missing and there is no apt-get to install chromium")
    with one_installer():
        for command in ([apt, "update"], [apt, "install", "-y", "chromium"]):
            if CHROMIUM.exists():
                break
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            )
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    if not CHROMIUM.exists():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed after the block."""
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Traffic:
    """What a page asked for: every request's address, and those that failed."""

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def outside(self, prefix: str) -> list[str]:
        """The requested addresses that do not start with prefix."""
        return [url for url in self.requests if not url.startswith(prefix)]


def open_page(
    browser: Browser, url: str, color_scheme: Literal["light", "dark"] = "light"
) -> tuple[Page, Traffic]:
    """A new page at url, and its traffic, recorded from before the first request on."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, color_scheme=color_scheme)
    traffic = Traffic()

    def requested(request: Request) -> None:
        traffic.requests.append(request.url)

    def failed(request: Request) -> None:
        traffic.failed.append(f"{request.url}: {request.failure}")

    page.on("request", requested)
    page.on("requestfailed", failed)
    page.goto(url, wait_until="load")
    return page, traffic
