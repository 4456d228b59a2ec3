"""What the planning page reads beside the forecast: SKUs, history, accuracy.

The ``/skus``, ``/history`` and ``/accuracy`` routes read only through
``PageReads``, a handful of small questions about one tenant
(``page_reads`` picks the answerer). The answer here, ``PublishedPageData``,
reads the tables a build publishes beside its draft
(``snapshot.PAGE_TABLES``), for the embedded and PostgreSQL backends: the
SKU list and the accuracy rows are held in memory (one entry per SKU, at
most nine rows per series), the history stays in its memory-mapped Parquet
file and one series' rows are read on demand (one or two row groups). On
emulator and snowflake the warehouse's own tables answer the same questions
(``stores/warehouse_page.py``), later rather than now: a route waits for
each answer with ``resolved``.

A build published without these tables has none of them: each route then
answers ``503`` and says to run ``dbt build``.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from forecast_hub.api.edits import StoredEdit
from forecast_hub.api.errors import not_ready
from forecast_hub.api.snapshot import PAGE_TABLES, open_page_table
from forecast_hub.api.stores import Answer

if TYPE_CHECKING:
    from forecast_hub.api.state import ApiState

# The columns of sku_attributes that are not hot attributes.
SKU_FIELDS = ("tenant_id", "sku_id", "sku_name", "category")
# The roll-up's columns a client sees (the totals behind them stay in gold).
TENANT_ACCURACY_FIELDS = (
    "method",
    "series_count",
    "holdout_periods",
    "wape",
    "mae",
    "bias",
    "interval_coverage",
    "interval_level",
)
# The columns of a series' accuracy row a client sees.
SERIES_ACCURACY_FIELDS = (
    "method",
    "wape",
    "mae",
    "bias",
    "window_1_wape",
    "window_1_mae",
    "window_1_bias",
    "window_count",
    "method_rank",
    "nested_rank",
    "is_member",
    "is_nested_member",
    "is_selected",
    "window_1_coverage",
)
COMBINATION = "top3_median"


def order_series_accuracy(rows: list[dict[str, Any]]) -> None:
    """A series' rows: the combination first, then the single methods by rank."""
    rows.sort(key=lambda r: (r["method"] != COMBINATION, r["method_rank"] or 0))


def order_tenant_accuracy(rows: list[dict[str, Any]]) -> None:
    """The roll-up: the combination first, then the methods by WAPE."""
    rows.sort(key=lambda r: (r["method"] != COMBINATION, _order(r["wape"])))


@dataclass(frozen=True)
class SkuEntry:
    """One forecast SKU as the search lists it."""

    sku_id: str
    sku_name: str | None
    category: str | None
    attributes: Mapping[str, Any]
    method: str
    members: tuple[str, ...] | None
    wape: float | None
    first_forecast_date: dt.date
    last_forecast_date: dt.date
    search_text: str

    def to_json(self, edit_count: int) -> dict[str, Any]:
        return {
            "sku_id": self.sku_id,
            "sku_name": self.sku_name,
            "category": self.category,
            **self.attributes,
            "method": self.method,
            "members": None if self.members is None else list(self.members),
            "wape": self.wape,
            "edit_count": edit_count,
        }


@dataclass(frozen=True)
class HistoryRow:
    period_date: dt.date
    qty: float

    def to_json(self) -> dict[str, Any]:
        return {"period_date": self.period_date, "qty": self.qty}


class PageReads(Protocol):
    """The questions the page's routes ask about one tenant of one build."""

    @property
    def missing(self) -> tuple[str, ...]:
        """Tables this build lacks; the page's routes answer 503 while any is missing."""

    def grain(self, tenant_id: str) -> Answer[str | None]: ...

    def hot_attributes(self) -> Answer[tuple[str, ...]]: ...

    def categories(self, tenant_id: str) -> Answer[list[str]]: ...

    def find_skus(
        self, tenant_id: str, text: str | None, category: str | None, after: str | None, limit: int
    ) -> Answer[list[SkuEntry]]:
        """Forecast SKUs in id order after ``after`` whose id or name holds ``text``."""

    def is_known(self, tenant_id: str, sku_id: str) -> Answer[bool]:
        """A SKU of the tenant, with or without a draft."""

    def history(
        self, tenant_id: str, sku_id: str, start: dt.date | None, end: dt.date | None, limit: int
    ) -> Answer[list[HistoryRow]]:
        """A series' periods from start to end, in date order, at most limit of them."""

    def tenant_accuracy(self, tenant_id: str) -> Answer[list[dict[str, Any]]]: ...

    def series_accuracy(self, tenant_id: str, sku_id: str) -> Answer[list[dict[str, Any]]]: ...


async def page_reads(state: ApiState, tenant_id: str) -> tuple[PageReads, dict[str, str]]:
    """What answers the page's questions on this backend, and the headers of the answer."""
    if state.warehouse is not None:
        return state.warehouse.page, await state.warehouse.page.headers(tenant_id)
    generation = state.cache.current()
    reads = await state.page_data.for_build(generation.build_id)
    return reads, state.freshness_headers(generation, tenant_id)


def edit_counts(
    edits: Mapping[tuple[str, dt.date], StoredEdit], skus: Sequence[SkuEntry]
) -> dict[str, int]:
    """The live edits of each SKU inside its forecast horizon (what the grid shows)."""
    horizons = {sku.sku_id: (sku.first_forecast_date, sku.last_forecast_date) for sku in skus}
    counts = dict.fromkeys(horizons, 0)
    for (sku_id, date), edit in edits.items():
        span = horizons.get(sku_id)
        if span is not None and not edit.is_removed and span[0] <= date <= span[1]:
            counts[sku_id] += 1
    return counts


@dataclass
class TenantPage:
    """One tenant's share of the page's tables."""

    grain: str | None = None
    skus: list[SkuEntry] = field(default_factory=list)
    sku_ids: list[str] = field(default_factory=list)
    known: set[str] = field(default_factory=set)
    accuracy: list[dict[str, Any]] = field(default_factory=list)
    series_accuracy: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # sku_id -> (first row, rows) of the series in the history file.
    history_rows: dict[str, tuple[int, int]] = field(default_factory=dict)


def _series_runs(table: pq.ParquetFile) -> list[tuple[str, str, int, int]]:
    """(tenant_id, sku_id, first row, rows) of each series of a file sorted by both.

    The two key columns are read dictionary-encoded and compared as codes, so no
    per-row string is made.
    """
    keys = table.read(columns=["tenant_id", "sku_id"]).unify_dictionaries().combine_chunks()
    if keys.num_rows == 0:
        return []
    tenants, skus = keys["tenant_id"].chunk(0), keys["sku_id"].chunk(0)
    rows = keys.num_rows
    tenant_codes, sku_codes = tenants.indices, skus.indices
    changed = pc.or_(
        pc.not_equal(tenant_codes.slice(1), tenant_codes.slice(0, rows - 1)),
        pc.not_equal(sku_codes.slice(1), sku_codes.slice(0, rows - 1)),
    )
    starts = [0, *(int(index) + 1 for index in pc.indices_nonzero(changed).to_pylist())]
    ends = [*starts[1:], rows]
    firsts = pa.array(starts, pa.int64())
    tenant_names = tenants.dictionary.take(tenant_codes.take(firsts)).to_pylist()
    sku_names = skus.dictionary.take(sku_codes.take(firsts)).to_pylist()
    return [
        (tenant_id, sku_id, first, last - first)
        for tenant_id, sku_id, first, last in zip(
            tenant_names, sku_names, starts, ends, strict=True
        )
    ]


def _drafted_series(folder: Path) -> list[dict[str, Any]]:
    """One row per drafted series, in (tenant, SKU) order: its method, members and the
    first and last date of its horizon (the draft is sorted by tenant, SKU and date)."""
    path = folder / "draft.parquet"
    runs = _series_runs(pq.ParquetFile(path, read_dictionary=["tenant_id", "sku_id"]))
    draft = pq.ParquetFile(path)
    names = ["forecast_date", "method"]
    has_members = "members" in draft.schema_arrow.names
    table = draft.read(columns=[*names, "members"] if has_members else names)
    firsts = table.take(pa.array([first for _, _, first, _ in runs], pa.int64())).to_pydict()
    lasts = table.take(pa.array([first + rows - 1 for _, _, first, rows in runs], pa.int64()))
    last_dates = lasts["forecast_date"].to_pylist()
    return [
        {
            "tenant_id": tenant_id,
            "sku_id": sku_id,
            "method": firsts["method"][index],
            "members": firsts["members"][index] if has_members else None,
            "first_forecast_date": firsts["forecast_date"][index],
            "last_forecast_date": last_dates[index],
        }
        for index, (tenant_id, sku_id, _, _) in enumerate(runs)
    ]


class PublishedPageData:
    """The page's tables of one published build."""

    def __init__(self, serving_dir: Path, build_id: str) -> None:
        self.build_id = build_id
        self._tenants: dict[str, TenantPage] = {}
        self._hot: tuple[str, ...] = ()
        self._group_starts: list[int] = []
        handles = {name: open_page_table(serving_dir, build_id, name) for name in PAGE_TABLES}
        self._missing = tuple(name for name, handle in handles.items() if handle is None)
        self._history = handles["series_history"]
        if self._missing:
            return
        tables = {
            name: handle.read()
            for name, handle in handles.items()
            if handle is not None and name != "series_history"
        }
        for row in tables["tenants"].to_pylist():
            self._tenant(row["tenant_id"]).grain = row["grain"]
        self._load_accuracy(tables["series_accuracy"], tables["tenant_accuracy"])
        self._load_skus(tables["sku_attributes"], _drafted_series(serving_dir / build_id))
        self._load_history_index(serving_dir, build_id)

    def _tenant(self, tenant_id: str) -> TenantPage:
        return self._tenants.setdefault(tenant_id, TenantPage())

    def _load_history_index(self, serving_dir: Path, build_id: str) -> None:
        keys = open_page_table(
            serving_dir, build_id, "series_history", read_dictionary=("tenant_id", "sku_id")
        )
        assert keys is not None and self._history is not None
        for tenant_id, sku_id, first, rows in _series_runs(keys):
            self._tenant(tenant_id).history_rows[sku_id] = (first, rows)
        metadata = self._history.metadata
        starts = [0]
        for group in range(metadata.num_row_groups):
            starts.append(starts[-1] + metadata.row_group(group).num_rows)
        self._group_starts = starts

    @property
    def missing(self) -> tuple[str, ...]:
        return self._missing

    def _load_accuracy(self, series: pa.Table, tenant: pa.Table) -> None:
        for row in series.to_pylist():
            tenant_id, sku_id = row.pop("tenant_id"), row.pop("sku_id")
            self._tenant(tenant_id).series_accuracy.setdefault(sku_id, []).append(row)
        for rows in (r for t in self._tenants.values() for r in t.series_accuracy.values()):
            order_series_accuracy(rows)
        for row in tenant.to_pylist():
            entry = {name: row.get(name) for name in TENANT_ACCURACY_FIELDS}
            self._tenant(row["tenant_id"]).accuracy.append(entry)
        for page in self._tenants.values():
            order_tenant_accuracy(page.accuracy)

    def _load_skus(self, attributes: pa.Table, drafted: list[dict[str, Any]]) -> None:
        self._hot = tuple(name for name in attributes.column_names if name not in SKU_FIELDS)
        described = {(row["tenant_id"], row["sku_id"]): row for row in attributes.to_pylist()}
        for tenant_id, sku_id in described:
            self._tenant(tenant_id).known.add(sku_id)
        for series in drafted:
            tenant_id, sku_id = series["tenant_id"], series["sku_id"]
            page = self._tenant(tenant_id)
            page.known.add(sku_id)
            row = described.get((tenant_id, sku_id), {})
            name = row.get("sku_name")
            members = series["members"]
            scored = [
                r for r in page.series_accuracy.get(sku_id, []) if r["method"] == series["method"]
            ]
            page.skus.append(
                SkuEntry(
                    sku_id=sku_id,
                    sku_name=name,
                    category=row.get("category"),
                    attributes={attribute: row.get(attribute) for attribute in self._hot},
                    method=series["method"],
                    members=None if members is None else tuple(members.split(",")),
                    wape=scored[0]["window_1_wape"] if scored else None,
                    first_forecast_date=series["first_forecast_date"],
                    last_forecast_date=series["last_forecast_date"],
                    search_text=f"{sku_id}\n{name or ''}".casefold(),
                )
            )
        for page in self._tenants.values():
            page.sku_ids = [sku.sku_id for sku in page.skus]

    def grain(self, tenant_id: str) -> str | None:
        page = self._tenants.get(tenant_id)
        return None if page is None else page.grain

    def hot_attributes(self) -> tuple[str, ...]:
        return self._hot

    def categories(self, tenant_id: str) -> list[str]:
        page = self._tenants.get(tenant_id) or TenantPage()
        return sorted({sku.category for sku in page.skus if sku.category is not None})

    def find_skus(
        self, tenant_id: str, text: str | None, category: str | None, after: str | None, limit: int
    ) -> list[SkuEntry]:
        page = self._tenants.get(tenant_id) or TenantPage()
        needle = text.casefold() if text else None
        found: list[SkuEntry] = []
        first = bisect.bisect_right(page.sku_ids, after) if after is not None else 0
        for sku in page.skus[first:]:
            if (needle is None or needle in sku.search_text) and (
                category is None or sku.category == category
            ):
                found.append(sku)
                if len(found) == limit:
                    break
        return found

    def is_known(self, tenant_id: str, sku_id: str) -> bool:
        page = self._tenants.get(tenant_id)
        return page is not None and sku_id in page.known

    def history(
        self, tenant_id: str, sku_id: str, start: dt.date | None, end: dt.date | None, limit: int
    ) -> list[HistoryRow]:
        page = self._tenants.get(tenant_id)
        span = None if page is None else page.history_rows.get(sku_id)
        if span is None or self._history is None:
            return []
        first, rows = span
        low = bisect.bisect_right(self._group_starts, first) - 1
        high = bisect.bisect_left(self._group_starts, first + rows)
        table = self._history.read_row_groups(range(low, high), columns=["period_date", "qty"])
        table = table.slice(first - self._group_starts[low], rows)
        dates = table["period_date"]
        mask = None
        if start is not None:
            mask = pc.greater_equal(dates, pa.scalar(start, pa.date32()))
        if end is not None:
            before = pc.less_equal(dates, pa.scalar(end, pa.date32()))
            mask = before if mask is None else pc.and_(mask, before)
        if mask is not None:
            table = table.filter(mask)
        table = table.slice(0, limit)
        return [
            HistoryRow(date, float(qty))
            for date, qty in zip(
                table["period_date"].to_pylist(), table["qty"].to_pylist(), strict=True
            )
        ]

    def tenant_accuracy(self, tenant_id: str) -> list[dict[str, Any]]:
        page = self._tenants.get(tenant_id)
        return [] if page is None else page.accuracy

    def series_accuracy(self, tenant_id: str, sku_id: str) -> list[dict[str, Any]]:
        page = self._tenants.get(tenant_id)
        return [] if page is None else page.series_accuracy.get(sku_id, [])


def _order(score: float | None) -> float:
    return float("inf") if score is None else score


class PageDataCache:
    """The page data of the build being served, loaded once per build, off the event loop."""

    def __init__(self, serving_dir: Path) -> None:
        self.serving_dir = serving_dir
        self._loaded: PublishedPageData | None = None
        self._lock = asyncio.Lock()

    async def _load(self, build_id: str) -> PublishedPageData:
        try:
            return await asyncio.to_thread(PublishedPageData, self.serving_dir, build_id)
        except (OSError, ValueError, KeyError, pa.ArrowException) as error:
            raise not_ready(
                f"could not read the planning page's data of build {build_id}: {error}"
            ) from None

    async def for_build(self, build_id: str) -> PageReads:
        """The page data of a build; 503 when the build was published without it."""
        loaded = self._loaded
        if loaded is None or loaded.build_id != build_id:
            async with self._lock:
                if self._loaded is None or self._loaded.build_id != build_id:
                    self._loaded = await self._load(build_id)
                loaded = self._loaded
        if loaded.missing:
            raise not_ready(
                f"build {build_id} was published without the planning page's"
                f" {', '.join(loaded.missing)}: run `dbt build` to publish a new one"
            )
        return loaded
