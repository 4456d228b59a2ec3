"""What every request shares: the tokens, the forecast cache and the edits store.

Reads come from memory: the published draft as the forecast cache holds it
(``cache.py``) merged with the edits cache (``edits.py``). The state never
opens the warehouse file, so a dbt build can run at any time; a new
published build is picked up by polling the CURRENT pointer, and the cache
looks again every FORECAST_HUB_CACHE_RELOAD_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from forecast_hub.api.cache import ForecastCache
from forecast_hub.api.config import ApiConfig
from forecast_hub.api.edits import EditsStore
from forecast_hub.api.generation import Generation
from forecast_hub.api.metrics import ApiMetrics
from forecast_hub.api.responses import iso_timestamp
from forecast_hub.api.tokens import TokenRegistry


class ApiState:
    """Everything a request needs: tokens, the forecast cache, the edits store, metrics."""

    def __init__(self, config: ApiConfig) -> None:
        self.config = config
        self.tokens = TokenRegistry(config.tokens_file)
        self.store = EditsStore(config.edits_store)
        self.cache = ForecastCache(config.serving_dir, config.cache)
        self.metrics = ApiMetrics(self.cache)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """Open the store and load the current draft; on the way out, commit what is queued."""
        self.store.open()
        await self.cache.refresh()
        watcher = asyncio.create_task(self.watch_builds())
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            self.store.close()

    async def watch_builds(self) -> None:
        """Reload when CURRENT names another build, and every reload period."""
        while True:
            await asyncio.sleep(self.config.snapshot_poll_seconds)
            await self.cache.refresh()

    def freshness_headers(self, generation: Generation, tenant_id: str) -> dict[str, str]:
        edits_as_of = self.store.edits_as_of.get(tenant_id, self.store.opened_at)
        return {
            "X-Forecast-Built-At": iso_timestamp(generation.publication.built_at),
            "X-Edits-As-Of": iso_timestamp(edits_as_of),
            "X-Data-Source": f"draft=serving/{generation.build_id}; edits=edits/edits.sqlite",
        }
