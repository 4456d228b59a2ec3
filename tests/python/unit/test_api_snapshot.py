"""Published drafts: written aside, switched atomically, old ones pruned."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from forecast_hub.api.snapshot import (
    KEEP_BUILDS,
    POINTER,
    current_build_id,
    load_snapshot,
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
