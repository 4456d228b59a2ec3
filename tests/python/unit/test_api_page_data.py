"""The page's tables of a published build, as the /skus, /history and /accuracy routes read them."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from forecast_hub.api import snapshot
from forecast_hub.api.edits import StoredEdit
from forecast_hub.api.errors import ApiError
from forecast_hub.api.page_data import PageDataCache, PublishedPageData, edit_counts
from forecast_hub.api.snapshot import publish_snapshot
from published import history_qty, page_tables, sku_name

FIRST = dt.date(2025, 3, 3)
HORIZON = [FIRST + dt.timedelta(days=k) for k in range(14)]
SKUS = {"t1": ["a-01", "a-02", "b-03", "B-04", "c-05"], "t2": ["a-01"]}


def _draft() -> pa.Table:
    rows = [
        (tenant, sku, date, step + 1, float(step), index % 2 == 0)
        for tenant, skus in SKUS.items()
        for index, sku in enumerate(skus)
        for step, date in enumerate(HORIZON)
    ]
    combined = [r[5] for r in rows]
    return pa.table(
        {
            "tenant_id": [r[0] for r in rows],
            "sku_id": [r[1] for r in rows],
            "forecast_date": [r[2] for r in rows],
            "step": pa.array([r[3] for r in rows], pa.int32()),
            "draft_qty": [r[4] for r in rows],
            "lower_qty": [r[4] - 1 if c else None for r, c in zip(rows, combined, strict=True)],
            "upper_qty": [r[4] + 1 if c else None for r, c in zip(rows, combined, strict=True)],
            "method": ["top3_median" if c else "short_history_mean" for c in combined],
            "members": ["ses,naive,tsb" if c else None for c in combined],
            "built_at": [dt.datetime(2025, 3, 1, 6)] * len(rows),
        }
    )


def _skus() -> pa.Table:
    keys = [(t, s) for t, skus in SKUS.items() for s in skus] + [("t1", "z-gone")]
    return pa.table(
        {
            "tenant_id": [t for t, _ in keys],
            "sku_id": [s for _, s in keys],
            "is_active": [s != "z-gone" for _, s in keys],
            "discontinued_date": pa.array([None] * len(keys), pa.date32()),
        }
    )


@pytest.fixture
def published(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PublishedPageData:
    # Small row groups, so a series' history spans two of them.
    monkeypatch.setattr(snapshot, "PAGE_ROW_GROUP_ROWS", 25)
    draft = _draft()
    tables = page_tables(draft, history_periods=40, extra_skus=[("t1", "z-gone")])
    publication = publish_snapshot(tmp_path, draft, _skus(), page_tables=tables)
    return PublishedPageData(tmp_path, publication.build_id)


def test_the_search_matches_id_or_name_in_any_case_and_pages_by_id(
    published: PublishedPageData,
) -> None:
    def ids(**query) -> list[str]:
        arguments = {"text": None, "category": None, "after": None, "limit": 100, **query}
        return [sku.sku_id for sku in published.find_skus("t1", **arguments)]

    assert ids() == ["B-04", "a-01", "a-02", "b-03", "c-05"], "drafted SKUs only, in id order"
    assert ids(text="b-0") == ["B-04", "b-03"]
    assert ids(text=sku_name("a-02").lower()) == ["a-02"]
    assert ids(category="Bakery") == ["a-01", "c-05"]
    assert ids(limit=2) == ["B-04", "a-01"]
    assert ids(after="a-01", limit=2) == ["a-02", "b-03"]
    assert ids(after="c-05") == []
    assert published.find_skus("nobody", None, None, None, 10) == []
    assert published.categories("t1") == ["Bakery", "Dairy", "Produce"]
    assert published.hot_attributes() == ("color",)


def test_a_listed_sku_carries_its_method_members_and_wape(published: PublishedPageData) -> None:
    combined, short = published.find_skus("t1", "a-0", None, None, 2)
    assert combined.to_json(3) == {
        "sku_id": "a-01",
        "sku_name": sku_name("a-01"),
        "category": "Bakery",
        "color": "blue",
        "method": "top3_median",
        "members": ["ses", "naive", "tsb"],
        "wape": pytest.approx(0.25 + 0.01 * 1 + 0.05),
        "edit_count": 3,
    }
    assert (short.method, short.members, short.wape) == ("short_history_mean", None, None)
    assert (combined.first_forecast_date, combined.last_forecast_date) == (HORIZON[0], HORIZON[-1])


def test_history_is_one_series_in_date_order_across_row_groups(
    published: PublishedPageData,
) -> None:
    rows = published.history("t1", "a-02", None, None, 1000)
    assert [row.period_date for row in rows] == [
        FIRST - dt.timedelta(days=40 - period) for period in range(40)
    ]
    index = ["B-04", "a-01", "a-02", "b-03", "c-05"].index("a-02")
    assert [row.qty for row in rows] == [history_qty(index, period) for period in range(40)]
    window = published.history("t1", "a-02", rows[5].period_date, rows[9].period_date, 1000)
    assert window == rows[5:10]
    assert published.history("t1", "a-02", rows[5].period_date, None, 3) == rows[5:8]
    assert published.history("t2", "a-01", None, None, 1000)[0].qty == history_qty(0, 0)
    assert published.history("t1", "z-gone", None, None, 10) == []
    assert published.is_known("t1", "z-gone") and not published.is_known("t2", "z-gone")


def test_accuracy_lists_the_combination_first_then_the_methods_by_rank(
    published: PublishedPageData,
) -> None:
    series = published.series_accuracy("t1", "a-01")
    assert [(r["method"], r["method_rank"], r["is_member"]) for r in series] == [
        ("top3_median", None, False),
        ("naive", 1, True),
        ("ses", 2, True),
        ("tsb", 3, False),
    ]
    assert "tenant_id" not in series[0] and "sku_id" not in series[0]
    tenant = published.tenant_accuracy("t1")
    assert [r["method"] for r in tenant] == ["top3_median", "naive", "ses", "tsb"]
    assert (tenant[0]["interval_coverage"], tenant[0]["interval_level"]) == (0.79, 0.8)
    assert "absolute_error_total" not in tenant[0]
    assert published.grain("t1") == "day" and published.grain("nobody") is None


def test_edit_counts_are_live_edits_inside_the_horizon(published: PublishedPageData) -> None:
    def edit(removed: bool = False) -> StoredEdit:
        at = dt.datetime(2025, 3, 2, tzinfo=dt.UTC)
        return StoredEdit(None if removed else 1.0, None, "ann", at, 1, removed)

    edits = {
        ("a-01", HORIZON[0]): edit(),
        ("a-01", HORIZON[-1]): edit(),
        ("a-01", HORIZON[3]): edit(removed=True),
        ("a-01", HORIZON[-1] + dt.timedelta(days=1)): edit(),
        ("a-02", HORIZON[2]): edit(),
        ("z-gone", HORIZON[2]): edit(),
    }
    listed = published.find_skus("t1", "a-0", None, None, 10)
    assert edit_counts(edits, listed) == {"a-01": 2, "a-02": 1}


def test_a_build_without_the_page_tables_is_not_ready(tmp_path: Path) -> None:
    publication = publish_snapshot(tmp_path, _draft(), _skus())
    reads = PublishedPageData(tmp_path, publication.build_id)
    assert set(reads.missing) == set(snapshot.PAGE_TABLES)
    with pytest.raises(ApiError) as raised:
        asyncio.run(PageDataCache(tmp_path).for_build(publication.build_id))
    assert raised.value.status == 503
    assert "run `dbt build`" in raised.value.message


def test_the_cache_loads_each_build_once(tmp_path: Path) -> None:
    draft = _draft()
    first = publish_snapshot(tmp_path, draft, _skus(), page_tables=page_tables(draft))
    cache = PageDataCache(tmp_path)

    async def both() -> tuple[object, object, object]:
        one = await cache.for_build(first.build_id)
        again = await cache.for_build(first.build_id)
        second = publish_snapshot(tmp_path, draft, _skus(), page_tables=page_tables(draft))
        return one, again, await cache.for_build(second.build_id)

    one, again, other = asyncio.run(both())
    assert one is again and other is not one
