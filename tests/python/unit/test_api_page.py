"""The planning page's files as the API serves them: complete, pinned, from its own origin only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from forecast_hub.api import ApiConfig, create_app
from forecast_hub.api.page_assets import (
    ESBUILD_VERSION,
    LIBRARIES,
    TABULATOR,
    TABULATOR_BUNDLE,
    TABULATOR_MODULES,
    VENDOR_DIR,
    WEB_DIR,
)
from forecast_hub.api.routes.page import FILES

# The goal for the JavaScript and CSS the page ships, libraries included.
SHIPPED_BUDGET_BYTES = 500 * 1024
PAGE_FILES = [WEB_DIR / "index.html", WEB_DIR / "app.css", *sorted((WEB_DIR / "js").glob("*.js"))]
REFERENCE = re.compile(r"""(?:href|src)="([^"]+)"|from\s+"([^"]+)"|import\s+"([^"]+)\"""")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config = ApiConfig(
        edits_store=tmp_path / "edits" / "edits.sqlite",
        serving_dir=tmp_path / "serving",
        tokens_file=tmp_path / "api" / "tokens.json",
    )
    with TestClient(create_app(config)) as served:
        yield served


def test_the_page_is_served_with_headers_for_a_page_that_holds_a_token(
    client: TestClient,
) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in page.headers["content-security-policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    script = client.get("/assets/js/main.js")
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["content-security-policy"] == page.headers["content-security-policy"]
    assert client.get("/assets/app.css").headers["content-type"] == "text/css; charset=utf-8"


def test_only_the_pages_own_files_are_served(client: TestClient) -> None:
    for path in (
        "/assets/nothing.js",
        "/assets/../page_assets.py",
        "/assets/%2e%2e/page_assets.py",
        "/assets/vendor/uplot/package.json",
        "/assets/vendor/README.md",
        "/assets/",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
    assert all(path.resolve().is_relative_to(WEB_DIR) for path in FILES.values())


def test_every_file_the_page_references_is_served_from_its_own_origin() -> None:
    """No address of another host, no inline script, every reference resolves."""
    for source in PAGE_FILES:
        text = source.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, source
        for match in REFERENCE.finditer(text):
            reference = next(group for group in match.groups() if group)
            base = WEB_DIR if source.name == "index.html" else source.parent
            target = (base / reference.removeprefix("assets/")).resolve()
            assert target.relative_to(WEB_DIR).as_posix() in FILES, (source.name, reference)
    html = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == [], "an inline script"
    assert " style=" not in html and "<style" not in html, "an inline style"


def test_the_vendored_libraries_are_the_pinned_versions_with_their_licences() -> None:
    assert sorted(path.name for path in VENDOR_DIR.iterdir() if path.is_dir()) == sorted(
        library.name for library in LIBRARIES
    )
    for library in LIBRARIES:
        declared = json.loads((library.folder / "package.json").read_text(encoding="utf-8"))
        assert (declared["name"], declared["version"]) == (library.name, library.version)
        assert declared["license"] == "MIT"
        assert "MIT License" in (library.folder / library.licence).read_text(encoding="utf-8")
        for file in library.files:
            assert (library.folder / file).stat().st_size > 1000, file
    readme = (VENDOR_DIR / "README.md").read_text(encoding="utf-8")
    assert all(f"| {library.name} | {library.version} |" in readme for library in LIBRARIES)


def test_tabulator_is_the_bundle_of_its_core_and_the_grids_modules() -> None:
    bundle = (TABULATOR.folder / TABULATOR_BUNDLE).read_text(encoding="utf-8")
    banner = bundle.splitlines()[0]
    assert f"{TABULATOR.name} {TABULATOR.version}" in banner
    assert f"esbuild {ESBUILD_VERSION}" in banner
    assert ", ".join(TABULATOR_MODULES) in banner
    assert bundle.rstrip().endswith("as Tabulator};"), "an ES module exporting Tabulator"
    grid = (WEB_DIR / "js" / "grid.js").read_text(encoding="utf-8")
    assert f"../vendor/{TABULATOR.name}/{TABULATOR_BUNDLE}" in grid


def test_the_javascript_and_css_shipped_stay_under_500_kb() -> None:
    shipped = [path for path in FILES.values() if path.suffix in (".js", ".css")]
    assert WEB_DIR / "vendor" / TABULATOR.name / TABULATOR_BUNDLE in shipped
    total = sum(path.stat().st_size for path in shipped)
    assert total < SHIPPED_BUDGET_BYTES, f"{total / 1024:.0f} KB shipped"
