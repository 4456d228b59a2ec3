"""The planning page's files, and the libraries it takes from npm: the one place they are pinned.

The page is plain HTML, CSS and JavaScript modules in ``web/``, served by
the API as they are (no build step). Its grid and chart libraries are
vendored under ``web/vendor/<name>/`` with their licence and package.json,
at the versions pinned here; ``scripts/vendor_page.py`` refreshes them from
the npm registry. The folder names carry no version, so an upgrade changes
this file and the vendored files, never the page's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent / "web"
VENDOR_DIR = WEB_DIR / "vendor"


@dataclass(frozen=True)
class Library:
    """One npm package at one version, and the files of it the page loads."""

    name: str
    version: str
    files: tuple[str, ...]
    licence: str

    @property
    def folder(self) -> Path:
        return VENDOR_DIR / self.name


# The grid: editing, range selection and clipboard paste (MIT).
TABULATOR = Library(
    "tabulator-tables",
    "6.5.3",
    ("dist/js/tabulator_esm.min.js", "dist/css/tabulator.min.css"),
    "LICENSE",
)
# The chart: about 50 KB, lines, points and bands (MIT).
UPLOT = Library("uplot", "1.6.32", ("dist/uPlot.iife.min.js", "dist/uPlot.min.css"), "LICENSE")
LIBRARIES = (TABULATOR, UPLOT)
