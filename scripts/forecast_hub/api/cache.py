"""The hot forecast cache: generations of the published draft, a memory budget, statistics.

- **Generations.** The draft is held as a ``Generation`` (``generation.py``)
  that is never changed once served, except for tenants coming and going.
  A request takes ``current()`` once and answers from it; a reload builds
  the next generation in a worker thread while the old one serves, then
  swaps the one reference. No request waits for a reload or sees two builds.
- **Budget.** Before a build is loaded its size is estimated from the
  publication's row counts. Mode ``auto`` preloads the whole draft when the
  estimate fits ``FORECAST_HUB_CACHE_MAX_MB`` and loads tenants on demand
  otherwise; a tenant loaded on demand is read alone, once even when many
  requests ask at the same moment, and whole tenants are evicted, least
  recently used first, to stay under the budget. A reload loads again the
  tenants the old generation held, as far as the budget allows.
- **Negative answers.** Unknown tenants and SKUs are answered from the
  directory every generation holds, without loading anything.
- **Retention.** Each generation drops the periods that ended between the
  build's publication and today (``TenantRows.retained``).
- **Statistics.** Every request that reads the draft is one look-up: a hit
  (the tenant was held), a miss (it was loaded) or a negative hit (no such
  tenant or SKU); with loads, load seconds, evictions, reloads, rows and
  bytes held (``CacheStats``, served at ``/metrics`` and ``/healthz``).
"""

from __future__ import annotations

import asyncio
import ctypes
import datetime as dt
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from forecast_hub.api.errors import not_ready
from forecast_hub.api.generation import (
    BuildSource,
    Generation,
    LoadMode,
    estimate_build,
    row_bytes,
)
from forecast_hub.api.local_copy import LocalCopy, prune_copies
from forecast_hub.api.snapshot import current_build_id
from forecast_hub.api.tenant_rows import TenantRows

log = logging.getLogger("forecast_hub.api.cache")

CacheMode = Literal["auto", "preload", "on_demand"]
MIB = 1024 * 1024
# A build that could not be loaded is tried again after this long (or the
# reload period, if shorter); a newer build is tried at once.
RETRY_SECONDS = 30.0


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None  # not glibc
    return trim


_MALLOC_TRIM = _malloc_trim()


def return_freed_memory() -> None:
    """Give the memory a load freed back to the operating system: the blocks Arrow's
    pool kept from decoding, and the free pages of the C heap (glibc keeps them
    otherwise, and resident memory would drift above what the cache holds)."""
    pa.default_memory_pool().release_unused()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


@dataclass(frozen=True)
class CacheConfig:
    """Where the local copy lives, the budget, the mode and the reload period."""

    copy_dir: Path
    max_bytes: int = 512 * MIB
    mode: CacheMode = "auto"
    reload_seconds: float = 3600.0


@dataclass
class CacheStats:
    """Counters since the process started, Caffeine's set and a negative-hit count."""

    hits: int = 0
    misses: int = 0
    negative_hits: int = 0
    loads: int = 0
    load_failures: int = 0
    load_seconds: float = 0.0
    evictions: int = 0
    evicted_bytes: int = 0
    reloads: int = 0
    reload_failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str, amount: float = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    @property
    def hit_rate(self) -> float | None:
        """Look-ups answered without a load, of all look-ups; None before the first."""
        answered = self.hits + self.negative_hits
        total = answered + self.misses
        return answered / total if total else None


class DraftNeeded(Exception):
    """An edit names a known SKU of a tenant not held: its dates need the tenant's rows."""


class DirectoryView:
    """A tenant not held, as edits validation sees it: SKUs known, dates not yet."""

    def __init__(self, known: Any) -> None:
        self.known = known

    def knows_sku(self, sku_id: str) -> bool:
        return sku_id in self.known

    def has_date(self, sku_id: str, date: dt.date) -> bool:
        raise DraftNeeded(sku_id)


class UnknownTenant:
    """A tenant the build does not have: every SKU is unknown."""

    def knows_sku(self, sku_id: str) -> bool:
        return False

    def has_date(self, sku_id: str, date: dt.date) -> bool:
        return False


class ForecastCache:
    """The current generation of the published draft, loaded within a memory budget."""

    def __init__(
        self,
        serving_dir: Path,
        config: CacheConfig,
        today: Callable[[], dt.date] = utc_today,
    ) -> None:
        self.serving_dir = serving_dir
        self.config = config
        self.today = today
        self.stats = CacheStats()
        self.generation: Generation | None = None
        self.error: str | None = None
        self.failed_build: str | None = None
        self.failed_at = 0.0
        self.last_reload = time.monotonic()
        self._numbers = itertools.count(1)

    # -- choosing and building a generation ---------------------------------------

    def choose_mode(self, source: BuildSource) -> tuple[LoadMode, int]:
        """The mode for this build and the estimate it was chosen on; logged."""
        publication = source.publication
        estimate = estimate_build(source.tenants, publication.columns, "preload")
        mode: LoadMode
        if self.config.mode == "auto":
            mode = "preload" if estimate <= self.config.max_bytes else "on_demand"
        else:
            mode = self.config.mode
        log.info(
            "forecast cache: build %s, %d rows of %d SKUs in %d tenants, estimated %.1f MB"
            " (%d bytes a row) against a budget of %.1f MB (FORECAST_HUB_CACHE_MAX_MB),"
            " FORECAST_HUB_CACHE_MODE=%s: %s",
            publication.build_id,
            publication.draft_rows,
            publication.sku_rows,
            len(source.tenants),
            estimate / MIB,
            row_bytes(publication.columns),
            self.config.max_bytes / MIB,
            self.config.mode,
            mode,
        )
        if mode == "preload" and estimate > self.config.max_bytes:
            log.warning("forecast cache: preloading a draft estimated above the budget")
        return mode, estimate

    def _load(self, generation: Generation, tenant_id: str) -> TenantRows:
        """Read one tenant into ``generation`` (any thread); counted as a load."""
        started = time.perf_counter()
        try:
            rows = generation.read_tenant(tenant_id)
            return_freed_memory()
        except Exception:
            self.stats.count("load_failures")
            raise
        finally:
            self.stats.count("load_seconds", time.perf_counter() - started)
        self.stats.count("loads")
        return rows

    def build(self, build_id: str, hot: Sequence[str] = ()) -> Generation:
        """The next generation of ``build_id`` (any thread; nothing is swapped here).

        ``hot`` are tenants to load into an on-demand generation, most wanted
        first, while the budget allows.
        """
        source = BuildSource(self.serving_dir / build_id)
        mode, _ = self.choose_mode(source)
        published = source.publication.published_at.date()
        generation = Generation(
            next(self._numbers),
            source,
            LocalCopy(self.config.copy_dir / build_id),
            mode,
            max(self.today(), published),
            source.read_known(),
        )
        if mode == "preload":
            for tenant_id in sorted(source.tenants):
                generation.hold(tenant_id, self._load(generation, tenant_id))
        else:
            for tenant_id in hot:
                if tenant_id not in generation.directory:
                    continue
                incoming = generation.estimate(tenant_id)
                if generation.nbytes + incoming <= self.config.max_bytes:
                    generation.hold(tenant_id, self._load(generation, tenant_id))
            for tenant_id in reversed(list(generation.resident)):
                generation.resident.move_to_end(tenant_id)
        return generation

    def install(self, generation: Generation) -> None:
        """Serve ``generation`` from now on; the old one lives while requests hold it."""
        if self.generation is not None:
            self.generation.retired = True
        self.generation = generation
        self.error = None
        self.failed_build = None
        self.stats.count("reloads")
        prune_copies(self.config.copy_dir, keep={generation.build_id})
        log.info(
            "forecast cache: serving build %s as generation %d (%s, %d rows, %.1f MB)",
            generation.build_id,
            generation.number,
            generation.mode,
            generation.rows,
            generation.nbytes / MIB,
        )

    def wanted(self) -> str | None:
        """The build to load next, or None: a new pointer, or the reload period passed."""
        build_id = current_build_id(self.serving_dir)
        if build_id is None:
            return None
        current = self.generation
        now = time.monotonic()
        elapsed = now - self.last_reload >= self.config.reload_seconds
        if current is None or current.build_id != build_id:
            retry = min(RETRY_SECONDS, self.config.reload_seconds)
            if build_id == self.failed_build and now - self.failed_at < retry:
                return None
            return build_id
        if elapsed and max(self.today(), current.publication.published_at.date()) > current.cutoff:
            return build_id
        if elapsed:
            self.last_reload = time.monotonic()
        return None

    def _failed(self, build_id: str, error: BaseException) -> None:
        self.error = f"could not load build {build_id}: {error}"
        self.failed_build = build_id
        self.failed_at = time.monotonic()
        self.stats.count("reload_failures")
        log.warning("forecast cache: %s", self.error)

    def _hot(self) -> list[str]:
        current = self.generation
        return [] if current is None else list(reversed(current.resident))

    def refresh_now(self) -> bool:
        """Load and serve the wanted build in this thread; True if one was swapped in."""
        build_id = self.wanted()
        if build_id is None:
            return False
        self.last_reload = time.monotonic()
        try:
            generation = self.build(build_id, self._hot())
        except (OSError, ValueError, KeyError) as error:
            self._failed(build_id, error)
            return False
        self.install(generation)
        return True

    async def refresh(self) -> bool:
        """``refresh_now`` with the build in a worker thread; the swap on the loop."""
        build_id = self.wanted()
        if build_id is None:
            return False
        self.last_reload = time.monotonic()
        try:
            generation = await asyncio.to_thread(self.build, build_id, self._hot())
        except (OSError, ValueError, KeyError) as error:
            self._failed(build_id, error)
            return False
        self.install(generation)
        return True

    # -- reading ------------------------------------------------------------------

    def current(self) -> Generation:
        """The generation a request answers from; 503 when none is loaded."""
        generation = self.generation
        if generation is None:
            raise not_ready(
                self.error
                or "no forecast draft has been published yet: run `dbt build` on this data folder"
            )
        return generation

    def held(self, generation: Generation, tenant_id: str) -> TenantRows | None:
        """The tenant's rows if held (a hit, and it becomes the most recently used)."""
        rows = generation.resident.get(tenant_id)
        if rows is not None:
            generation.resident.move_to_end(tenant_id)
            self.stats.count("hits")
        return rows

    def knows(self, generation: Generation, tenant_id: str, sku_ids: list[str] | None) -> bool:
        """Whether the build has the tenant (and one of ``sku_ids``); if not, a negative hit."""
        known = generation.directory.get(tenant_id)
        if known is None or (sku_ids is not None and not any(sku in known for sku in sku_ids)):
            self.stats.count("negative_hits")
            return False
        return True

    async def tenant(
        self, generation: Generation, tenant_id: str, sku_ids: list[str] | None = None
    ) -> TenantRows | None:
        """The tenant's rows, loaded if need be; None when the build has none to show."""
        if not self.knows(generation, tenant_id, sku_ids):
            return None
        rows = self.held(generation, tenant_id)
        if rows is not None:
            return rows
        self.stats.count("misses")
        task = generation.loading.get(tenant_id)
        if task is None:
            task = asyncio.create_task(self._load_and_hold(generation, tenant_id))
            generation.loading[tenant_id] = task
        try:
            return await asyncio.shield(task)
        except (OSError, ValueError, KeyError) as error:
            raise not_ready(f"could not load the forecast draft: {error}") from None

    def edit_view(
        self, generation: Generation, tenant_id: str
    ) -> TenantRows | DirectoryView | UnknownTenant:
        """What edits are checked against without a load: the rows if held, else the
        directory (whose ``has_date`` raises ``DraftNeeded``)."""
        rows = self.held(generation, tenant_id)
        if rows is not None:
            return rows
        known = generation.directory.get(tenant_id)
        if known is None:
            self.stats.count("negative_hits")
            return UnknownTenant()
        return DirectoryView(known)

    def tenant_now(self, generation: Generation, tenant_id: str) -> TenantRows | None:
        """``tenant`` in this thread, without the event loop (tools and benchmarks)."""
        if not self.knows(generation, tenant_id, None):
            return None
        rows = self.held(generation, tenant_id)
        if rows is None:
            self.stats.count("misses")
            self._make_room(generation, generation.estimate(tenant_id), keep=None)
            rows = self._load(generation, tenant_id)
            self._admit(generation, tenant_id, rows)
        return rows

    async def _load_and_hold(self, generation: Generation, tenant_id: str) -> TenantRows:
        try:
            self._make_room(generation, generation.estimate(tenant_id), keep=None)
            rows = await asyncio.to_thread(self._load, generation, tenant_id)
        finally:
            generation.loading.pop(tenant_id, None)
        self._admit(generation, tenant_id, rows)
        return rows

    def _admit(self, generation: Generation, tenant_id: str, rows: TenantRows) -> None:
        generation.hold(tenant_id, rows)
        self._make_room(generation, 0, keep=tenant_id)

    def _make_room(self, generation: Generation, incoming: int, keep: str | None) -> None:
        """Evict least recently used tenants until ``incoming`` more bytes fit."""
        evicted = False
        while generation.nbytes + incoming > self.config.max_bytes:
            victim = next((name for name in generation.resident if name != keep), None)
            if victim is None:
                break
            rows = generation.resident.pop(victim)
            self.stats.count("evictions")
            self.stats.count("evicted_bytes", rows.nbytes)
            evicted = True
        if evicted:
            return_freed_memory()

    # -- reporting ----------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The cache's part of /healthz."""
        generation = self.generation
        hit_rate = self.stats.hit_rate
        return {
            "mode": None if generation is None else generation.mode,
            "generation": None if generation is None else generation.number,
            "build_id": None if generation is None else generation.build_id,
            "tenants_held": 0 if generation is None else len(generation.resident),
            "rows": 0 if generation is None else generation.rows,
            "bytes": 0 if generation is None else generation.nbytes,
            "budget_bytes": self.config.max_bytes,
            "hit_rate": None if hit_rate is None else round(hit_rate, 4),
            "error": self.error,
        }
