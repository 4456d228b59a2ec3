"""The forecast cache: columns that answer like the draft, a budget, negative answers, retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from forecast_hub.api import ApiConfig, create_app
from forecast_hub.api.cache import MIB, CacheConfig, ForecastCache
from forecast_hub.api.errors import ApiError
from forecast_hub.api.generation import DIRECTORY_BYTES, estimate_bytes
from forecast_hub.api.snapshot import (
    DRAFT_FILE,
    PUBLICATION_FILE,
    Publication,
    publish_snapshot,
    read_publication,
)
from forecast_hub.api.tenant_rows import encode_tenant
from forecast_hub.api.tokens import add_token

BUILT_AT = dt.datetime(2025, 3, 1, 6, 0)
FIRST = dt.date(2025, 3, 3)
TENANTS = {f"tenant-{t}": [f"s-{t}-{k:03d}" for k in range(30)] for t in range(4)}


def _draft(
    tenants: dict[str, list[str]] = TENANTS,
    dates: list[dt.date] | None = None,
    interval: bool = True,
) -> tuple[pa.Table, pa.Table]:
    """Every SKU of every tenant over ``dates``; the qty says tenant, SKU and step."""
    dates = dates or [FIRST + dt.timedelta(days=k) for k in range(40)]
    rows = [
        (tenant, sku, date, step + 1, 1000.0 * t + k + step / 100)
        for t, (tenant, skus) in enumerate(tenants.items())
        for k, sku in enumerate(skus)
        for step, date in enumerate(dates)
    ]
    columns: dict[str, pa.Array | list[object]] = {
        "tenant_id": [r[0] for r in rows],
        "sku_id": [r[1] for r in rows],
        "forecast_date": pa.array([r[2] for r in rows], pa.date32()),
        "step": pa.array([r[3] for r in rows], pa.int32()),
        "draft_qty": [r[4] for r in rows],
        "method": ["top3_median"] * len(rows),
        "built_at": [BUILT_AT] * len(rows),
    }
    if interval:
        columns["lower_qty"] = [r[4] - 1 for r in rows]
        columns["upper_qty"] = [r[4] + 1 for r in rows]
        columns["members"] = ["ses,naive,tsb"] * len(rows)
    known = [(tenant, sku) for tenant, skus in tenants.items() for sku in [*skus, "gone"]]
    skus = pa.table(
        {
            "tenant_id": [tenant for tenant, _ in known],
            "sku_id": [sku for _, sku in known],
            "is_active": [sku != "gone" for _, sku in known],
            "discontinued_date": pa.nulls(len(known), pa.date32()),
        }
    )
    return pa.table(columns), skus


def _publish(data_dir: Path, **kwargs: object) -> Publication:
    draft, skus = _draft(**kwargs)  # type: ignore[arg-type]
    return publish_snapshot(data_dir / "serving", draft, skus)


def _cache(data_dir: Path, **config: object) -> ForecastCache:
    settings = CacheConfig(copy_dir=data_dir / "cache", **config)  # type: ignore[arg-type]
    return ForecastCache(data_dir / "serving", settings)


class Served:
    """The app over a data folder, in-process, with a token per tenant."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens
        self.cache: ForecastCache = client.app.state.api.cache  # type: ignore[attr-defined]

    def forecast(self, tenant: str, **params: object) -> list[dict[str, object]]:
        response = self.client.get(
            f"/v1/tenants/{tenant}/forecast",
            params={"limit": 10_000, **params},
            headers={"Authorization": f"Bearer {self.tokens[tenant]}"},
        )
        assert response.status_code == 200, response.text
        rows: list[dict[str, object]] = response.json()["rows"]
        return rows

    def edit(self, tenant: str, sku: str, date: dt.date) -> tuple[int, dict[str, object]]:
        body = {"edits": [{"sku_id": sku, "forecast_date": date.isoformat(), "qty": 5}]}
        response = self.client.put(
            f"/v1/tenants/{tenant}/edits",
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[tenant]}"},
        )
        return response.status_code, response.json()


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    """On demand, with a budget of the directory and one and a half tenants."""
    publication = _publish(tmp_path)
    assert publication.tenants is not None
    tenant = max(estimate_bytes(p, publication.columns) for p in publication.tenants.values())
    budget = publication.sku_rows * DIRECTORY_BYTES + tenant * 3 // 2
    tokens_file = tmp_path / "api" / "tokens.json"
    tokens = {name: add_token(tokens_file, name, "ann") for name in [*TENANTS, "acme"]}
    config = ApiConfig(
        edits_store=tmp_path / "edits" / "edits.sqlite",
        serving_dir=tmp_path / "serving",
        tokens_file=tokens_file,
        cache_config=CacheConfig(tmp_path / "cache", max_bytes=budget, mode="on_demand"),
    )
    with TestClient(create_app(config)) as client:
        yield Served(client, tokens)


def _expected(tenant: str) -> list[tuple[str, str, float, float, float]]:
    draft, _ = _draft()
    rows = draft.filter(pa.compute.equal(draft["tenant_id"], tenant)).to_pylist()
    return sorted(
        (
            r["sku_id"],
            r["forecast_date"].isoformat(),
            r["draft_qty"],
            r["lower_qty"],
            r["upper_qty"],
        )
        for r in rows
    )


def test_under_a_budget_smaller_than_the_draft_every_tenant_is_served_on_demand(
    served: Served,
) -> None:
    cache = served.cache
    assert cache.current().mode == "on_demand"
    for tenant in [*TENANTS, *reversed(TENANTS), *TENANTS]:
        rows = served.forecast(tenant)
        got = [
            (r["sku_id"], r["forecast_date"], r["draft_qty"], r["lower_qty"], r["upper_qty"])
            for r in rows
        ]
        assert got == _expected(tenant)
        assert cache.current().nbytes <= cache.config.max_bytes
    stats = cache.stats
    assert stats.evictions >= 8
    assert stats.loads == stats.misses
    assert stats.hits >= 2  # the turn at each end finds its tenant still held
    assert len(cache.current().resident) == 1
    health = served.client.get("/healthz").json()["cache"]
    assert health["mode"] == "on_demand" and health["rows"] == 30 * 40
    assert health["bytes"] <= health["budget_bytes"]


def test_unknown_tenants_and_skus_are_answered_without_a_load(served: Served) -> None:
    stats = served.cache.stats
    assert served.forecast("tenant-1", sku_id="nope") == []
    assert served.forecast("tenant-1", sku_id=["nope", "nada"]) == []
    assert served.forecast("acme") == []
    status, body = served.edit("tenant-1", "nope", FIRST)
    assert status == 422
    assert body["error"]["details"][0]["problems"][0]["code"] == "unknown_sku"
    status, _ = served.edit("acme", "s-1-001", FIRST)
    assert status == 422
    assert (stats.loads, stats.negative_hits) == (0, 5)

    status, body = served.edit("tenant-1", "gone", FIRST)
    assert status == 422  # a known SKU without a draft: its dates need the tenant
    assert body["error"]["details"][0]["problems"][0]["code"] == "not_in_horizon"
    assert stats.loads == 1
    assert served.edit("tenant-1", "s-1-001", FIRST)[0] == 200
    row = served.forecast("tenant-1", sku_id="s-1-001")[0]
    assert (row["manual_qty"], row["draft_qty"]) == (5.0, 1001.0)
    assert stats.loads == 1


def test_concurrent_first_requests_load_a_tenant_once(tmp_path: Path) -> None:
    _publish(tmp_path)
    cache = _cache(tmp_path, mode="on_demand")
    assert cache.refresh_now()
    generation = cache.current()

    async def ask() -> list[object]:
        return list(
            await asyncio.gather(*(cache.tenant(generation, "tenant-2") for _ in range(20)))
        )

    answers = asyncio.run(ask())
    assert len({id(answer) for answer in answers}) == 1
    assert (cache.stats.loads, cache.stats.misses) == (1, 20)


def test_auto_preloads_what_fits_and_loads_on_demand_what_does_not(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _publish(tmp_path)
    roomy = _cache(tmp_path, max_bytes=64 * MIB)
    with caplog.at_level(logging.INFO, "forecast_hub.api.cache"):
        assert roomy.refresh_now()
    generation = roomy.current()
    assert generation.mode == "preload"
    assert sorted(generation.resident) == sorted(TENANTS)
    assert roomy.stats.loads == 4
    decision = next(r.getMessage() for r in caplog.records if "estimated" in r.getMessage())
    assert "4800 rows" in decision and "in 4 tenants" in decision
    assert "FORECAST_HUB_CACHE_MODE=auto: preload" in decision

    tight = _cache(tmp_path, max_bytes=generation.nbytes // 2)
    assert tight.refresh_now()
    assert tight.current().mode == "on_demand" and not tight.current().resident
    assert tight.stats.loads == 0


def test_a_warm_start_maps_the_local_copy_without_the_parquet(tmp_path: Path) -> None:
    publication = _publish(tmp_path)
    first = _cache(tmp_path, mode="preload")
    assert first.refresh_now()
    before = first.current().resident["tenant-3"].series("s-3-007")
    (tmp_path / "serving" / publication.build_id / DRAFT_FILE).write_bytes(b"not parquet")
    warm = _cache(tmp_path, mode="preload")
    assert warm.refresh_now()
    assert warm.current().resident["tenant-3"].series("s-3-007") == before


def test_a_build_that_cannot_be_loaded_leaves_the_last_one_served(tmp_path: Path) -> None:
    _publish(tmp_path)
    cache = _cache(tmp_path)
    assert cache.refresh_now()
    served = cache.current()
    broken = _publish(tmp_path)
    (tmp_path / "serving" / broken.build_id / DRAFT_FILE).write_bytes(b"not parquet")
    assert not cache.refresh_now()
    assert cache.current() is served
    assert cache.error is not None and broken.build_id in cache.error
    assert cache.stats.reload_failures == 1
    assert not cache.refresh_now()  # not tried again at once
    assert cache.stats.reload_failures == 1

    empty = _cache(tmp_path / "elsewhere")
    with pytest.raises(ApiError) as caught:
        empty.current()
    assert caught.value.status == 503


def _month_start(date: dt.date, later: int) -> dt.date:
    index = date.year * 12 + date.month - 1 + later
    return dt.date(index // 12, index % 12 + 1, 1)


def test_retention_drops_the_periods_that_ended_since_publication(tmp_path: Path) -> None:
    published = dt.datetime.now(dt.UTC).date()
    days = [published - dt.timedelta(days=3) + dt.timedelta(days=k) for k in range(10)]
    weeks = [published + dt.timedelta(weeks=k) for k in range(4)]
    months = [_month_start(published, k) for k in range(3)]
    draft = pa.concat_tables(
        [
            _draft({"daily": ["d"]}, days)[0],
            _draft({"weekly": ["w"]}, weeks)[0],
            _draft({"monthly": ["m"]}, months)[0],
        ]
    )
    names = (("daily", "d"), ("weekly", "w"), ("monthly", "m"))
    skus = pa.concat_tables([_draft({name: [sku]})[1] for name, sku in names])
    publish_snapshot(tmp_path / "serving", draft, skus)
    today = [published]
    cache = ForecastCache(
        tmp_path / "serving",
        CacheConfig(tmp_path / "cache", mode="preload", reload_seconds=0.0),
        today=lambda: today[0],
    )
    assert cache.refresh_now()

    def dates(tenant: str, sku: str) -> list[dt.date]:
        series = cache.current().resident[tenant].series(sku)
        return [] if series is None else list(series.dates)

    # Periods that had ended before the build was published are served as published.
    assert dates("daily", "d") == days
    assert not cache.refresh_now()  # the same day: nothing to drop, no new generation

    today[0] = published + dt.timedelta(days=8)
    assert cache.refresh_now()
    assert cache.current().number == 2
    assert dates("daily", "d") == days[:3]
    assert dates("weekly", "w") == weeks[1:]
    assert dates("monthly", "m") == (months if today[0] < months[1] else months[1:])

    today[0] = months[1] + dt.timedelta(days=40)
    assert cache.refresh_now()
    assert dates("monthly", "m") == [m for m in months if m > months[1]]
    assert dates("weekly", "w") == []
    assert cache.current().resident["weekly"].knows_sku("w")


def test_a_build_published_before_tenants_were_recorded_loads_on_demand(tmp_path: Path) -> None:
    publication = _publish(tmp_path, interval=False)
    path = tmp_path / "serving" / publication.build_id / PUBLICATION_FILE
    legacy = {k: v for k, v in publication.to_json().items() if k not in ("tenants", "columns")}
    path.write_text(json.dumps(legacy), "utf-8")
    assert read_publication(path.parent).tenants is None
    cache = _cache(tmp_path, mode="on_demand")
    assert cache.refresh_now()
    rows = cache.tenant_now(cache.current(), "tenant-2")
    assert rows is not None and rows.rows == 30 * 40
    series = rows.series("s-2-004")
    assert series is not None and series.draft_qty[0] == 2004.0 and series.lower_qty is None


def test_columns_answer_every_window_and_point_like_the_rows(tmp_path: Path) -> None:
    """Random series (dates before 1970 among them; daily, weekly, monthly and
    unevenly spaced) against a plain reading of the rows."""
    rng = random.Random(7)
    rows = []
    for sku in rng.sample(range(1000), 60):
        start = dt.date(1969, 12, 1) + dt.timedelta(days=rng.randrange(-400, 400))
        spacing = rng.choice(["1", "7", "month", "uneven"])
        dates = [start]
        for _ in range(rng.randrange(0, 29)):
            last = dates[-1]
            if spacing == "month":
                dates.append(dt.date(last.year + last.month // 12, last.month % 12 + 1, 1))
            elif spacing == "uneven":
                dates.append(last + dt.timedelta(days=rng.randrange(1, 40)))
            else:
                dates.append(last + dt.timedelta(days=int(spacing)))
        for k, date in enumerate(dates):
            rows.append((f"k{sku:04d}", date, k + 1, rng.random()))
    rng.shuffle(rows)
    table = pa.table(
        {
            "sku_id": [r[0] for r in rows],
            "forecast_date": pa.array([r[1] for r in rows], pa.date32()),
            "step": pa.array([r[2] for r in rows], pa.int32()),
            "draft_qty": [r[3] for r in rows],
            "method": ["ses"] * len(rows),
            "built_at": [BUILT_AT] * len(rows),
        }
    )
    tenant = encode_tenant("t", table, {"nothing"})
    by_sku: dict[str, list[tuple[dt.date, int, float]]] = {}
    for sku, date, step, qty in sorted(rows):
        by_sku.setdefault(sku, []).append((date, step, qty))
    assert tenant.sku_order == sorted(by_sku)
    assert tenant.knows_sku("nothing") and tenant.series("nothing") is None
    for sku, expected in by_sku.items():
        low, high = sorted(rng.sample([d for d, _, _ in expected] + [expected[0][0]], 2))
        window = [e for e in expected if low <= e[0] <= high]
        series = tenant.series(sku, low, high, limit=len(window) + 1)
        assert series is not None
        assert list(zip(series.dates, series.steps, series.draft_qty, strict=True)) == window
        limited = tenant.series(sku, limit=3)
        assert limited is not None and list(limited.dates) == [e[0] for e in expected[:3]]
        for date, _, qty in expected:
            index = tenant.row_of(sku, date)
            assert index is not None and tenant.draft_qty[index] == qty
            assert tenant.draft_qty_of(sku, date) == qty
        span = tenant.rows_of(sku, low, high)
        assert tenant.draft_qty[span.start : span.stop].tolist() == [e[2] for e in window]
        assert not tenant.has_date(sku, expected[-1][0] + dt.timedelta(days=1))
        assert tenant.draft_qty_of(sku, expected[-1][0] + dt.timedelta(days=1)) is None
    assert tenant.rows_of("nothing") == range(0)
