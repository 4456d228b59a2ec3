"""The files the data docs load, vendored from npm: the one place their versions are pinned.

Great Expectations 1.24.1 writes pages that load their scripts, stylesheets
and logo from public CDNs. Each address it writes maps here to a file of an
npm package at the version that address asks for (``vega@5`` is the newest
5.x, as the CDN resolves it). ``scripts/vendor_datadocs.py`` fetches these
packages into ``vendor/`` beside this module; ``datadocs.py`` copies that
folder into the written site and points every page at it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "vendor"

# Where the vendored packages sit inside the written site, and GX's own images.
SITE_VENDOR = "static/vendor"
SITE_IMAGES = "static/images"


@dataclass(frozen=True)
class Package:
    """One npm package at one version, and the files of it the pages need."""

    name: str
    version: str
    files: tuple[str, ...]
    # The package's own licence file; None where the package ships none, its
    # terms then being the licence its package.json declares.
    licence: str | None
    # Subresource-integrity hashes GX's templates pin for some files; the
    # vendored file must be the very one they name.
    integrity: tuple[tuple[str, str], ...] = ()

    @property
    def folder(self) -> str:
        """The package's folder under vendor/ (and under the site's static/vendor)."""
        return f"{self.name}@{self.version}"

    def site_path(self, file: str) -> str:
        """A file's path relative to the site root."""
        if file not in self.files:
            raise KeyError(f"{file} is not among the vendored files of {self.folder}")
        return f"{SITE_VENDOR}/{self.folder}/{file}"


BOOTSTRAP = Package(
    "bootstrap",
    "4.3.1",
    ("dist/css/bootstrap.min.css", "dist/js/bootstrap.min.js"),
    "LICENSE",
    (
        (
            "dist/js/bootstrap.min.js",
            "sha384-JjSmVgyd0p3pXB1rRibZUAYoIIy6OrQ6VrjIEaFf/nJGzIxFDsf4x0xIM+B07jRM",
        ),
    ),
)
BOOTSTRAP_TABLE = Package(
    "bootstrap-table",
    "1.19.1",
    (
        "dist/bootstrap-table.min.css",
        "dist/bootstrap-table.min.js",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    ),
    "LICENSE",
)
# The pages ask for the filter-control stylesheet of 1.19.0 beside 1.19.1's script.
BOOTSTRAP_TABLE_FILTER_CSS = Package(
    "bootstrap-table",
    "1.19.0",
    (
        "dist/extensions/filter-control/bootstrap-table-filter-control.css",
        "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    ),
    "LICENSE",
)
BOOTSTRAP_DATEPICKER = Package(
    "bootstrap-datepicker",
    "1.9.0",
    ("dist/css/bootstrap-datepicker.min.css", "dist/js/bootstrap-datepicker.min.js"),
    "LICENSE",
)
BOOTSTRAP_DARK = Package(
    "@forevolve/bootstrap-dark", "1.1.0", ("dist/css/bootstrap-prefers-dark.css",), "LICENSE"
)
VEGA = Package("vega", "5.33.1", ("build/vega.min.js",), None)
VEGA_LITE = Package("vega-lite", "5.23.0", ("build/vega-lite.min.js",), "LICENSE")
VEGA_EMBED = Package("vega-embed", "6.29.0", ("build/vega-embed.min.js",), "LICENSE")
FONT_AWESOME = Package(
    "@fortawesome/fontawesome-free",
    "6.6.0",
    (
        "css/all.min.css",
        # all.min.css loads these by ../webfonts/ from its own folder.
        *(
            f"webfonts/fa-{face}.{kind}"
            for face in ("brands-400", "regular-400", "solid-900", "v4compatibility")
            for kind in ("woff2", "ttf")
        ),
    ),
    "LICENSE.txt",
)
JQUERY = Package("jquery", "3.7.1", ("dist/jquery.min.js",), "LICENSE.txt")
POPPER = Package(
    "popper.js",
    "1.12.9",
    ("dist/umd/popper.min.js",),
    None,
    (
        (
            "dist/umd/popper.min.js",
            "sha384-ApNbgh9B+Y1QKtv3Rn7W3mgPxhU9K/ScQsAP7hUibX39j7fakFPskvXusvfa0b4Q",
        ),
    ),
)

PACKAGES: tuple[Package, ...] = (
    BOOTSTRAP,
    BOOTSTRAP_TABLE,
    BOOTSTRAP_TABLE_FILTER_CSS,
    BOOTSTRAP_DATEPICKER,
    BOOTSTRAP_DARK,
    VEGA,
    VEGA_LITE,
    VEGA_EMBED,
    FONT_AWESOME,
    JQUERY,
    POPPER,
)

_UNPKG_TABLE = "https://unpkg.com/bootstrap-table@"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"
_GX_BUCKET = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com"

# Each external address the GX 1.24.1 pages load (query string left off) and
# the site-relative file that replaces it.
LOCAL_FILES: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": BOOTSTRAP.site_path(
        "dist/css/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": BOOTSTRAP.site_path(
        "dist/js/bootstrap.min.js"
    ),
    **{
        f"{_UNPKG_TABLE}1.19.1/{file}": BOOTSTRAP_TABLE.site_path(file)
        for file in BOOTSTRAP_TABLE.files
    },
    **{
        f"{_UNPKG_TABLE}1.19.0/{file}": BOOTSTRAP_TABLE_FILTER_CSS.site_path(file)
        for file in BOOTSTRAP_TABLE_FILTER_CSS.files
    },
    f"{_CDNJS}/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        BOOTSTRAP_DATEPICKER.site_path("dist/css/bootstrap-datepicker.min.css")
    ),
    f"{_CDNJS}/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        BOOTSTRAP_DATEPICKER.site_path("dist/js/bootstrap-datepicker.min.js")
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (  # noqa: E501
        BOOTSTRAP_DARK.site_path("dist/css/bootstrap-prefers-dark.css")
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": VEGA.site_path("build/vega.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-lite@5": VEGA_LITE.site_path("build/vega-lite.min.js"),
    "https://cdn.jsdelivr.net/npm/vega-embed@6": VEGA_EMBED.site_path("build/vega-embed.min.js"),
    f"{_CDNJS}/font-awesome/6.6.0/css/all.min.css": FONT_AWESOME.site_path("css/all.min.css"),
    "https://code.jquery.com/jquery-3.7.1.min.js": JQUERY.site_path("dist/jquery.min.js"),
    f"{_CDNJS}/popper.js/1.12.9/umd/popper.min.js": POPPER.site_path("dist/umd/popper.min.js"),
    # GX's logo, which GX itself ships and copies into the site's static/images;
    # the bucket's copy carries the data context id in its query string.
    f"{_GX_BUCKET}/logo-long.png": f"{SITE_IMAGES}/logo-long.png",
    # The dark-mode navbar logo of GX's default stylesheet; GX ships no dark copy.
    f"{_GX_BUCKET}/full_logo_dark.png": f"{SITE_IMAGES}/logo-long.png",
}


def sri(data: bytes, algorithm: str = "sha384") -> str:
    """The subresource-integrity value of some bytes, as an integrity attribute has it."""
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode()}"


# External links a person may follow by clicking; the page never loads them.
KEPT_LINKS: frozenset[str] = frozenset({"https://greatexpectations.io"})
