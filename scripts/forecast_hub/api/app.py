"""The ASGI app of api.md: the merged forecast, edits, the edit log, preferences.

The pieces: ``state.py`` (tokens, the forecast cache, the edits store),
``auth.py`` (the tenant gate every ``/v1`` route passes), ``routes/`` (one
module per resource), ``errors.py`` (every exception to its answer),
``metrics.py`` (what /metrics serves) and ``schemas.py`` (the OpenAPI
document at /docs).
"""

from __future__ import annotations

from fastapi import FastAPI

from forecast_hub.api.config import ApiConfig
from forecast_hub.api.errors import install_error_handlers
from forecast_hub.api.metrics import RequestMetrics
from forecast_hub.api.routes import ROUTERS
from forecast_hub.api.schemas import install_openapi
from forecast_hub.api.state import ApiState


def create_app(config: ApiConfig) -> FastAPI:
    """The app over one data folder; the edits store opens when the server starts."""
    state = ApiState(config)
    app = FastAPI(
        title="forecast-hub API",
        version="1",
        summary="The merged forecast (draft and planners' edits), edits, their log, preferences.",
        lifespan=state.lifespan,
    )
    app.state.api = state
    install_error_handlers(app)
    app.add_middleware(RequestMetrics, metrics=state.metrics)
    for router in ROUTERS:
        app.include_router(router)
    install_openapi(app)
    return app
