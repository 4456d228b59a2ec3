"""Published drafts: written aside, switched atomically, old ones pruned, tenants apart."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from forecast_hub.api.cache import CacheConfig, ForecastCache
from forecast_hub.api.snapshot import (
    DRAFT_FILE,
    KEEP_BUILDS,
    POINTER,
    SKUS_FILE,
    current_build_id,
    open_page_table,
    publish_snapshot,
    read_publication,
)
from forecast_hub.api.tenant_rows import TenantRows

BUILT_AT = dt.datetime(2025, 3, 1, 6, 0)


def _draft(qty: float) -> pa.Table:
    rows = [
        ("t1", "b", dt.date(2025, 3, 10), 2),
        ("t1", "a", dt.date(2025, 3, 10), 2),
        ("t1", "a", dt.date(2025, 3, 3), 1),
        ("t2", "a", dt.date(2025, 3, 3), 1),
    ]
    return pa.table(
        {
            "tenant_id": [r[0] for r in rows],
            "sku_id": [r[1] for r in rows],
            "forecast_date": [r[2] for r in rows],
            "step": pa.array([r[3] for r in rows], pa.int32()),
            "draft_qty": [qty] * len(rows),
            "method": ["naive"] * len(rows),
            "built_at": [BUILT_AT] * len(rows),
            "extra": [0] * len(rows),
        }
    )


def _skus() -> pa.Table:
    return pa.table(
        {
            "tenant_id": ["t1", "t1", "t1", "t2"],
            "sku_id": ["a", "b", "inactive", "a"],
            "is_active": [True, True, False, True],
            "discontinued_date": pa.array([None] * 4, pa.date32()),
        }
    )


def _tenant(serving_dir: Path, tenant_id: str) -> TenantRows | None:
    """The tenant as the API's cache loads it from the current build."""
    cache = ForecastCache(serving_dir, CacheConfig(copy_dir=serving_dir.parent / "cache"))
    assert cache.refresh_now()
    return cache.tenant_now(cache.current(), tenant_id)


def test_a_published_build_loads_indexed_by_tenant_and_sku(tmp_path: Path) -> None:
    serving = tmp_path / "serving"
    publication = publish_snapshot(serving, _draft(3.0), _skus())
    assert current_build_id(serving) == publication.build_id
    assert not any(path.name.startswith(".") for path in serving.iterdir())
    assert publication.built_at == BUILT_AT.replace(tzinfo=dt.UTC)
    t1 = _tenant(serving, "t1")
    assert t1 is not None
    assert t1.sku_order == ["a", "b"]
    assert set(t1.codes) == {"a", "b", "inactive"}
    series = t1.series("a")
    assert series is not None
    assert series.dates == [dt.date(2025, 3, 3), dt.date(2025, 3, 10)]
    assert list(series.steps) == [1, 2]
    t2 = _tenant(serving, "t2")
    assert t2 is not None and t2.sku_order == ["a"]
    assert _tenant(serving, "nobody") is None


def test_each_tenant_has_its_own_row_groups_and_counts(tmp_path: Path) -> None:
    publication = publish_snapshot(tmp_path, _draft(3.0), _skus())
    folder = tmp_path / publication.build_id
    assert read_publication(folder) == publication
    assert publication.tenants is not None
    draft = pq.ParquetFile(folder / DRAFT_FILE)
    for tenant_id, expected_rows, expected_series, expected_skus in (
        ("t1", 3, 2, 3),
        ("t2", 1, 1, 1),
    ):
        part = publication.tenants[tenant_id]
        assert (part.draft_rows, part.series, part.skus) == (
            expected_rows,
            expected_series,
            expected_skus,
        )
        rows = draft.read_row_groups(list(part.row_groups))
        assert set(rows["tenant_id"].to_pylist()) == {tenant_id}
        assert rows.num_rows == expected_rows
    assert "extra" not in publication.columns


def test_the_pointer_only_ever_names_a_complete_build(tmp_path: Path) -> None:
    builds = [publish_snapshot(tmp_path / "serving", _draft(float(n)), _skus()) for n in range(5)]
    serving = tmp_path / "serving"
    assert current_build_id(serving) == builds[-1].build_id
    kept = sorted(p.name for p in serving.iterdir() if p.is_dir())
    assert kept == sorted(b.build_id for b in builds[-KEEP_BUILDS:])
    assert not any(p.name.startswith(".") for p in serving.iterdir())
    assert (serving / POINTER).read_text("utf-8").strip() == builds[-1].build_id
    latest = _tenant(serving, "t1")
    assert latest is not None
    series = latest.series("a")
    assert series is not None and list(series.draft_qty) == [4.0, 4.0]


def test_an_empty_draft_publishes_an_empty_build(tmp_path: Path) -> None:
    serving = tmp_path / "serving"
    publication = publish_snapshot(serving, _draft(1.0).slice(0, 0), _skus())
    assert publication.draft_rows == 0
    t1 = _tenant(serving, "t1")
    assert t1 is not None
    assert set(t1.codes) == {"a", "b", "inactive"}
    assert t1.sku_order == [] and t1.series("a") is None


def test_the_optional_columns_are_published_when_the_draft_has_them(tmp_path: Path) -> None:
    draft = _draft(3.0).append_column("lower_qty", pa.array([1.0, 2.0, None, 0.5]))
    draft = draft.append_column("upper_qty", pa.array([5.0, 6.0, None, 1.5]))
    draft = draft.append_column("members", pa.array(["ses,naive,tsb"] * 3 + [None]))
    serving = tmp_path / "serving"
    publication = publish_snapshot(serving, draft, _skus())
    assert publication.columns[-3:] == ("lower_qty", "upper_qty", "members")
    t1 = _tenant(serving, "t1")
    assert t1 is not None
    series = t1.series("a")
    assert series is not None
    assert (series.lower_qty, series.upper_qty) == ([None, 2.0], [None, 6.0])
    assert series.members == "ses,naive,tsb"
    plain = publish_snapshot(tmp_path / "plain", _draft(3.0), _skus())
    assert "lower_qty" not in plain.columns


def test_a_method_that_differs_within_a_sku_is_not_published(tmp_path: Path) -> None:
    draft = _draft(3.0).set_column(5, "method", pa.array(["naive", "ses", "naive", "naive"]))
    with pytest.raises(ValueError, match="method differs within SKU a of tenant t1"):
        publish_snapshot(tmp_path, draft, _skus())
    assert current_build_id(tmp_path) is None


def test_a_drafted_sku_missing_from_the_sku_table_is_still_known(tmp_path: Path) -> None:
    serving = tmp_path / "serving"
    publication = publish_snapshot(serving, _draft(3.0), _skus().slice(0, 1))
    skus = pq.read_table(serving / publication.build_id / SKUS_FILE)
    pairs = zip(skus["tenant_id"].to_pylist(), skus["sku_id"].to_pylist(), strict=True)
    assert sorted(pairs) == [
        ("t1", "a"),
        ("t1", "b"),
        ("t2", "a"),
    ]
    t1 = _tenant(serving, "t1")
    assert t1 is not None and t1.knows_sku("b")


def _reader(table: pa.Table, rows_per_batch: int) -> pa.RecordBatchReader:
    """The table sorted as the publishing model has DuckDB sort it, in small batches."""
    keys = [name for name in ("tenant_id", "sku_id", "forecast_date") if name in table.schema.names]
    ordered = table.sort_by([(name, "ascending") for name in keys])
    return pa.RecordBatchReader.from_batches(
        ordered.schema, ordered.to_batches(max_chunksize=rows_per_batch)
    )


def test_a_streamed_draft_keeps_tenants_in_their_own_row_groups(tmp_path: Path) -> None:
    rows = [
        ("t1", "a", dt.date(2025, 3, 3), 1),
        ("t1", "a", dt.date(2025, 3, 10), 2),
        ("t1", "a", dt.date(2025, 3, 17), 3),
        ("t1", "b", dt.date(2025, 3, 10), 1),
        ("t1", "b", dt.date(2025, 3, 17), 2),
        ("t2", "a", dt.date(2025, 3, 3), 1),
    ]
    draft = pa.table(
        {
            "tenant_id": [r[0] for r in rows],
            "sku_id": [r[1] for r in rows],
            "forecast_date": [r[2] for r in rows],
            "step": pa.array([r[3] for r in rows], pa.int32()),
            "draft_qty": [float(r[3]) for r in rows],
            "method": ["naive"] * len(rows),
            "built_at": [BUILT_AT] * len(rows),
        }
    )
    # Batches of 2: SKU a of t1 spans the first two, b the last two, t2 shares the last.
    serving = tmp_path / "serving"
    publication = publish_snapshot(serving, _reader(draft, 2), _reader(_skus(), 3))
    assert (publication.draft_rows, publication.sku_rows) == (6, 4)
    assert publication.tenants is not None
    file = pq.ParquetFile(serving / publication.build_id / DRAFT_FILE)
    assert file.metadata.num_row_groups == 4
    for tenant_id, count, series_count in (("t1", 5, 2), ("t2", 1, 1)):
        part = publication.tenants[tenant_id]
        assert (part.draft_rows, part.series) == (count, series_count)
        read = file.read_row_groups(list(part.row_groups))
        assert set(read["tenant_id"].to_pylist()) == {tenant_id}
        assert read.num_rows == count
    t1 = _tenant(serving, "t1")
    assert t1 is not None
    series = t1.series("a")
    assert series is not None
    assert series.dates == [dt.date(2025, 3, 3), dt.date(2025, 3, 10), dt.date(2025, 3, 17)]
    assert list(series.draft_qty) == [1.0, 2.0, 3.0]


def test_a_method_that_differs_across_two_batches_is_not_published(tmp_path: Path) -> None:
    draft = _draft(3.0).set_column(5, "method", pa.array(["naive", "naive", "ses", "naive"]))
    # Sorted: t1 a 03-03 (ses), t1 a 03-10 (naive) | t1 b, t2 a: SKU a spans the batches.
    with pytest.raises(ValueError, match="method differs within SKU a of tenant t1"):
        publish_snapshot(tmp_path, _reader(draft, 1), _reader(_skus(), 4))
    assert current_build_id(tmp_path) is None
    assert not any(tmp_path.iterdir())  # the staging folder is removed


def test_the_page_tables_are_published_sorted_in_the_build_folder(tmp_path: Path) -> None:
    history = pa.table(
        {
            "tenant_id": ["t2", "t1", "t1"],
            "sku_id": ["a", "b", "a"],
            "period_date": [dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 1)],
            "qty": [1.0, 2.0, 3.0],
        }
    )
    publication = publish_snapshot(
        tmp_path, _draft(1.0), _skus(), page_tables={"series_history": history}
    )
    handle = open_page_table(tmp_path, publication.build_id, "series_history")
    assert handle is not None
    assert handle.read().to_pydict()["qty"] == [3.0, 2.0, 1.0]
    assert open_page_table(tmp_path, publication.build_id, "tenants") is None
    with pytest.raises(ValueError, match="not tables of the planning page: drafts"):
        publish_snapshot(tmp_path, _draft(1.0), _skus(), page_tables={"drafts": history})
    assert current_build_id(tmp_path) == publication.build_id
    assert not any(path.name.startswith(".") for path in tmp_path.iterdir())


def test_a_page_table_streamed_as_sorted_batches_is_written_as_it_comes_and_listed(
    tmp_path: Path,
) -> None:
    history = pa.table(
        {
            "tenant_id": ["t1"] * 5,
            "sku_id": ["a", "a", "a", "b", "b"],
            "period_date": [dt.date(2025, 3, day) for day in (1, 2, 3, 1, 2)],
            "qty": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    batches = pa.RecordBatchReader.from_batches(history.schema, history.to_batches(max_chunksize=2))
    publication = publish_snapshot(
        tmp_path, _draft(1.0), _skus(), page_tables={"series_history": batches}
    )
    handle = open_page_table(tmp_path, publication.build_id, "series_history")
    assert handle is not None and handle.read().to_pydict() == history.to_pydict()
    assert publication.files == ("draft.parquet", "skus.parquet", "series_history.parquet")
    listed = json.loads((tmp_path / publication.build_id / "publication.json").read_text())
    assert listed["files"] == list(publication.files)
    assert read_publication(tmp_path / publication.build_id) == publication
