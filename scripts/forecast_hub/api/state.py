"""What every request shares: the tokens, the forecast cache, the edits store, metrics.

On the duckdb target reads come from the published draft as the forecast
cache holds it (``cache.py``), merged with the edits store the
configuration chooses (``stores/``: the embedded store's memory, or
PostgreSQL). The state never opens the warehouse file, so a dbt build can
run at any time; a new published build is picked up by polling the CURRENT
pointer, and the cache looks again every FORECAST_HUB_CACHE_RELOAD_SECONDS.
With an object store, the bucket's current build is fetched into the local
serving folder first (a warm start on an empty data folder) and again every
FORECAST_HUB_CACHE_RELOAD_SECONDS, and the cache loads it as soon as it is
fetched. On emulator and snowflake the cache holds no draft: the
warehouse's ``serving.v_forecast`` answers (``stores/snowflake.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from forecast_hub.api.cache import ForecastCache
from forecast_hub.api.config import ApiConfig
from forecast_hub.api.generation import Generation
from forecast_hub.api.metrics import ApiMetrics
from forecast_hub.api.page_data import PageDataCache
from forecast_hub.api.responses import iso_timestamp
from forecast_hub.api.stores import EditsBackend, choose_backend, resolved
from forecast_hub.api.tokens import TokenRegistry
from forecast_hub.objectstore import ObjectStore, ObjectStoreError
from forecast_hub.objectstore.drafts import fetch_current_build

log = logging.getLogger("forecast_hub.api")


class ApiState:
    """Everything a request needs: tokens, the forecast cache, the edits store, metrics."""

    def __init__(self, config: ApiConfig) -> None:
        self.config = config
        self.tokens = TokenRegistry(config.tokens_file)
        self.backend = choose_backend(config)
        self.store: EditsBackend = self.backend.store
        self.warehouse = self.backend.warehouse
        self.object_store = ObjectStore(config.object_store) if config.object_store else None
        self.cache = ForecastCache(config.serving_dir, config.cache)
        self.metrics = ApiMetrics(self.cache, self.store)
        self.page_data = PageDataCache(config.serving_dir)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """Open the store and load the current draft; on the way out, commit what is queued."""
        await asyncio.to_thread(self.fetch_build)
        await resolved(self.store.open())
        watchers = []
        if self.warehouse is not None:
            await self.warehouse.open()
        else:
            await self.cache.refresh()
            watchers.append(asyncio.create_task(self.watch_builds()))
        if self.object_store is not None:
            watchers.append(asyncio.create_task(self.watch_bucket()))
        try:
            yield
        finally:
            for watcher in watchers:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            await resolved(self.store.close())
            if self.warehouse is not None:
                await self.warehouse.close()

    def fetch_build(self) -> None:
        """The object store's current build into the local serving folder, if there is one."""
        if self.object_store is None:
            return
        try:
            fetch_current_build(self.object_store, self.config.serving_dir)
        except ObjectStoreError as error:
            log.warning("could not fetch the current build from the object store: %s", error)

    async def watch_bucket(self) -> None:
        """Fetch the bucket's current build every period; the cache loads it at once."""
        while True:
            await asyncio.sleep(self.config.bucket_poll_seconds)
            await asyncio.to_thread(self.fetch_build)
            if self.warehouse is None:
                await self.cache.refresh()

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
            "X-Data-Source": (
                f"{self.backend.name}; draft=serving/{generation.build_id};"
                f" edits={self.backend.edits_source}"
            ),
        }
