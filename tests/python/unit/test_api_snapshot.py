"""Published drafts: written aside, switched atomically, old ones pruned."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from forecast_hub.api.snapshot import (
    KEEP_BUILDS,
    POINTER,
    current_build_id,
    load_snapshot,
    open_page_table,
    publish_snapshot,
)

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


def test_a_published_build_loads_indexed_by_tenant_and_sku(tmp_path: Path) -> None:
    publication = publish_snapshot(tmp_path, _draft(3.0), _skus())
    assert current_build_id(tmp_path) == publication.build_id
    assert not any(path.name.startswith(".") for path in tmp_path.iterdir())
    assert publication.built_at == BUILT_AT.replace(tzinfo=dt.UTC)
    snapshot = load_snapshot(tmp_path, publication.build_id)
    t1 = snapshot.tenant("t1")
    assert t1.sku_order == ["a", "b"]
    assert t1.known_skus == {"a", "b", "inactive"}
    assert t1.series["a"].dates == (dt.date(2025, 3, 3), dt.date(2025, 3, 10))
    assert t1.series["a"].steps == (1, 2)
    assert snapshot.tenant("t2").sku_order == ["a"]
    assert snapshot.tenant("nobody").series == {}


def test_the_pointer_only_ever_names_a_complete_build(tmp_path: Path) -> None:
    builds = [publish_snapshot(tmp_path, _draft(float(n)), _skus()) for n in range(5)]
    assert current_build_id(tmp_path) == builds[-1].build_id
    kept = sorted(p.name for p in tmp_path.iterdir() if p.is_dir())
    assert kept == sorted(b.build_id for b in builds[-KEEP_BUILDS:])
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())
    assert (tmp_path / POINTER).read_text("utf-8").strip() == builds[-1].build_id
    latest = load_snapshot(tmp_path, builds[-1].build_id)
    assert latest.tenant("t1").series["a"].draft_qty == (4.0, 4.0)


def test_an_empty_draft_publishes_an_empty_build(tmp_path: Path) -> None:
    publication = publish_snapshot(tmp_path, _draft(1.0).slice(0, 0), _skus())
    snapshot = load_snapshot(tmp_path, publication.build_id)
    assert snapshot.publication.draft_rows == 0
    assert snapshot.tenant("t1").known_skus == {"a", "b", "inactive"}
    assert snapshot.tenant("t1").series == {}


def test_the_interval_is_published_and_loaded_where_the_draft_has_one(tmp_path: Path) -> None:
    draft = _draft(2.0)
    draft = draft.append_column("lower_qty", pa.array([1.0, 1.5, None, 0.5]))
    draft = draft.append_column("upper_qty", pa.array([3.0, 2.5, None, 3.5]))
    draft = draft.append_column("members", pa.array(["ses,naive,tsb", None, None, None]))
    publication = publish_snapshot(tmp_path, draft, _skus())
    published = pq.read_table(tmp_path / publication.build_id / "draft.parquet")
    assert published.column_names[-3:] == ["lower_qty", "upper_qty", "members"]
    assert "extra" not in published.column_names
    t1 = load_snapshot(tmp_path, publication.build_id).tenant("t1")
    assert (t1.series["a"].lower_qty, t1.series["a"].upper_qty) == ((None, 1.5), (None, 2.5))
    plain = load_snapshot(tmp_path, publish_snapshot(tmp_path, _draft(2.0), _skus()).build_id)
    assert plain.tenant("t1").series["a"].lower_qty is None


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
    assert load_snapshot(tmp_path, publication.build_id).publication == publication
