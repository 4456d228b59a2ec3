"""Run the API on uvicorn, one process per `serve`.

With the embedded store one process is the rule: the edits cache and the
group-commit writer live in it (two would each hold a cache the other's
writes never reach). With PostgreSQL or the warehouse every process reads
the shared store on every request, so several may serve side by side.
"""

from __future__ import annotations

import logging

import uvicorn

from forecast_hub.api.app import create_app
from forecast_hub.api.config import ApiConfig
from forecast_hub.api.tokens import TokenRegistry
from forecast_hub.settings import Settings, WarehouseTarget


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    access_log: bool = False,
    log_level: str = "info",
    target: WarehouseTarget = "duckdb",
) -> None:
    """Serve until interrupted; queued edits are committed before it stops.

    ``host`` and ``port`` default to the settings' (FORECAST_HUB_API_HOST and _PORT);
    ``target`` is `serve --target`.
    """
    config = ApiConfig.from_settings(settings, target)
    logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    if not len(TokenRegistry(config.tokens_file)):
        logging.getLogger("forecast_hub.api").warning(
            "no tokens in %s: every /v1 request will get 401; add one with"
            " `forecast-hub token add --tenant T --user U`",
            config.tokens_file,
        )
    uvicorn.run(
        create_app(config),
        host=settings.api_host if host is None else host,
        port=settings.api_port if port is None else port,
        loop="uvloop",
        http="httptools",
        access_log=access_log,
        log_level=log_level,
        timeout_graceful_shutdown=10,
    )
