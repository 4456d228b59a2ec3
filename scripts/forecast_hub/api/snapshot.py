"""Published drafts: the API's read-only copy of what dbt built.

dbt holds the warehouse file for the whole build and DuckDB lets no other
process open it meanwhile, so the API never opens it. Instead the build
itself publishes the draft (the ``forecast_draft_published`` model) into a
new folder ``serving/<build_id>/`` and then switches the ``CURRENT`` pointer
with an atomic rename. A reader sees the old build or the new one, never a
mix, and the API picks the new one up while it keeps serving. With an
object store, the build folder is uploaded and the bucket's pointer moved
(``forecast_hub.objectstore.drafts``) before the local pointer moves.

The draft is written sorted by tenant, SKU and date, with row groups that
never span two tenants, and ``publication.json`` names each tenant's row
groups and counts: the API's cache (``cache.py``) estimates its memory from
those counts and reads one tenant's rows without reading the others'.

Beside the draft, a build publishes what the planning page reads (the
series' history, their accuracy, the SKUs' names and attributes, the
tenants' grain): one Parquet file per table of ``PAGE_TABLES``, in the same
folder, so they switch with the draft and travel with it to the bucket
(``publication.json`` lists the build's files). ``page_data.py`` reads them.
"""

from __future__ import annotations

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
# Columns with one value per SKU (the draft's method is chosen per series).
SERIES_COLUMNS = ("method", "members", "built_at")
SKU_COLUMNS = ("tenant_id", "sku_id", "is_active", "discontinued_date")
DRAFT_FILE = "draft.parquet"
SKUS_FILE = "skus.parquet"
PUBLICATION_FILE = "publication.json"


@dataclass(frozen=True)
class TenantPublication:
    """One tenant's share of a build: its rows, SKUs and the row groups holding them."""

    draft_rows: int
    series: int
    skus: int
    row_groups: tuple[int, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "draft_rows": self.draft_rows,
            "series": self.series,
            "skus": self.skus,
            "row_groups": list(self.row_groups),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TenantPublication:
        return cls(
            draft_rows=int(data["draft_rows"]),
            series=int(data["series"]),
            skus=int(data["skus"]),
            row_groups=tuple(int(group) for group in data["row_groups"]),
        )


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
DRAFT_FILES = (DRAFT_FILE, SKUS_FILE)


@dataclass(frozen=True)
class Publication:
    build_id: str
    built_at: dt.datetime
    published_at: dt.datetime
    draft_rows: int
    sku_rows: int
    columns: tuple[str, ...] = DRAFT_COLUMNS
    # None for a build published before tenants were recorded.
    tenants: Mapping[str, TenantPublication] | None = None
    # The build's data files, beside publication.json.
    files: tuple[str, ...] = DRAFT_FILES

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "build_id": self.build_id,
            "built_at": self.built_at.isoformat(),
            "published_at": self.published_at.isoformat(),
            "draft_rows": self.draft_rows,
            "sku_rows": self.sku_rows,
            "columns": list(self.columns),
            "files": list(self.files),
        }
        if self.tenants is not None:
            data["tenants"] = {name: part.to_json() for name, part in self.tenants.items()}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Publication:
        tenants = data.get("tenants")
        return cls(
            build_id=str(data["build_id"]),
            built_at=dt.datetime.fromisoformat(str(data["built_at"])),
            published_at=dt.datetime.fromisoformat(str(data["published_at"])),
            draft_rows=int(data["draft_rows"]),
            sku_rows=int(data["sku_rows"]),
            columns=tuple(str(name) for name in data.get("columns", DRAFT_COLUMNS)),
            tenants=None
            if tenants is None
            else {str(name): TenantPublication.from_json(part) for name, part in tenants.items()},
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


def _fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def runs(values: pa.ChunkedArray | pa.Array) -> list[tuple[Any, int, int]]:
    """(value, first row, row count) of each run of equal values, in order."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if len(array) == 0:
        return []
    changed = pc.indices_nonzero(pc.fill_null(pc.not_equal(array[1:], array[:-1]), True))
    starts = [0, *(index + 1 for index in changed.to_numpy().tolist())]
    ends = [*starts[1:], len(array)]
    names = array.take(pa.array(starts)).to_pylist()
    return [
        (name, start, end - start) for name, start, end in zip(names, starts, ends, strict=True)
    ]


Rows: TypeAlias = pa.Table | pa.RecordBatchReader
_DRAFT_ORDER = [("tenant_id", "ascending"), ("sku_id", "ascending"), ("forecast_date", "ascending")]
_KEYS = ["tenant_id", "sku_id"]


def _check_one_value_per_sku(draft: pa.Table) -> None:
    """A series column holds one value per SKU; a draft that breaks it is not published."""
    if draft.num_rows < 2:
        return
    tenant = draft["tenant_id"].combine_chunks()
    sku = draft["sku_id"].combine_chunks()
    same_series = pc.and_(pc.equal(tenant[1:], tenant[:-1]), pc.equal(sku[1:], sku[:-1]))
    for name in SERIES_COLUMNS:
        if name not in draft.column_names:
            continue
        values = draft[name].combine_chunks()
        before, after = values[:-1], values[1:]
        equal = pc.or_(
            pc.fill_null(pc.equal(after, before), False),
            pc.and_(pc.is_null(after), pc.is_null(before)),
        )
        broken = pc.and_(same_series, pc.invert(equal))
        if pc.any(broken).as_py():
            row = pc.indices_nonzero(broken)[0].as_py() + 1
            raise ValueError(
                f"the draft's {name} differs within SKU {sku[row]} of tenant {tenant[row]}:"
                " it must have one value per SKU"
            )


def _series_starts(window: pa.Table, carried: bool) -> pa.Table:
    """The (tenant_id, sku_id) of each row that starts a series; with ``carried`` the
    window's first row is the previous batch's last, there only to compare with."""
    tenant = window["tenant_id"].combine_chunks()
    sku = window["sku_id"].combine_chunks()
    changed = pc.invert(pc.and_(pc.equal(tenant[1:], tenant[:-1]), pc.equal(sku[1:], sku[:-1])))
    starts = pc.add(pc.indices_nonzero(pc.fill_null(changed, True)), 1)
    if not carried:
        starts = pa.concat_arrays([pa.array([0], pa.uint64()), starts.cast(pa.uint64())])
    return window.select(_KEYS).take(starts)


@dataclass
class _DraftTally:
    """What writing the draft learnt: its rows and latest built_at, each write's tenant
    and rows (one row group or more, never two tenants), and each series' key."""

    rows: int = 0
    built: Any = None
    writes: list[tuple[str, int]] = field(default_factory=list)
    series: list[pa.Table] = field(default_factory=list)

    def row_groups(self, path: Path) -> dict[str, tuple[int, ...]]:
        """Each tenant's row groups of the written file."""
        metadata = pq.ParquetFile(path).metadata
        groups: dict[str, list[int]] = {}
        group = 0
        for tenant_id, count in self.writes:
            covered = 0
            while covered < count:
                covered += metadata.row_group(group).num_rows
                groups.setdefault(tenant_id, []).append(group)
                group += 1
        return {tenant_id: tuple(found) for tenant_id, found in groups.items()}

    def series_keys(self) -> pa.Table:
        if not self.series:
            return pa.table({name: pa.array([], pa.string()) for name in _KEYS})
        return pa.concat_tables(self.series)


def _write_draft(rows: Rows, columns: list[str], path: Path) -> _DraftTally:
    """Write ``columns`` of the draft a batch at a time, each tenant's share of a batch
    as row groups of its own; checked for one value per SKU across batches too."""
    reader = rows.to_reader() if isinstance(rows, pa.Table) else rows
    schema = pa.schema([reader.schema.field(name) for name in columns])
    tally = _DraftTally()
    previous: pa.Table | None = None
    with pq.ParquetWriter(path, schema) as writer:
        for batch in reader:
            if not batch.num_rows:
                continue
            table = pa.Table.from_batches(
                [
                    pa.RecordBatch.from_arrays(
                        [batch.column(name) for name in columns], schema=schema
                    )
                ]
            )
            window = table if previous is None else pa.concat_tables([previous, table])
            _check_one_value_per_sku(window)
            tally.series.append(_series_starts(window, carried=previous is not None))
            for tenant_id, start, count in runs(table["tenant_id"]):
                writer.write_table(table.slice(start, count), row_group_size=count)
                tally.writes.append((str(tenant_id), count))
            tally.rows += table.num_rows
            latest = pc.max(table["built_at"]).as_py()
            if latest is not None and (tally.built is None or latest > tally.built):
                tally.built = latest
            previous = table.slice(table.num_rows - 1, 1)
    _fsync_file(path)
    return tally


def _known_skus(skus: pa.Table, drafted: pa.Table) -> pa.Table:
    """The SKUs, plus any the draft has that the SKU table lacks (attributes null)."""
    drafted = drafted.group_by(_KEYS).aggregate([])
    missing = drafted.join(skus.select(_KEYS), keys=_KEYS, join_type="left anti")
    if missing.num_rows:
        extra = {
            name: missing[name].cast(skus.schema.field(name).type)
            if name in _KEYS
            else pa.nulls(missing.num_rows, skus.schema.field(name).type)
            for name in skus.column_names
        }
        skus = pa.concat_tables([skus, pa.table(extra, schema=skus.schema)])
    return skus.sort_by([("tenant_id", "ascending"), ("sku_id", "ascending")])


def _per_tenant(table: pa.Table, function: str) -> dict[str, int]:
    """``function`` (count, count_distinct) of the SKU column per tenant."""
    result = table.group_by("tenant_id").aggregate([("sku_id", function)])
    values = result[f"sku_id_{function}"].to_pylist()
    return dict(zip(result["tenant_id"].to_pylist(), values, strict=True))


def _tenants(
    tally: _DraftTally, skus: pa.Table, groups: Mapping[str, tuple[int, ...]]
) -> dict[str, TenantPublication]:
    rows: dict[str, int] = {}
    for tenant_id, count in tally.writes:
        rows[tenant_id] = rows.get(tenant_id, 0) + count
    series = _per_tenant(tally.series_keys(), "count_distinct")
    known = _per_tenant(skus, "count")
    return {
        tenant_id: TenantPublication(
            draft_rows=rows.get(tenant_id, 0),
            series=series.get(tenant_id, 0),
            skus=known[tenant_id],
            row_groups=groups.get(tenant_id, ()),
        )
        for tenant_id in sorted(known)
    }


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
    _fsync_file(path)
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
    batch at a time, so the draft is never held whole; the SKU table (one
    row per SKU) and the draft's series keys are. The draft's optional
    columns (DRAFT_OPTIONAL_COLUMNS) go with it where it has them. A draft
    whose method, members or built_at differ within a SKU is a ValueError,
    and nothing is published. ``page_tables`` (names of ``PAGE_TABLES``; a
    reader sorted by the table's columns) are written into the same folder,
    so the page's data switches with the draft, and are uploaded with it.

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
    columns = [*DRAFT_COLUMNS, *optional]
    now = dt.datetime.now(dt.UTC)
    build_id = f"{now:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"

    serving_dir.mkdir(parents=True, exist_ok=True)
    staging = serving_dir / f".staging-{build_id}"
    staging.mkdir()
    try:
        tally = _write_draft(draft, columns, staging / DRAFT_FILE)
        sku_table = skus if isinstance(skus, pa.Table) else skus.read_all()
        sku_table = _known_skus(sku_table.select(list(SKU_COLUMNS)), tally.series_keys())
        page_files = _write_page_tables(staging, page_tables or {})
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pq.write_table(sku_table, staging / SKUS_FILE)
    _fsync_file(staging / SKUS_FILE)
    publication = Publication(
        build_id,
        _utc(tally.built) if tally.built else now,
        now,
        tally.rows,
        sku_table.num_rows,
        columns=tuple(columns),
        tenants=_tenants(tally, sku_table, tally.row_groups(staging / DRAFT_FILE)),
        files=(*DRAFT_FILES, *page_files),
    )
    (staging / PUBLICATION_FILE).write_text(json.dumps(publication.to_json()), "utf-8")
    _fsync_file(staging / PUBLICATION_FILE)
    _fsync_dir(staging)
    staging.rename(serving_dir / build_id)
    if object_store is not None and lease is not None:
        from forecast_hub.objectstore.drafts import upload_build

        upload_build(object_store, serving_dir / build_id, lease)
    pointer = serving_dir / f".{POINTER}.tmp"
    pointer.write_text(build_id + "\n", encoding="utf-8")
    _fsync_file(pointer)
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


def read_publication(folder: Path) -> Publication:
    """A build's publication.json; OSError or ValueError when it cannot be read."""
    return Publication.from_json(
        json.loads((folder / PUBLICATION_FILE).read_text(encoding="utf-8"))
    )


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
