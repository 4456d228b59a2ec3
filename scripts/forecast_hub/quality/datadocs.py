"""Data docs that open anywhere: every script, stylesheet and image from the site's own folder.

GX's site configuration turns off what it can (the how-to buttons and the
walkthrough, whose links lead to GX's documentation), and its custom styles
file gives the local logo a ground it reads on in dark mode. What it cannot, its
templates hard-code: CDN addresses for bootstrap, jQuery, vega and the rest,
the logo from GX's bucket with the data context id in its query string, and
a newsletter footer. ``localize_site`` copies the vendored packages beside
the written pages and rewrites each page so that it loads them instead;
an external address it has no vendored copy for stops it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from forecast_hub.errors import UserError
from forecast_hub.quality.assets import KEPT_LINKS, LOCAL_FILES, SITE_VENDOR, VENDOR_DIR

SITE_NAME = "local_site"
SITE_DIR = "uncommitted/data_docs/local_site/"

# An external address: http(s) anywhere, or protocol-relative as an attribute
# value or a CSS url().
_EXTERNAL = re.compile(r"""(?:https?:|(?<=["'(=]))//[^\s"'()<>]+""", re.IGNORECASE)
# Hashes and CORS mode are for the CDN copies; a page opened from disk has no
# origin, so a file loaded with them would be refused.
_INTEGRITY = re.compile(r"""\s(?:integrity|crossorigin)="[^"]*\"""")
# GX's newsletter footer (templates/cloud-footer.j2), which no setting turns off.
_NEWSLETTER = re.compile(r"<footer>\s*<p>Stay current on everything GX.*?</footer>\s*", re.DOTALL)


# GX's own setting for styles: this file in the project's plugins folder is
# inlined into every page after GX's default styles. In dark mode GX shows a
# light-on-dark logo from its bucket; the site has only the dark-on-light one,
# so there it gets a light ground.
CUSTOM_STYLES_FILE = Path("custom_data_docs/styles/data_docs_custom_styles.css")
CUSTOM_STYLES = """@media (prefers-color-scheme: dark) {
  .navbar-brand a {
    background: #f8f9fa;
    border-radius: 0.25rem;
  }
  .navbar-brand a img {
    visibility: visible;
  }
}
"""


class ExternalAddressError(UserError):
    """A data docs page loads an external address that has no vendored copy."""


def site_config() -> dict[str, Any]:
    """The local data docs site: GX's default, without the how-to buttons."""
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": SITE_DIR},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def write_custom_styles(plugins: Path) -> None:
    """The site's styles beyond GX's defaults, into the GX project's plugins folder."""
    path = plugins / CUSTOM_STYLES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CUSTOM_STYLES, encoding="utf-8")


def localize_page(html: str, root: str, page: str = "a data docs page") -> str:
    """The page with each external address it loads pointed at its vendored copy.

    ``root`` leads from the page to the site's root ("" for index.html,
    "../../" two folders down). Query strings are dropped with the address
    (the logo's carries the data context id). Links a person may follow are
    kept; any other external address raises ``ExternalAddressError``.
    """

    def local(match: re.Match[str]) -> str:
        address = match.group(0)
        if address in KEPT_LINKS:
            return address
        path = LOCAL_FILES.get(address.split("?", 1)[0])
        if path is None:
            raise ExternalAddressError(
                f"{page} loads {address}, which has no vendored copy; map it in"
                " forecast_hub/quality/assets.py and run scripts/vendor_datadocs.py"
            )
        return root + path

    html = _NEWSLETTER.sub("", html)
    html = _INTEGRITY.sub("", html)
    return _EXTERNAL.sub(local, html)


def localize_site(site: Path) -> None:
    """Copy the vendored assets into the site and point every page of it at them."""
    if not (VENDOR_DIR / "README.md").is_file():
        raise UserError(
            f"no vendored data docs assets in {VENDOR_DIR}; run scripts/vendor_datadocs.py"
        )
    shutil.copytree(VENDOR_DIR, site / SITE_VENDOR, dirs_exist_ok=True)
    for path in sorted(site.rglob("*.html")):
        relative = path.relative_to(site)
        html = path.read_text(encoding="utf-8")
        local = localize_page(html, "../" * (len(relative.parts) - 1), str(relative))
        if local != html:
            path.write_text(local, encoding="utf-8")
