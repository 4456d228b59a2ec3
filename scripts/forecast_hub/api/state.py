"""What every request shares: the tokens, the served draft and the edits store.

On the duckdb target reads come from the published draft (``snapshot.py``)
merged with the edits store the configuration chooses (``stores/``: the
embedded store's memory, or PostgreSQL). The state never opens the
warehouse file, so a dbt build can run at any time; a new published build
is picked up by polling the CURRENT pointer. With an object store, the
bucket's current build is fetched into the local serving folder first (a
warm start on an empty data folder), and again every
FORECAST_HUB_CACHE_RELOAD_SECONDS. On emulator and snowflake it holds no
draft: the warehouse answers (``stores/snowflake.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI

from forecast_hub.api.config import ApiConfig
from forecast_hub.api.errors import not_ready
from forecast_hub.api.page_data import PageDataCache
from forecast_hub.api.responses import iso_timestamp
from forecast_hub.api.snapshot import DraftSnapshot, current_build_id, load_snapshot
from forecast_hub.api.stores import EditsBackend, choose_backend, resolved
from forecast_hub.api.tokens import TokenRegistry
from forecast_hub.objectstore import ObjectStore, ObjectStoreError
from forecast_hub.objectstore.drafts import fetch_current_build

log = logging.getLogger("forecast_hub.api")


class ApiState:
    """Everything a request needs: tokens, the current draft, the edits store."""

    def __init__(self, config: ApiConfig) -> None:
        self.config = config
        self.tokens = TokenRegistry(config.tokens_file)
        self.backend = choose_backend(config)
        self.store: EditsBackend = self.backend.store
        self.warehouse = self.backend.warehouse
        self.object_store = ObjectStore(config.object_store) if config.object_store else None
        self.snapshot: DraftSnapshot | None = None
        self.snapshot_error: str | None = None
        self.page_data = PageDataCache(config.serving_dir)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        """Open the store and serve the current draft; on the way out, commit what is queued."""
        await asyncio.to_thread(self.fetch_build)
        await resolved(self.store.open())
        if self.warehouse is not None:
            await self.warehouse.open()
        else:
            self.refresh_snapshot()
        watchers = [asyncio.create_task(self.watch_snapshots())]
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
        while True:
            await asyncio.sleep(self.config.bucket_poll_seconds)
            await asyncio.to_thread(self.fetch_build)

    def require_snapshot(self) -> DraftSnapshot:
        if self.snapshot is None:
            raise not_ready(
                "no forecast draft has been published yet: run `dbt build` on this data folder"
            )
        return self.snapshot

    def refresh_snapshot(self) -> bool:
        """Load the build CURRENT points at, if it is not the one served; True if switched."""
        build_id = current_build_id(self.config.serving_dir)
        if build_id is None or (self.snapshot and self.snapshot.build_id == build_id):
            return False
        try:
            snapshot = load_snapshot(self.config.serving_dir, build_id)
        except (OSError, ValueError, KeyError) as error:
            self.snapshot_error = f"could not load build {build_id}: {error}"
            log.warning(self.snapshot_error)
            return False
        self.snapshot = snapshot
        self.snapshot_error = None
        log.info("serving forecast draft %s", build_id)
        return True

    async def watch_snapshots(self) -> None:
        while self.warehouse is None:
            await asyncio.sleep(self.config.snapshot_poll_seconds)
            build_id = current_build_id(self.config.serving_dir)
            if build_id and (self.snapshot is None or self.snapshot.build_id != build_id):
                await asyncio.to_thread(self.refresh_snapshot)

    def freshness_headers(self, snapshot: DraftSnapshot, tenant_id: str) -> dict[str, str]:
        edits_as_of = self.store.edits_as_of.get(tenant_id, self.store.opened_at)
        return {
            "X-Forecast-Built-At": iso_timestamp(snapshot.publication.built_at),
            "X-Edits-As-Of": iso_timestamp(edits_as_of),
            "X-Data-Source": (
                f"{self.backend.name}; draft=serving/{snapshot.build_id};"
                f" edits={self.backend.edits_source}"
            ),
        }
