"""What ``GET /metrics`` serves, in the Prometheus text format.

- Requests: a count and a latency histogram per method, route template
  (``/v1/tenants/{tenant_id}/forecast``, never the tenant itself) and status,
  recorded by an ASGI middleware around the whole app. A path no route
  matches is counted under ``unmatched``.
- The forecast cache: its counters and gauges, read from ``CacheStats`` and
  the current generation at each scrape.
- Edits: the edits and removals committed (counted by the edits routes).
- Persistence to object storage, where the embedded store has it: uploads,
  upload failures, writes not yet uploaded, seconds since the last persist
  and whether this instance is fenced.

Each app has its own registry (``ApiMetrics.registry``); another part of
the server adds its own metrics by registering a collector there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forecast_hub.api.cache import ForecastCache

# Reads from memory take well under a millisecond; loads and big pages longer.
LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class CacheCollector(Collector):
    """The forecast cache's statistics, as they are at the scrape."""

    def __init__(self, cache: ForecastCache) -> None:
        self.cache = cache

    def collect(self) -> Iterator[Metric]:
        stats = self.cache.stats
        counters = (
            ("hits", "Draft look-ups answered from a tenant held in memory.", stats.hits),
            ("misses", "Draft look-ups that had to load the tenant.", stats.misses),
            (
                "negative_hits",
                "Look-ups of an unknown tenant or SKU, answered without a load.",
                stats.negative_hits,
            ),
            ("loads", "Tenants loaded into a generation.", stats.loads),
            ("load_failures", "Tenant loads that failed.", stats.load_failures),
            ("load_seconds", "Seconds spent loading tenants.", stats.load_seconds),
            ("evictions", "Tenants evicted to stay under the budget.", stats.evictions),
            ("evicted_bytes", "Bytes of the tenants evicted.", stats.evicted_bytes),
            ("reloads", "Generations swapped in.", stats.reloads),
            ("reload_failures", "Builds that could not be loaded.", stats.reload_failures),
        )
        for name, documentation, value in counters:
            yield CounterMetricFamily(f"forecast_hub_cache_{name}", documentation, value=value)
        generation = self.cache.generation
        rows = held_bytes = tenants = number = 0
        age = 0.0
        if generation is not None:
            rows, held_bytes = generation.rows, generation.nbytes
            tenants, number = len(generation.resident), generation.number
            age = generation.age_seconds
        gauges = (
            ("rows", "Draft rows held.", rows),
            ("bytes", "Bytes held (columns and indexes).", held_bytes),
            ("budget_bytes", "FORECAST_HUB_CACHE_MAX_MB in bytes.", self.cache.config.max_bytes),
            ("tenants_held", "Tenants whose rows are held.", tenants),
            ("generation", "Number of the generation served.", number),
            ("generation_age_seconds", "Seconds since the generation served was built.", age),
        )
        for name, documentation, value in gauges:
            yield GaugeMetricFamily(f"forecast_hub_cache_{name}", documentation, value=value)
        info = GaugeMetricFamily(
            "forecast_hub_cache_build_info",
            "The build and mode served (value 1).",
            labels=["build_id", "mode"],
        )
        if generation is not None:
            info.add_metric([generation.build_id, generation.mode], 1)
        yield info


class PersistenceCollector(Collector):
    """The embedded store's persistence to object storage, as it is at the scrape."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        persistence = getattr(self.store, "persistence", None)
        if persistence is None:
            return
        health = persistence.health()
        counters = (
            ("uploads", "Change objects and snapshots uploaded to object storage.", "uploads"),
            ("upload_failures", "Uploads to object storage that failed.", "upload_failures"),
        )
        for name, documentation, key in counters:
            yield CounterMetricFamily(
                f"forecast_hub_persistence_{name}", documentation, value=health[key]
            )
        seconds = health["seconds_since_last_persist"]
        gauges = (
            (
                "writes_pending",
                "Committed writes not yet in object storage.",
                health["writes_pending"],
            ),
            (
                "seconds_since_last_persist",
                "Seconds since the last upload to object storage (NaN before the first).",
                float("nan") if seconds is None else seconds,
            ),
            (
                "fenced",
                "1 when another instance writes to the object store and this one stopped.",
                1 if health["fenced"] else 0,
            ),
        )
        for name, documentation, value in gauges:
            yield GaugeMetricFamily(f"forecast_hub_persistence_{name}", documentation, value=value)


class ApiMetrics:
    """The app's registry: request metrics, edits committed, the cache's and the
    persistence's collectors."""

    def __init__(self, cache: ForecastCache, store: Any = None) -> None:
        self.registry = CollectorRegistry()
        labels = ("method", "route", "status")
        self.requests = Counter(
            "forecast_hub_http_requests",
            "HTTP requests answered, by method, route template and status.",
            labels,
            registry=self.registry,
        )
        self.latency = Histogram(
            "forecast_hub_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.edits = Counter(
            "forecast_hub_edits_committed",
            "Edits and removals committed, by kind (put or remove).",
            ("kind",),
            registry=self.registry,
        )
        self.registry.register(CacheCollector(cache))
        self.registry.register(PersistenceCollector(store))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestMetrics:
    """ASGI middleware: each HTTP request's method, route template, status and time."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", None)
            method = scope["method"]
            self.metrics.observe(
                method if method in METHODS else "other",
                route if isinstance(route, str) else UNMATCHED,
                status,
                time.perf_counter() - started,
            )
