"""The cache's own copy of a build: each tenant's columns in Arrow IPC files.

A tenant read from the published Parquet is decoded once and written here
as it is held in memory, and then served from here, memory-mapped: the next
start, and the next load of an evicted tenant, map the file without
parsing it, and an evicted tenant's pages leave with its mapping. The copy
is a cache: a missing or unreadable file is read from the Parquet again.

Layout: ``<cache_dir>/<build_id>/t<code>-<YYYYMMDD>.rows.arrow`` (the day
and value columns, the tenant's first day in the schema's metadata) and
``.skus.arrow`` (one row per SKU with a draft, with its row count), where
code is the tenant's position in the build and the date the retention
cutoff the rows were kept for. A file of another layout is unusable, so it
is read from the Parquet again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from forecast_hub.api.tenant_rows import TenantRows, labels, without_draft

log = logging.getLogger("forecast_hub.api.cache")

ROWS_SUFFIX = ".rows.arrow"
SKUS_SUFFIX = ".skus.arrow"
DAY_BASE = b"day_base"


def _stem(code: int, cutoff: dt.date) -> str:
    return f"t{code:06d}-{cutoff:%Y%m%d}"


def _cutoff_of(path: Path) -> dt.date | None:
    try:
        return dt.datetime.strptime(path.name.split("-")[1][:8], "%Y%m%d").date()
    except (IndexError, ValueError):
        return None


def _batches(rows: TenantRows) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    columns: dict[str, pa.Array] = {
        "day": pa.array(rows.days),
        "step": pa.array(rows.step),
        "draft_qty": pa.array(rows.draft_qty),
    }
    if rows.lower_qty is not None and rows.upper_qty is not None:
        # NaN stands for null in the columns, so no validity bitmap is written
        # and the mapped file is used as it is.
        columns["lower_qty"] = pa.array(rows.lower_qty)
        columns["upper_qty"] = pa.array(rows.upper_qty)
    skus: dict[str, pa.Array] = {
        "sku_id": pa.array(rows.sku_order, pa.string()),
        "rows": pa.array(np.diff(rows.offsets)),
        "method": pa.array(rows.methods, pa.string()),
        "built_at": pa.array(rows.built_at),
    }
    if rows.members is not None:
        skus["members"] = pa.array(rows.members, pa.string())
    metadata = {DAY_BASE: str(rows.day_base).encode()}
    return pa.RecordBatch.from_pydict(columns, metadata=metadata), pa.RecordBatch.from_pydict(skus)


def _numpy(batch: pa.RecordBatch, name: str) -> npt.NDArray[Any]:
    """The column as numpy, zero-copy (a mapped file's column stays in the file)."""
    return np.asarray(batch.column(name).to_numpy())


def _columns(rows: pa.RecordBatch) -> dict[str, npt.NDArray[Any]]:
    return {name: _numpy(rows, name) for name in rows.schema.names}


def _rows_of(
    tenant_id: str, rows: pa.RecordBatch, skus: pa.RecordBatch, known: pa.Array
) -> TenantRows:
    columns = _columns(rows)
    has_interval = "lower_qty" in columns and "upper_qty" in columns
    metadata = rows.schema.metadata or {}
    if DAY_BASE not in metadata:
        raise ValueError("no first day in the rows file's metadata")
    offsets = np.concatenate([[0], np.cumsum(_numpy(skus, "rows"))]).astype(np.int64)
    if offsets[-1] != len(columns["day"]):
        raise ValueError("the SKUs' row counts do not add up to the rows file")
    return TenantRows(
        tenant_id,
        skus.column("sku_id").to_pylist(),
        without_draft(known, skus.column("sku_id")),
        offsets,
        int(metadata[DAY_BASE]),
        columns["day"],
        columns["step"],
        columns["draft_qty"],
        [str(method) for method in labels(skus.column("method"))],
        _numpy(skus, "built_at"),
        columns["lower_qty"] if has_interval else None,
        columns["upper_qty"] if has_interval else None,
        labels(skus.column("members")) if "members" in skus.schema.names else None,
    )


def _read_batch(path: Path) -> pa.RecordBatch:
    """The file's one batch, memory-mapped: nothing is decoded or allocated, and the
    mapping goes (with its resident pages) when the last column using it does."""
    reader = pa.ipc.open_file(pa.memory_map(str(path)))
    if reader.num_record_batches != 1:
        raise ValueError(f"{path} holds {reader.num_record_batches} batches, not 1")
    return reader.get_batch(0)


class LocalCopy:
    """One build's folder of per-tenant IPC files under the cache folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _latest(self, code: int, not_after: dt.date) -> tuple[Path, Path, dt.date] | None:
        """The files of the newest cutoff up to ``not_after`` (later ones lack rows)."""
        best: tuple[Path, Path, dt.date] | None = None
        for rows_path in self.root.glob(f"t{code:06d}-*{ROWS_SUFFIX}"):
            cutoff = _cutoff_of(rows_path)
            skus_path = rows_path.with_name(rows_path.name.replace(ROWS_SUFFIX, SKUS_SUFFIX))
            if cutoff is None or cutoff > not_after or not skus_path.exists():
                continue
            if best is None or cutoff > best[2]:
                best = (rows_path, skus_path, cutoff)
        return best

    def read(
        self,
        tenant_id: str,
        code: int,
        known: pa.Array,
        not_after: dt.date,
    ) -> tuple[TenantRows, dt.date] | None:
        """The tenant's copied rows and their cutoff; None when there is no usable copy."""
        found = self._latest(code, not_after)
        if found is None:
            return None
        rows_path, skus_path, cutoff = found
        try:
            rows = _rows_of(
                tenant_id,
                _read_batch(rows_path),
                _read_batch(skus_path),
                known,
            )
        except (OSError, ValueError, KeyError) as error:
            log.warning("the local copy %s is unusable (%s); reading the Parquet", rows_path, error)
            return None
        return rows, cutoff

    def mapped(self, code: int, cutoff: dt.date) -> dict[str, npt.NDArray[Any]] | None:
        """The row columns of the tenant's files for ``cutoff``, mapped; None if unreadable."""
        path = self.root / f"{_stem(code, cutoff)}{ROWS_SUFFIX}"
        try:
            return _columns(_read_batch(path))
        except (OSError, ValueError) as error:
            log.warning("the local copy %s is unusable (%s)", path, error)
            return None

    def write(self, code: int, cutoff: dt.date, rows: TenantRows) -> bool:
        """Write the tenant's files (each by a rename) and drop its older cutoffs.

        A copy that cannot be written is logged and skipped (False): the rows
        are served anyway and read from the Parquet next time.
        """
        stem = _stem(code, cutoff)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            rows_batch, skus_batch = _batches(rows)
            # The SKU file first: a rows file is only looked at beside its SKU file.
            for suffix, batch in ((SKUS_SUFFIX, skus_batch), (ROWS_SUFFIX, rows_batch)):
                staging = self.root / f".{stem}{suffix}.{uuid.uuid4().hex[:8]}"
                with (
                    pa.OSFile(str(staging), "wb") as sink,
                    pa.ipc.new_file(sink, batch.schema) as writer,
                ):
                    writer.write_batch(batch)
                os.replace(staging, self.root / f"{stem}{suffix}")
            for old in self.root.glob(f"t{code:06d}-*"):
                if not old.name.startswith(stem):
                    old.unlink(missing_ok=True)
        except OSError as error:
            log.warning("could not write the local copy %s (%s)", self.root / stem, error)
            return False
        return True


def prune_copies(cache_dir: Path, keep: set[str]) -> None:
    """Remove the copies of builds not in ``keep`` (a mapped file outlives its name)."""
    if not cache_dir.is_dir():
        return
    for folder in cache_dir.iterdir():
        if folder.is_dir() and folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)
