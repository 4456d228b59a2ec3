"""Data docs offline: each CDN address to its vendored file, and nothing external unknown."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

import vendor_datadocs
from forecast_hub.quality.assets import (
    LOCAL_FILES,
    PACKAGES,
    SITE_VENDOR,
    VENDOR_DIR,
    Package,
    sri,
)
from forecast_hub.quality.datadocs import ExternalAddressError, localize_page, localize_site

BOOTSTRAP_CSS = "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"
POPPER = "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js"
LOGO = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png"
NEWSLETTER = (
    "<footer>\n  <p>Stay current on everything GX with our newsletter <a href="
    '"https://greatexpectations.io/newsletter?utm_source=datadocs&utm_medium=product">'
    "Subscribe</a></p>\n</footer>\n"
)


@pytest.mark.parametrize("address", sorted(LOCAL_FILES))
def test_each_known_address_becomes_its_vendored_file_from_the_page(address: str) -> None:
    page = f'<script src="{address}"></script>'
    assert localize_page(page, "../../") == f'<script src="../../{LOCAL_FILES[address]}"></script>'


def test_every_vendored_file_is_in_the_vendor_folder_with_its_licence() -> None:
    for package in PACKAGES:
        folder = VENDOR_DIR / package.folder
        for file in package.files:
            assert (folder / file).is_file(), f"{package.folder}/{file}"
        assert (folder / "package.json").is_file()
        if package.licence:
            assert (folder / package.licence).is_file(), f"{package.folder} licence"
        declared = json.loads((folder / "package.json").read_text())
        assert (declared["name"], declared["version"]) == (package.name, package.version)
    for path in LOCAL_FILES.values():
        if path.startswith(SITE_VENDOR + "/"):
            assert (VENDOR_DIR / path.removeprefix(SITE_VENDOR + "/")).is_file(), path


def test_the_vendored_files_are_the_ones_gx_pins_by_hash() -> None:
    pinned = [(package, file, value) for package in PACKAGES for file, value in package.integrity]
    assert len(pinned) == 2
    for package, file, value in pinned:
        assert sri((VENDOR_DIR / package.folder / file).read_bytes()) == value


def test_the_logo_loses_its_query_string_and_the_data_context_id() -> None:
    page = f'<img src="{LOGO}?d=20260101T000000.000000Z&amp;dataContextId=4143-29b9" alt="GX"/>'
    local = localize_page(page, "../")
    assert local == '<img src="../static/images/logo-long.png" alt="GX"/>'


def test_a_css_url_is_rewritten_too() -> None:
    dark = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png"
    page = f"<style>.navbar-brand a {{ background: url('{dark}') 0 0 no-repeat; }}</style>"
    assert "url('static/images/logo-long.png')" in localize_page(page, "")


def test_integrity_and_cors_mode_go_with_the_cdn() -> None:
    page = f'<script src="{POPPER}" integrity="sha384-Apq" crossorigin="anonymous"></script>'
    assert localize_page(page, "") == f'<script src="{LOCAL_FILES[POPPER]}"></script>'


def test_the_newsletter_footer_is_removed() -> None:
    page = f"<body>\n<p>results</p>\n{NEWSLETTER}</body>"
    assert localize_page(page, "") == "<body>\n<p>results</p>\n</body>"


def test_the_link_to_gx_is_kept_and_relative_addresses_are_left_alone() -> None:
    page = (
        '<a href="https://greatexpectations.io">Great Expectations</a>'
        '<a href="validations/forecast_hub/x.html">run</a>'
        '<link rel="shortcut icon" href="./static/images/favicon.ico"/>'
        "<i style=\"background: url('data:image/png;base64,iVBO')\"></i>"
    )
    assert localize_page(page, "../") == page


@pytest.mark.parametrize(
    "page",
    [
        '<script src="https://cdn.example.com/tracker.js"></script>',
        '<link rel="stylesheet" href="//cdn.example.com/site.css">',
        "<style>body { background: url(https://cdn.example.com/bg.png) }</style>",
        '<script>fetch("HTTPS://beacon.example.com/hit?id=1")</script>',
        '<a href="https://greatexpectations.io/newsletter?utm_source=datadocs">Subscribe</a>',
        '<script src="https://cdn.jsdelivr.net/npm/vega@6"></script>',
    ],
)
def test_an_unknown_external_address_stops_the_rewrite(page: str) -> None:
    with pytest.raises(ExternalAddressError, match="has no vendored copy") as raised:
        localize_page(page, "", "validations/x.html")
    assert str(raised.value).startswith("validations/x.html loads ")


def test_the_site_gets_the_vendor_folder_and_each_page_its_own_depth(tmp_path: Path) -> None:
    site = tmp_path / "local_site"
    nested = site / "validations" / "forecast_hub" / "fct_sales" / "__none__" / "run" / "x.html"
    nested.parent.mkdir(parents=True)
    page = f'<link rel="stylesheet" href="{BOOTSTRAP_CSS}"/>'
    (site / "index.html").write_text(page)
    nested.write_text(page)
    localize_site(site)
    localize_site(site)  # a second run over rewritten pages changes nothing
    css = LOCAL_FILES[BOOTSTRAP_CSS]
    assert (site / "index.html").read_text() == f'<link rel="stylesheet" href="{css}"/>'
    assert nested.read_text() == f'<link rel="stylesheet" href="../../../../../{css}"/>'
    assert (nested.parent / ("../" * 5) / css).resolve().is_file()


def _tarball(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            member = tarfile.TarInfo(f"package/{name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return path


def test_the_refresh_keeps_the_wanted_files_and_checks_version_and_hash(tmp_path: Path) -> None:
    script = b"window.x = 1;\n"
    package = Package(
        "x", "1.0.0", ("dist/x.min.js",), "LICENSE", (("dist/x.min.js", sri(script)),)
    )
    manifest = json.dumps({"name": "x", "version": "1.0.0", "license": "MIT"}).encode()
    files = {
        "dist/x.min.js": script,
        "LICENSE": b"MIT\n",
        "package.json": manifest,
        "src/x.js": b"",
    }
    vendor_datadocs._unpack(package, _tarball(tmp_path / "x.tgz", files), tmp_path / "out")
    out = tmp_path / "out"
    kept = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert kept == ["x@1.0.0/LICENSE", "x@1.0.0/dist/x.min.js", "x@1.0.0/package.json"]

    altered = {**files, "dist/x.min.js": b"window.x = 2;\n"}
    with pytest.raises(SystemExit, match="pin"):
        vendor_datadocs._unpack(package, _tarball(tmp_path / "y.tgz", altered), tmp_path / "y")
    newer = Package("x", "1.0.1", ("dist/x.min.js",), "LICENSE")
    with pytest.raises(SystemExit, match=r"npm gave x 1\.0\.0, not 1\.0\.1"):
        vendor_datadocs._unpack(newer, _tarball(tmp_path / "z.tgz", files), tmp_path / "z")
