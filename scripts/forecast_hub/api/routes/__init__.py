"""The API's routes, one module per resource; ``ROUTERS`` is what the app mounts.

A new resource is a module here with a router (``tenant_router()`` for a
``/v1/tenants/{tenant_id}/...`` path, so it is authorised like the others)
added to ``ROUTERS``.
"""

from fastapi import APIRouter

from forecast_hub.api.routes import (
    accuracy,
    edits,
    forecast,
    health,
    history,
    metrics,
    page,
    prefs,
    skus,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    metrics.router,
    forecast.router,
    edits.router,
    prefs.router,
    skus.router,
    history.router,
    accuracy.router,
    page.router,
)

__all__ = ["ROUTERS"]
