"""A generation: one published build as the cache holds it, never changed once served.

A generation knows every tenant and SKU of its build (the directory, read
from ``skus.parquet``) and holds tenants' rows (``TenantRows``): all of them
when preloaded, those asked for when loaded on demand. A request takes one
generation and answers wholly from it; a reload builds the next generation
beside it and the cache swaps one reference (``cache.py``).

Tenants are read from the cache's local copy (``local_copy.py``) when it
has them, else from the tenant's own row groups of ``draft.parquet``; a
build published before row groups were recorded is described from its files.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Collection, Container, Mapping
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from forecast_hub.api.local_copy import LocalCopy
from forecast_hub.api.snapshot import (
    DRAFT_FILE,
    SKUS_FILE,
    Publication,
    TenantPublication,
    read_publication,
    runs,
)
from forecast_hub.api.tenant_rows import (
    DAY_BYTES,
    FLOAT_BYTES,
    SERIES_BYTES,
    SKU_COLUMN_BYTES,
    TenantRows,
    encode_tenant,
)

LoadMode = Literal["preload", "on_demand"]
# A tenant's known SKUs while its rows are not held: a frozenset of the ids
# (measured with tracemalloc, ids of 10 to 12 characters).
DIRECTORY_BYTES = 92
# The step column is int16 for any horizon below 32768 periods.
STEP_BYTES = 2


def row_bytes(columns: Container[str]) -> int:
    """What one draft row costs in the columns: its day, step and quantities."""
    interval = "lower_qty" in columns and "upper_qty" in columns
    return DAY_BYTES + STEP_BYTES + FLOAT_BYTES * (3 if interval else 1)


def estimate_bytes(part: TenantPublication, columns: Container[str]) -> int:
    """The memory a tenant's rows will take, from the publication's counts."""
    return (
        part.draft_rows * row_bytes(columns)
        + part.series * SKU_COLUMN_BYTES
        + 8
        + part.skus * SERIES_BYTES
    )


def estimate_build(
    tenants: Mapping[str, TenantPublication], columns: Container[str], mode: LoadMode
) -> int:
    """The memory a build will take once every tenant is loaded, in ``mode``: on
    demand, the directory of every tenant's SKUs is held beside the rows."""
    rows = sum(estimate_bytes(part, columns) for part in tenants.values())
    directory = sum(part.skus for part in tenants.values()) * DIRECTORY_BYTES
    return rows + (directory if mode == "on_demand" else 0)


def _describe(folder: Path) -> dict[str, TenantPublication]:
    """Each tenant's counts and row groups, for a build whose publication lacks them."""
    draft = pq.ParquetFile(folder / DRAFT_FILE)
    keys = draft.read(columns=["tenant_id", "sku_id"])
    skus = pq.ParquetFile(folder / SKUS_FILE).read(columns=["tenant_id", "sku_id"])
    known = pa.concat_tables([skus, keys]).group_by(["tenant_id", "sku_id"]).aggregate([])
    counts = known.group_by("tenant_id").aggregate([("sku_id", "count")]).to_pydict()
    drafted = keys.group_by("tenant_id").aggregate(
        [("sku_id", "count"), ("sku_id", "count_distinct")]
    )
    names = drafted["tenant_id"].to_pylist()
    rows = dict(zip(names, drafted["sku_id_count"].to_pylist(), strict=True))
    series = dict(zip(names, drafted["sku_id_count_distinct"].to_pylist(), strict=True))
    groups: dict[str, list[int]] = {}
    first = 0
    for index in range(draft.metadata.num_row_groups):
        count = draft.metadata.row_group(index).num_rows
        names = keys["tenant_id"].slice(first, count)
        for name in pc.unique(names).to_pylist():
            groups.setdefault(name, []).append(index)
        first += count
    return {
        name: TenantPublication(
            draft_rows=int(rows.get(name, 0)),
            series=int(series.get(name, 0)),
            skus=int(count),
            row_groups=tuple(groups.get(name, [])),
        )
        for name, count in zip(counts["tenant_id"], counts["sku_id_count"], strict=True)
    }


class BuildSource:
    """A published build's files: the draft is read one tenant at a time.

    The Parquet file is opened on first need (a warm start has no need of
    it) and stays open for the generation's life, so a load on demand still
    works after the publisher has pruned the build's folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.publication: Publication = read_publication(folder)
        tenants = self.publication.tenants
        self.tenants: Mapping[str, TenantPublication] = (
            tenants if tenants is not None else _describe(folder)
        )
        self.codes = {name: code for code, name in enumerate(sorted(self.tenants))}
        self._draft: pq.ParquetFile | None = None
        self._lock = threading.Lock()
        # Row groups shared with another tenant (only in an older build's file).
        uses = Counter(group for part in self.tenants.values() for group in part.row_groups)
        self._shared = {group for group, count in uses.items() if count > 1}

    def open_draft(self) -> pq.ParquetFile:
        with self._lock:
            if self._draft is None:
                self._draft = pq.ParquetFile(self.folder / DRAFT_FILE, pre_buffer=False)
            return self._draft

    def read_tenant(self, tenant_id: str) -> pa.Table:
        """The tenant's draft rows, from its own row groups only."""
        part = self.tenants[tenant_id]
        draft = self.open_draft()
        if not part.row_groups:
            return draft.schema_arrow.empty_table()
        # One thread: decoding in Arrow's pool of threads leaves freed blocks in
        # each thread's heap, resident long after (tens of MB a tenant), and the
        # budget is about resident memory.
        shared = bool(self._shared.intersection(part.row_groups))
        # The tenant column is the same on every row of a tenant's own row groups.
        columns = [n for n in draft.schema_arrow.names if shared or n != "tenant_id"]
        with self._lock:
            table = draft.read_row_groups(list(part.row_groups), columns, use_threads=False)
        if shared:
            table = table.filter(pc.equal(table["tenant_id"], tenant_id))
        return table

    def read_known(self) -> dict[str, pa.Array]:
        """Every tenant's SKU ids (with a draft or not), ascending, as Arrow arrays:
        no Python object a SKU until one is needed."""
        skus = pq.ParquetFile(self.folder / SKUS_FILE).read(
            columns=["tenant_id", "sku_id"], use_threads=False
        )
        skus = skus.sort_by([("tenant_id", "ascending"), ("sku_id", "ascending")])
        names = skus["sku_id"].combine_chunks()
        known = {name: names.slice(0, 0) for name in self.tenants}
        for tenant_id, start, count in runs(skus["tenant_id"]):
            known[tenant_id] = names.slice(start, count)
        return known


class Generation:
    """One build, its retention cutoff, and the tenants held (least recently used first)."""

    def __init__(
        self,
        number: int,
        source: BuildSource,
        copy: LocalCopy,
        mode: LoadMode,
        cutoff: dt.date,
        known: Mapping[str, pa.Array],
    ) -> None:
        self.number = number
        self.source = source
        self.publication = source.publication
        self.copy = copy
        self.mode = mode
        self.cutoff = cutoff
        self.created_at = time.monotonic()
        self.known = dict(known)
        # A tenant's SKUs, answering negative look-ups: on demand a frozenset held
        # for every tenant; preloaded, each tenant's rows' own index.
        self.directory: dict[str, Collection[str]] = {}
        self.directory_bytes: int = sum(int(skus.nbytes) for skus in known.values())
        if mode == "on_demand":
            self.directory = {name: frozenset(skus.to_pylist()) for name, skus in known.items()}
            self.directory_bytes += sum(len(skus) for skus in known.values()) * DIRECTORY_BYTES
        self.resident: OrderedDict[str, TenantRows] = OrderedDict()
        self.loading: dict[str, asyncio.Task[TenantRows]] = {}
        # Set once the next generation serves: its copy is pruned, none is written.
        self.retired = False
        if mode == "on_demand":
            source.open_draft()

    @property
    def build_id(self) -> str:
        return self.publication.build_id

    @property
    def age_seconds(self) -> float:
        return time.monotonic() - self.created_at

    @property
    def rows(self) -> int:
        return sum(tenant.rows for tenant in self.resident.values())

    @property
    def nbytes(self) -> int:
        return self.directory_bytes + sum(tenant.nbytes for tenant in self.resident.values())

    def estimate(self, tenant_id: str) -> int:
        return estimate_bytes(self.source.tenants[tenant_id], self.publication.columns)

    def _copied(self, tenant_id: str) -> tuple[TenantRows, dt.date] | None:
        return self.copy.read(
            tenant_id, self.source.codes[tenant_id], self.known[tenant_id], self.cutoff
        )

    def read_tenant(self, tenant_id: str) -> TenantRows:
        """The tenant's rows as of the cutoff: from the local copy, else the Parquet.

        Rows decoded from the Parquet (or cut by retention) are written to the
        copy and then served from it, so what is held is the mapped file's
        columns and none of the decoding's leftovers.
        """
        rows = self._read(tenant_id)
        rows.touch()
        return rows

    def _read(self, tenant_id: str) -> TenantRows:
        found = self._copied(tenant_id)
        if found is not None and found[1] == self.cutoff:
            return found[0]
        if found is None:
            rows = encode_tenant(
                tenant_id, self.source.read_tenant(tenant_id), self.known[tenant_id]
            )
        else:
            rows = found[0]
        kept = rows.retained(self.publication.published_at.date(), self.cutoff)
        if (found is not None and kept is rows) or self.retired:
            return kept
        code = self.source.codes[tenant_id]
        if self.copy.write(code, self.cutoff, kept):
            mapped = self.copy.mapped(code, self.cutoff)
            if mapped is not None:
                return kept.on(mapped)
        return kept

    def hold(self, tenant_id: str, rows: TenantRows) -> None:
        """Hold a loaded tenant; in a preloaded generation its SKUs are the directory."""
        self.resident[tenant_id] = rows
        if self.mode == "preload":
            self.directory[tenant_id] = rows.codes
