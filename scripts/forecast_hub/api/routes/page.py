"""``GET /``: the planning page, and its files under ``/assets/``.

They hold no data (every number comes from ``/v1`` with the planner's
token), so they need no token. Only the files of ``web/`` with a known type
are served, listed once at start-up, so no path reaches outside the folder.
The headers suit a page that holds a bearer token: scripts, styles and
requests from the API's own origin only and no inline script (CSP), never
framed, no referrer sent, no content-type sniffing.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from forecast_hub.api.errors import not_found
from forecast_hub.api.page_assets import WEB_DIR

router = APIRouter(include_in_schema=False)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    # Revalidated on every load (ETag), so a new release shows at once.
    "Cache-Control": "no-cache",
}
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def page_files(root: Path = WEB_DIR) -> dict[str, Path]:
    """Every servable file of the page, by its path under /assets/."""
    return {
        path.relative_to(root).as_posix(): path
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.suffix in MEDIA_TYPES
    }


FILES = page_files()


def _file(path: Path) -> Response:
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix], headers=SECURITY_HEADERS)


@router.get("/")
async def planning_page() -> Response:
    """The planning page."""
    return _file(FILES["index.html"])


@router.get("/assets/{path:path}")
async def page_asset(path: str) -> Response:
    """A script, stylesheet or image of the page."""
    found = FILES.get(path)
    if found is None:
        raise not_found("no such file of the planning page")
    return _file(found)
