"""The planning page's files, and the libraries it takes from npm: the one place they are pinned.

The page is plain HTML, CSS and JavaScript modules in ``web/``, served by
the API as they are (no build step to run it). Its grid and chart libraries
are vendored under ``web/vendor/<name>/`` with their licence and
package.json, at the versions pinned here; ``scripts/vendor_page.py``
refreshes them from the npm registry. Of Tabulator, whose prebuilt browser
file holds all of its modules, only its core and the modules of
``TABULATOR_MODULES`` are vendored: bundled once into one minified ES
module by esbuild (pinned here too) when the script runs, and committed. The
folder names carry no version, so an upgrade changes this file and the
vendored files, never the page's own.
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


# The grid: editing, range selection and clipboard paste (MIT). Its
# JavaScript is the bundle below; its stylesheet is the package's own.
TABULATOR = Library("tabulator-tables", "6.5.3", ("dist/css/tabulator.min.css",), "LICENSE")
# The bundle of Tabulator's core with the modules the grid uses (range
# selection needs the frozen-columns module), registered by the bundle
# itself: an ES module exporting Tabulator, written into the library's folder.
TABULATOR_MODULES = (
    "Clipboard",
    "Edit",
    "Export",
    "Format",
    "FrozenColumns",
    "Interaction",
    "Keybindings",
    "SelectRange",
)
TABULATOR_BUNDLE = "tabulator.bundle.min.js"
# The bundler, used by scripts/vendor_page.py only (nothing of it is vendored).
ESBUILD_VERSION = "0.28.2"
# The chart: about 50 KB, lines, points and bands (MIT).
UPLOT = Library("uplot", "1.6.32", ("dist/uPlot.iife.min.js", "dist/uPlot.min.css"), "LICENSE")
LIBRARIES = (TABULATOR, UPLOT)
