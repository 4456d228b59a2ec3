"""Published drafts: the API's read-only copy of what dbt built.

dbt holds the warehouse file for the whole build and DuckDB lets no other
process open it meanwhile, so the API never opens it. Instead the build
itself publishes the draft (the ``forecast_draft_published`` model) into a
new folder ``serving/<build_id>/`` and then switches the ``CURRENT`` pointer
with an atomic rename. A reader sees the old build or the new one, never a
mix, and the API picks the new one up while it keeps serving. With an
object store, the build folder is uploaded and the bucket's pointer moved
(``forecast_hub.objectstore.drafts``) before the local pointer moves.

Beside the draft, a build publishes what the planning page reads (the
series' history, their accuracy, the SKUs' names and attributes, the
tenants' grain): one Parquet file per table of ``PAGE_TABLES``, in the same
folder, so they switch with the draft and travel with it to the bucket
(``publication.json`` lists the build's files). ``page_data.py`` reads them.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from forecast_hub.objectstore.client import ObjectStore

POINTER = "CURRENT"
KEEP_BUILDS = 3
DRAFT_COLUMNS = ("tenant_id", "sku_id", "forecast_date", "step", "draft_qty", "method", "built_at")
# Published where the draft has them: the prediction interval and the methods
# top3_median combines ("ses,naive,tsb").
DRAFT_OPTIONAL_COLUMNS = ("lower_qty", "upper_qty", "members")
SKU_COLUMNS = ("tenant_id", "sku_id", "is_active", "discontinued_date")
# The planning page's tables, each published as <name>.parquet sorted by
# these columns (the readers rely on the order).
PAGE_TABLES: dict[str, tuple[str, ...]] = {
    "tenants": ("tenant_id",),
    "sku_attributes": ("tenant_id", "sku_id"),
    "series_history": ("tenant_id", "sku_id", "period_date"),
    "series_accuracy": ("tenant_id", "sku_id", "method"),
    "tenant_accuracy": ("tenant_id", "method"),
}
# Rows per row group of a page table: a reader of one series reads one or two.
PAGE_ROW_GROUP_ROWS = 65_536
# The data files of a build without page tables (and of one published before
# publication.json listed its files).
DRAFT_FILES = ("draft.parquet", "skus.parquet")


@dataclass(frozen=True)
class Publication:
    build_id: str
    built_at: dt.datetime
    published_at: dt.datetime
    draft_rows: int
    sku_rows: int
    # The build's data files, beside publication.json.
    files: tuple[str, ...] = DRAFT_FILES

    def to_json(self) -> dict[str, object]:
        return {
            "build_id": self.build_id,
            "built_at": self.built_at.isoformat(),
            "published_at": self.published_at.isoformat(),
            "draft_rows": self.draft_rows,
            "sku_rows": self.sku_rows,
            "files": list(self.files),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Publication:
        return cls(
            build_id=str(data["build_id"]),
            built_at=dt.datetime.fromisoformat(str(data["built_at"])),
            published_at=dt.datetime.fromisoformat(str(data["published_at"])),
            draft_rows=int(data["draft_rows"]),
            sku_rows=int(data["sku_rows"]),
            files=tuple(str(name) for name in data.get("files", DRAFT_FILES)),
        )

    def to_arrow(self) -> pa.Table:
        """The one-row record the publishing dbt model leaves in the warehouse."""
        return pa.table(
            {
                "build_id": [self.build_id],
                "built_at": pa.array([self.built_at.replace(tzinfo=None)], pa.timestamp("us")),
                "published_at": pa.array(
                    [self.published_at.replace(tzinfo=None)], pa.timestamp("us")
                ),
                "draft_rows": pa.array([self.draft_rows], pa.int64()),
                "sku_rows": pa.array([self.sku_rows], pa.int64()),
            }
        )


def _utc(moment: dt.datetime) -> dt.datetime:
    """Warehouse timestamps are naive UTC."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


Rows: TypeAlias = pa.Table | pa.RecordBatchReader
_DRAFT_ORDER = [("tenant_id", "ascending"), ("sku_id", "ascending"), ("forecast_date", "ascending")]


def _write_parquet(
    rows: Rows, columns: Sequence[str], path: Path, row_group_rows: int | None = None
) -> tuple[int, Any]:
    """Write ``columns`` of the rows a batch at a time; (rows written, max of built_at or None)."""
    reader = rows.to_reader() if isinstance(rows, pa.Table) else rows
    schema = pa.schema([reader.schema.field(name) for name in columns])
    count, built = 0, None
    with pq.ParquetWriter(path, schema) as writer:
        for batch in reader:
            batch = pa.RecordBatch.from_arrays(
                [batch.column(name) for name in columns], schema=schema
            )
            writer.write_batch(batch, row_group_size=row_group_rows)
            count += batch.num_rows
            if "built_at" in columns and batch.num_rows:
                latest = pc.max(batch.column("built_at")).as_py()
                built = (
                    latest if built is None or (latest is not None and latest > built) else built
                )
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
    return count, built


def _write_page_tables(folder: Path, tables: Mapping[str, Rows]) -> list[str]:
    """Write each page table (a Table sorted here, a reader sorted already); their files."""
    files = []
    for name, rows in tables.items():
        order = PAGE_TABLES[name]
        if isinstance(rows, pa.Table):
            rows = rows.sort_by([(column, "ascending") for column in order])
        _write_parquet(rows, rows.schema.names, folder / f"{name}.parquet", PAGE_ROW_GROUP_ROWS)
        files.append(f"{name}.parquet")
    return files


def publish_snapshot(
    serving_dir: Path,
    draft: Rows,
    skus: Rows,
    object_store: ObjectStore | None = None,
    page_tables: Mapping[str, Rows] | None = None,
) -> Publication:
    """Write a new published build and point CURRENT at it; returns what was published.

    A Table is sorted here. A RecordBatchReader must come sorted by tenant,
    SKU and date (the publishing model has DuckDB sort it) and is written a
    batch at a time, so a draft of any size is published in bounded memory.
    The draft's optional columns (DRAFT_OPTIONAL_COLUMNS) go with it where
    it has them. ``page_tables`` (names of ``PAGE_TABLES``; a reader sorted
    by the table's columns) are written into the same folder, so the page's
    data switches with the draft, and are uploaded with it.

    With ``object_store`` the build is uploaded and the bucket's pointer moved
    first (conditionally on the pointer this call found); if another build
    moved it meanwhile, UserError, and the local pointer stays where it was.
    """
    unknown = sorted(set(page_tables or {}) - set(PAGE_TABLES))
    if unknown:
        raise ValueError(f"not tables of the planning page: {', '.join(unknown)}")
    lease = None
    if object_store is not None:
        from forecast_hub.objectstore.drafts import read_pointer

        _, lease = read_pointer(object_store)
    if isinstance(draft, pa.Table):
        draft = draft.sort_by(_DRAFT_ORDER)
    optional = [name for name in DRAFT_OPTIONAL_COLUMNS if name in draft.schema.names]
    now = dt.datetime.now(dt.UTC)
    build_id = f"{now:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"

    serving_dir.mkdir(parents=True, exist_ok=True)
    staging = serving_dir / f".staging-{build_id}"
    staging.mkdir()
    draft_rows, built = _write_parquet(
        draft, [*DRAFT_COLUMNS, *optional], staging / "draft.parquet"
    )
    sku_rows, _ = _write_parquet(skus, list(SKU_COLUMNS), staging / "skus.parquet")
    files = (*DRAFT_FILES, *_write_page_tables(staging, page_tables or {}))
    built_at = _utc(built) if built else now
    publication = Publication(build_id, built_at, now, draft_rows, sku_rows, files)
    (staging / "publication.json").write_text(json.dumps(publication.to_json()), "utf-8")
    _fsync_dir(staging)
    staging.rename(serving_dir / build_id)
    if object_store is not None and lease is not None:
        from forecast_hub.objectstore.drafts import upload_build

        upload_build(object_store, serving_dir / build_id, lease)
    pointer = serving_dir / f".{POINTER}.tmp"
    pointer.write_text(build_id + "\n", encoding="utf-8")
    with pointer.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer, serving_dir / POINTER)
    _fsync_dir(serving_dir)
    _prune(serving_dir, keep=build_id)
    return publication


def _prune(serving_dir: Path, keep: str) -> None:
    """Keep the newest builds; a reader of an older one has long finished loading it."""
    builds = sorted(
        (path for path in serving_dir.iterdir() if path.is_dir() and path.name[0].isdigit()),
        key=lambda path: path.name,
    )
    for old in builds[:-KEEP_BUILDS]:
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


def current_build_id(serving_dir: Path) -> str | None:
    try:
        return (serving_dir / POINTER).read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def open_page_table(
    serving_dir: Path, build_id: str, name: str, read_dictionary: Sequence[str] = ()
) -> pq.ParquetFile | None:
    """A page table of a build, memory-mapped (it stays readable once the build is pruned);
    None when the build did not publish it."""
    if name not in PAGE_TABLES:
        raise KeyError(f"{name} is not a table of the planning page")
    path = serving_dir / build_id / f"{name}.parquet"
    try:
        return pq.ParquetFile(pa.memory_map(str(path)), read_dictionary=list(read_dictionary))
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class SkuSeries:
    """One SKU's draft, dates ascending."""

    method: str
    dates: tuple[dt.date, ...]
    steps: tuple[int, ...]
    draft_qty: tuple[float, ...]
    # The prediction interval, where the build publishes one (None otherwise).
    lower_qty: tuple[float | None, ...] | None = None
    upper_qty: tuple[float | None, ...] | None = None

    def span(self, start: dt.date | None, end: dt.date | None) -> range:
        low = bisect.bisect_left(self.dates, start) if start else 0
        high = bisect.bisect_right(self.dates, end) if end else len(self.dates)
        return range(low, high)

    def has_date(self, date: dt.date) -> bool:
        index = bisect.bisect_left(self.dates, date)
        return index < len(self.dates) and self.dates[index] == date


@dataclass
class TenantDraft:
    known_skus: set[str] = field(default_factory=set)
    series: dict[str, SkuSeries] = field(default_factory=dict)
    sku_order: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DraftSnapshot:
    publication: Publication
    tenants: dict[str, TenantDraft]

    @property
    def build_id(self) -> str:
        return self.publication.build_id

    def tenant(self, tenant_id: str) -> TenantDraft:
        return self.tenants.get(tenant_id) or TenantDraft()


def load_snapshot(serving_dir: Path, build_id: str) -> DraftSnapshot:
    """Read one published build fully into memory, indexed by tenant and SKU."""
    folder = serving_dir / build_id
    publication = Publication.from_json(
        json.loads((folder / "publication.json").read_text(encoding="utf-8"))
    )
    tenants: dict[str, TenantDraft] = {}
    skus = pq.read_table(folder / "skus.parquet", columns=["tenant_id", "sku_id"]).to_pydict()
    for tenant_id, sku_id in zip(skus["tenant_id"], skus["sku_id"], strict=True):
        tenants.setdefault(tenant_id, TenantDraft()).known_skus.add(sku_id)

    draft = pq.read_table(folder / "draft.parquet").to_pydict()
    keys = list(zip(draft["tenant_id"], draft["sku_id"], strict=True))
    start = 0
    while start < len(keys):
        end = start
        while end < len(keys) and keys[end] == keys[start]:
            end += 1
        tenant_id, sku_id = keys[start]
        tenant = tenants.setdefault(tenant_id, TenantDraft())
        tenant.known_skus.add(sku_id)
        tenant.series[sku_id] = SkuSeries(
            method=draft["method"][start],
            dates=tuple(draft["forecast_date"][start:end]),
            steps=tuple(draft["step"][start:end]),
            draft_qty=tuple(float(qty) for qty in draft["draft_qty"][start:end]),
            lower_qty=tuple(draft["lower_qty"][start:end]) if "lower_qty" in draft else None,
            upper_qty=tuple(draft["upper_qty"][start:end]) if "upper_qty" in draft else None,
        )
        start = end
    for tenant in tenants.values():
        tenant.sku_order = sorted(tenant.series)
    return DraftSnapshot(publication, tenants)
