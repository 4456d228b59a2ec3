"""One tenant's draft in columns: what the forecast cache holds per tenant.

The key of a row (SKU, forecast date) is packed into one sorted integer,
``sku_code << 32 | day``: the SKU's position among the tenant's SKUs (in
SKU order) and the date's day number. Each SKU is a slice of the rows
(``offsets``); the values are numpy columns beside the keys, with null
intervals as NaN. What is the same for every row of a SKU (its method,
members, built_at) is held once per SKU. So a point read is a dictionary
look-up and a bisection, a SKU's page is a few slices, and the memory is the
columns plus about a hundred bytes per SKU.

A ``TenantRows`` never changes once built; ``retained`` makes a new one.
"""

from __future__ import annotations

import bisect
import copy
import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

SKU_SHIFT = 32
DAY_OFFSET = 2**31
DAY_MASK = 2**32 - 1
MAX_SKUS = 2**31 - 1
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
# Python objects per SKU beyond the columns: its id (a str), the dictionary
# entry naming its position (and the int) and the list slots of its id, method
# and members; 135 measured with tracemalloc on ids of 10 characters.
SERIES_BYTES = 136
ROW_KEY_BYTES = 8
FLOAT_BYTES = 8
PAGE_BYTES = 4096


# A date's day bits in a key: its ordinal plus this.
ORDINAL_TO_DAY = DAY_OFFSET - EPOCH_ORDINAL
# About 55 years of dates, 40 bytes each, made once per tenant.
MAX_DATE_TABLE = 20_000
DATE_BYTES = 40
# Per SKU: its interval has no null, some, or is all null.
NO_GAPS, SOME_GAPS, ALL_GAPS = 0, 1, 2


def day_number(date: dt.date) -> int:
    return date.toordinal() - EPOCH_ORDINAL


def _date_table(keys: Ints, offsets: Ints) -> tuple[int, npt.NDArray[np.object_] | None]:
    """The lowest day bits of ``keys`` and the date of every day from there to the
    highest, so a slice's dates are one subtraction and one take; no table for
    dates more than MAX_DATE_TABLE days apart (their dates are made one by one)."""
    if not len(keys):
        return 0, None
    # Dates ascend within a SKU: its first and last rows hold its extremes.
    filled = offsets[1:] > offsets[:-1]
    first = int((keys[offsets[:-1][filled]] & DAY_MASK).min())
    last = int((keys[offsets[1:][filled] - 1] & DAY_MASK).max())
    if last - first >= MAX_DATE_TABLE:
        return first, None
    ordinal = first - ORDINAL_TO_DAY
    table = np.empty(last - first + 1, dtype=object)
    table[:] = [dt.date.fromordinal(ordinal + k) for k in range(last - first + 1)]
    return first, table


class SkuSeries(NamedTuple):
    """One SKU's draft over a window of dates, as Python values, dates ascending.

    ``lower_qty`` and ``upper_qty`` are None when the build publishes no
    interval (a row of a SKU without one has None in them).
    """

    method: str
    dates: Sequence[dt.date]
    steps: Sequence[int]
    draft_qty: Sequence[float]
    lower_qty: Sequence[float | None] | None = None
    upper_qty: Sequence[float | None] | None = None
    members: str | None = None

    def span(self, start: dt.date | None, end: dt.date | None) -> range:
        low = bisect.bisect_left(self.dates, start) if start else 0
        high = bisect.bisect_right(self.dates, end) if end else len(self.dates)
        return range(low, high)

    def has_date(self, date: dt.date) -> bool:
        index = bisect.bisect_left(self.dates, date)
        return index < len(self.dates) and self.dates[index] == date


def _small_ints(values: npt.NDArray[np.integer]) -> npt.NDArray[np.integer]:
    """Integers in the narrowest of int16 and int32 that holds them."""
    if len(values) == 0 or (values.min() >= -(2**15) and values.max() < 2**15):
        return values.astype(np.int16)
    return values.astype(np.int32)


def _floats(column: pa.ChunkedArray | pa.Array) -> Floats:
    """A double column as float64, null as NaN."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return np.asarray(pc.fill_null(array.cast(pa.float64()), np.nan).to_numpy(), dtype=np.float64)


def _interval(column: Floats, low: int, high: int, gaps: int) -> list[float | None]:
    """A slice of an interval column as Python values, NaN as None."""
    if gaps == ALL_GAPS:
        return [None] * (high - low)
    values: list[float | None] = column[low:high].tolist()
    if gaps == SOME_GAPS:
        return [None if value != value else value for value in values]
    return values


class TenantRows:
    """One tenant's draft: packed sorted keys, value columns, one slice per SKU."""

    __slots__ = (
        "_date_base",
        "_dates",
        "_keys",
        "_offsets",
        "_quantities",
        "built_at",
        "codes",
        "draft_qty",
        "interval_gaps",
        "keys",
        "lower_qty",
        "members",
        "methods",
        "offsets",
        "sku_order",
        "step",
        "tenant_id",
        "upper_qty",
    )

    def __init__(
        self,
        tenant_id: str,
        sku_order: list[str],
        known: Iterable[str],
        keys: Ints,
        step: npt.NDArray[np.integer],
        draft_qty: Floats,
        methods: list[str],
        built_at: Ints,
        lower_qty: Floats | None = None,
        upper_qty: Floats | None = None,
        members: list[str | None] | None = None,
    ) -> None:
        if len(sku_order) > MAX_SKUS:
            raise ValueError(f"tenant {tenant_id} has more than {MAX_SKUS} SKUs")
        self.tenant_id = tenant_id
        self.sku_order = sku_order
        # Keyed by the ids of sku_order (one str object a SKU, not two).
        codes = dict(zip(sku_order, range(len(sku_order)), strict=True))
        codes.update(dict.fromkeys(set(known).difference(codes), -1))
        self.codes = codes
        self.keys = keys
        self.step = step
        self.draft_qty = draft_qty
        self.lower_qty = lower_qty
        self.upper_qty = upper_qty
        self.methods = methods
        self.members = members
        self.built_at = built_at
        bounds = np.arange(len(sku_order) + 1, dtype=np.int64) << SKU_SHIFT
        self.offsets: Ints = np.searchsorted(keys, bounds).astype(np.int64)
        self._keys = keys.data
        self._quantities = draft_qty.data
        self._offsets = self.offsets.data
        self._date_base, self._dates = _date_table(keys, self.offsets)
        # Per SKU: NO_GAPS, SOME_GAPS or ALL_GAPS (its rows then need None, not NaN).
        self.interval_gaps: npt.NDArray[np.int8] | None = None
        if lower_qty is not None and upper_qty is not None and len(sku_order):
            gaps = (np.isnan(lower_qty) | np.isnan(upper_qty)).astype(np.int64)
            starts = self.offsets[:-1]
            counts = np.add.reduceat(gaps, starts) if len(keys) else starts
            sizes = self.offsets[1:] - starts
            self.interval_gaps = np.where(
                counts == 0, NO_GAPS, np.where(counts == sizes, ALL_GAPS, SOME_GAPS)
            ).astype(np.int8)

    # -- size -----------------------------------------------------------------------

    @property
    def rows(self) -> int:
        return len(self.keys)

    @property
    def nbytes(self) -> int:
        """The columns' bytes and the Python objects per SKU."""
        columns: list[npt.NDArray[Any]] = [
            self.keys,
            self.step,
            self.draft_qty,
            self.offsets,
            self.built_at,
        ]
        optional = (self.lower_qty, self.upper_qty, self.interval_gaps)
        columns += [column for column in optional if column is not None]
        dates = 0 if self._dates is None else len(self._dates) * DATE_BYTES
        return sum(column.nbytes for column in columns) + SERIES_BYTES * len(self.codes) + dates

    def touch(self) -> None:
        """Read one byte of every page, so mapped columns are resident before a request."""
        for column in (self.keys, self.step, self.draft_qty, self.lower_qty, self.upper_qty):
            if column is not None and column.nbytes:
                int(column.view(np.uint8)[::PAGE_BYTES].sum())

    def on(self, columns: Mapping[str, npt.NDArray[Any]]) -> TenantRows:
        """The same tenant over other storage of equal columns (a mapped copy of them):
        the per-SKU Python objects are shared, not made again."""
        twin = copy.copy(self)
        twin.keys, twin.step, twin.draft_qty = columns["key"], columns["step"], columns["draft_qty"]
        twin.lower_qty, twin.upper_qty = columns.get("lower_qty"), columns.get("upper_qty")
        twin._keys, twin._quantities = twin.keys.data, twin.draft_qty.data
        return twin

    # -- reads ----------------------------------------------------------------------

    def knows_sku(self, sku_id: str) -> bool:
        return sku_id in self.codes

    def _bounds(self, code: int, start: dt.date | None, end: dt.date | None) -> tuple[int, int]:
        low, high = self._offsets[code], self._offsets[code + 1]
        prefix = code << SKU_SHIFT
        if start is not None:
            first = prefix | (start.toordinal() + ORDINAL_TO_DAY)
            low = bisect.bisect_left(self._keys, first, low, high)
        if end is not None:
            last = prefix | (end.toordinal() + ORDINAL_TO_DAY)
            high = bisect.bisect_right(self._keys, last, low, high)
        return low, high

    def row_of(self, sku_id: str, date: dt.date) -> int | None:
        """The row of one SKU and date, or None."""
        code = self.codes.get(sku_id, -1)
        if code < 0:
            return None
        low, high = self._offsets[code], self._offsets[code + 1]
        key = (code << SKU_SHIFT) | (date.toordinal() + ORDINAL_TO_DAY)
        index = bisect.bisect_left(self._keys, key, low, high)
        return index if index < high and self._keys[index] == key else None

    def draft_qty_of(self, sku_id: str, date: dt.date) -> float | None:
        """The draft quantity of one SKU and date, or None."""
        index = self.row_of(sku_id, date)
        return None if index is None else self._quantities[index]

    def rows_of(
        self, sku_id: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> range:
        """The rows of the SKU's draft from start to end (inclusive), to slice the
        columns with; empty for a SKU without one."""
        code = self.codes.get(sku_id, -1)
        return range(0) if code < 0 else range(*self._bounds(code, start, end))

    def has_date(self, sku_id: str, date: dt.date) -> bool:
        return self.row_of(sku_id, date) is not None

    def series(
        self,
        sku_id: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        limit: int | None = None,
    ) -> SkuSeries | None:
        """The SKU's draft from start to end (inclusive), at most limit rows; None: no draft."""
        code = self.codes.get(sku_id, -1)
        if code < 0:
            return None
        low, high = self._bounds(code, start, end)
        if limit is not None and high - low > limit:
            high = low + limit
        # The slice's keys all start with the SKU's code: less it and the lowest
        # day, each is its date's place in the table.
        places = self.keys[low:high] - np.int64((code << SKU_SHIFT) + self._date_base)
        lower: list[float | None] | None = None
        upper: list[float | None] | None = None
        if self.lower_qty is not None and self.upper_qty is not None:
            gaps = NO_GAPS if self.interval_gaps is None else int(self.interval_gaps[code])
            lower = _interval(self.lower_qty, low, high, gaps)
            upper = _interval(self.upper_qty, low, high, gaps)
        return SkuSeries(
            method=self.methods[code],
            dates=self._dates_at(places),
            steps=self.step[low:high].tolist(),
            draft_qty=self.draft_qty[low:high].tolist(),
            lower_qty=lower,
            upper_qty=upper,
            members=None if self.members is None else self.members[code],
        )

    def _dates_at(self, places: Ints) -> list[dt.date]:
        if self._dates is not None:
            dates: list[dt.date] = self._dates[places].tolist()
            return dates
        ordinal = self._date_base - ORDINAL_TO_DAY
        return [dt.date.fromordinal(ordinal + place) for place in places.tolist()]

    # -- retention ------------------------------------------------------------------

    def period_ends(self) -> Ints:
        """The day each row's period ends (exclusive): the next row's date in its SKU;
        for a SKU's last row, one more step of its spacing (a month for monthly dates)."""
        days = (self.keys & DAY_MASK) - DAY_OFFSET
        ends = np.empty_like(days)
        ends[:-1] = days[1:]
        starts, stops = self.offsets[:-1], self.offsets[1:]
        present = stops > starts
        last = stops[present] - 1
        has_prev = last > starts[present]
        prev = np.where(has_prev, last - 1, last)
        gap = np.where(has_prev, days[last] - days[prev], 1)
        end = days[last] + gap
        as_dates = days.astype("datetime64[D]")
        first_of_month = as_dates == as_dates.astype("datetime64[M]").astype("datetime64[D]")
        monthly = has_prev & first_of_month[last] & first_of_month[prev] & (gap >= 28) & (gap <= 31)
        next_month = (as_dates[last].astype("datetime64[M]") + 1).astype("datetime64[D]")
        end = np.where(monthly, next_month.astype(np.int64), end)
        ends[last] = end
        return ends

    def retained(self, published: dt.date, today: dt.date) -> TenantRows:
        """Without the periods that ended after ``published`` and by ``today``; self if none."""
        if not len(self.keys) or today <= published:
            return self
        ends = self.period_ends()
        dropped = (ends > day_number(published)) & (ends <= day_number(today))
        if not dropped.any():
            return self
        return self.take(np.flatnonzero(~dropped))

    def take(self, rows: Ints) -> TenantRows:
        """These rows only (ascending); SKUs left without a row keep only their name."""
        codes = self.keys[rows] >> SKU_SHIFT
        kept = np.unique(codes)
        renumber = np.full(len(self.sku_order), -1, dtype=np.int64)
        renumber[kept] = np.arange(len(kept), dtype=np.int64)
        keys = (renumber[codes] << SKU_SHIFT) | (self.keys[rows] & DAY_MASK)
        pick = kept.tolist()
        return TenantRows(
            self.tenant_id,
            [self.sku_order[code] for code in pick],
            self.codes,
            keys.astype(np.int64),
            self.step[rows],
            self.draft_qty[rows],
            [self.methods[code] for code in pick],
            self.built_at[kept],
            None if self.lower_qty is None else self.lower_qty[rows],
            None if self.upper_qty is None else self.upper_qty[rows],
            None if self.members is None else [self.members[code] for code in pick],
        )


def labels(values: pa.Array | pa.ChunkedArray) -> list[str | None]:
    """A string column as Python values, one object per distinct value (a few
    methods, many SKUs), made without a str per row."""
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    encoded = array.dictionary_encode()
    names: list[str | None] = [*encoded.dictionary.to_pylist(), None]
    return list(map(names.__getitem__, pc.fill_null(encoded.indices, -1).to_numpy().tolist()))


def without_draft(known: pa.Array | Iterable[str], drafted: pa.Array) -> list[str]:
    """The ids of ``known`` not in ``drafted``, made as Python objects only for those."""
    if not isinstance(known, pa.Array):
        known = pa.array(list(known), pa.string())
    if len(known) == 0:
        return []
    missing = pc.invert(pc.is_in(known, value_set=drafted))
    return [str(sku) for sku in known.filter(missing).to_pylist()]


def _series_starts(skus: pa.Array) -> tuple[list[str], Ints]:
    """The SKU of each run of equal ids, and the run's first row."""
    if len(skus) == 0:
        return [], np.zeros(0, dtype=np.int64)
    changed = pc.indices_nonzero(pc.not_equal(skus[1:], skus[:-1])).to_numpy()
    starts = np.concatenate([[0], changed.astype(np.int64) + 1])
    return skus.take(pa.array(starts)).to_pylist(), starts


def encode_tenant(tenant_id: str, draft: pa.Table, known: pa.Array | Iterable[str]) -> TenantRows:
    """One tenant's published rows (sorted by SKU and date) in columns.

    ``known`` are the tenant's SKU ids, with or without a draft. A draft that
    is not sorted is sorted here; two rows of one SKU and date are a ValueError.
    """
    sku_column = draft["sku_id"].combine_chunks()
    sku_order, starts = _series_starts(sku_column)
    if any(a >= b for a, b in itertools.pairwise(sku_order)):
        draft = draft.sort_by([("sku_id", "ascending"), ("forecast_date", "ascending")])
        return encode_tenant(tenant_id, draft, known)
    counts = np.diff(np.append(starts, draft.num_rows))
    codes = np.repeat(np.arange(len(sku_order), dtype=np.int64), counts)
    days = pc.cast(draft["forecast_date"].combine_chunks(), pa.int32()).to_numpy()
    keys = (codes << SKU_SHIFT) | (days.astype(np.int64) + DAY_OFFSET)
    if len(keys) > 1 and not bool(np.all(keys[1:] > keys[:-1])):
        if bool(np.any(keys[1:] == keys[:-1])):
            raise ValueError(f"tenant {tenant_id}'s draft has two rows of one SKU and date")
        draft = draft.sort_by([("sku_id", "ascending"), ("forecast_date", "ascending")])
        return encode_tenant(tenant_id, draft, known)
    take = pa.array(starts)
    extra = without_draft(known, sku_column.take(take))
    methods = labels(draft["method"].combine_chunks().take(take))
    built = pc.cast(draft["built_at"].combine_chunks().take(take), pa.int64())
    has_interval = "lower_qty" in draft.column_names and "upper_qty" in draft.column_names
    members = None
    if "members" in draft.column_names:
        members = labels(draft["members"].combine_chunks().take(take))
    return TenantRows(
        tenant_id,
        sku_order,
        extra,
        keys,
        _small_ints(draft["step"].combine_chunks().to_numpy()),
        _floats(draft["draft_qty"]),
        [str(method) for method in methods],
        np.asarray(pc.fill_null(built, 0).to_numpy(), dtype=np.int64),
        _floats(draft["lower_qty"]) if has_interval else None,
        _floats(draft["upper_qty"]) if has_interval else None,
        members,
    )
