"""One tenant's draft in columns: what the forecast cache holds per tenant.

Each SKU with a draft has a position among the tenant's SKUs (in SKU order)
and a slice of the rows (``offsets``), its dates ascending within it. A row
holds its date as a day number from the tenant's first day (``days``,
two bytes for any span under 65,536 days), its step and its quantities,
with null intervals as NaN. What is the same for every row of a SKU (its
method, members, built_at, the spacing of its dates) is held once per SKU.
What a read needs of a SKU (its first and end rows, first day, the spacing
of its dates, whether its interval has nulls, its method and members) sits
side by side in one index entry, so it costs one fetch from memory. A point
read is then a dictionary look-up and a division (a bisection within the
SKU's slice for unevenly spaced dates), a SKU's page is a few slices of the
columns (its dates a stride of one table of dates made once per tenant),
and the memory is the columns plus under two hundred bytes per SKU.

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

MAX_SKUS = 2**31 - 1
EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
# Python objects per SKU beyond the columns: its id (a str), the dictionary
# entry naming its position (and the int) and the list slots of its id, method
# and members; 135 measured with tracemalloc on ids of 10 characters.
SERIES_BYTES = 136
# A row's day: uint16 when the tenant's dates span fewer than 65,536 days.
DAY_BYTES = 2
FLOAT_BYTES = 8
PAGE_BYTES = 4096
# A SKU's entry in the index: what a read needs of it, side by side in 32
# bytes (eight int32, the last unused) so an entry never straddles two cache
# lines.
FIRST_ROW, END_ROW, FIRST_DAY, SPACING, GAPS, METHOD, MEMBERS = range(7)
INDEX_FIELDS = 8
# Per SKU in the columns: its offset and built_at (8 bytes each) and its entry.
SKU_COLUMN_BYTES = 48

# About 55 years of dates, 40 bytes each, made once per tenant; past that a
# slice's dates are made one by one.
MAX_DATE_TABLE = 20_000
DATE_BYTES = 40
# Per SKU: its interval has no null, some, or is all null.
NO_GAPS, SOME_GAPS, ALL_GAPS = 0, 1, 2
# The spacing of a SKU whose dates are not evenly spaced (monthly ones).
UNEVEN = 0
MAX_SPACING = 2**15 - 1


def day_number(date: dt.date) -> int:
    return date.toordinal() - EPOCH_ORDINAL


def _date_table(base: int, days: npt.NDArray[np.integer]) -> list[dt.date] | None:
    """The date of every day from ``base`` to the last of ``days``, so a slice's
    dates are a stride or a take of a list; None past MAX_DATE_TABLE days."""
    span = int(days.max()) + 1 if len(days) else 0
    if span > MAX_DATE_TABLE:
        return None
    ordinal = base + EPOCH_ORDINAL
    return [dt.date.fromordinal(ordinal + k) for k in range(span)]


def _sku_index(
    days: npt.NDArray[np.integer],
    offsets: Ints,
    gaps: npt.NDArray[np.int8],
    method_codes: list[int],
    member_codes: list[int],
) -> npt.NDArray[np.int32]:
    """Per SKU, its entry of INDEX_FIELDS (FIRST_ROW ... MEMBERS); its first day is
    0 for a SKU without rows."""
    if len(days) >= 2**31:
        raise ValueError(f"a tenant's draft has {len(days)} rows, more than 2**31")
    index = np.zeros((len(offsets) - 1, INDEX_FIELDS), dtype=np.int32)
    index[:, FIRST_ROW], index[:, END_ROW] = offsets[:-1], offsets[1:]
    present = index[:, END_ROW] > index[:, FIRST_ROW]
    index[present, FIRST_DAY] = days[index[present, FIRST_ROW]]
    index[:, SPACING] = _spacings(days, offsets)
    index[:, GAPS] = gaps
    index[:, METHOD], index[:, MEMBERS] = method_codes, member_codes
    return index


def _interval_gaps(
    lower: Floats | None, upper: Floats | None, offsets: Ints
) -> npt.NDArray[np.int8]:
    """Per SKU: NO_GAPS, SOME_GAPS or ALL_GAPS in its interval (its rows then need
    None, not NaN); NO_GAPS for every SKU without an interval."""
    sizes = np.diff(offsets)
    if lower is None or upper is None or not len(lower) or not len(sizes):
        return np.zeros(len(sizes), dtype=np.int8)
    missing = (np.isnan(lower) | np.isnan(upper)).astype(np.int64)
    counts = np.add.reduceat(missing, offsets[:-1])
    return np.where(counts == 0, NO_GAPS, np.where(counts == sizes, ALL_GAPS, SOME_GAPS)).astype(
        np.int8
    )


def _label_codes(values: Sequence[str | None]) -> tuple[list[str | None], list[int]]:
    """The distinct values (in order of appearance) and each value's position among them."""
    positions: dict[str | None, int] = {}
    codes = [positions.setdefault(value, len(positions)) for value in values]
    return list(positions), codes


def _spacings(days: npt.NDArray[np.integer], offsets: Ints) -> npt.NDArray[np.int16]:
    """Per SKU: the days between its consecutive dates when they are all equal
    (1 for a SKU of one row), else UNEVEN."""
    sizes = np.diff(offsets)
    spacing = np.ones(len(sizes), dtype=np.int16)
    if not len(days):
        return spacing
    gaps = np.diff(days.astype(np.int64))
    # The gaps inside each SKU of two rows or more: rows offsets[k]..offsets[k+1]-2.
    several = np.flatnonzero(sizes > 1)
    if not len(several):
        return spacing
    starts = offsets[:-1][several]
    inside = np.ones(len(gaps), dtype=bool)
    inside[offsets[1:-1] - 1] = False
    lowest = np.minimum.reduceat(np.where(inside, gaps, np.iinfo(np.int64).max), starts)
    highest = np.maximum.reduceat(np.where(inside, gaps, -1), starts)
    even = (lowest == highest) & (lowest <= MAX_SPACING)
    spacing[several] = np.where(even, lowest, UNEVEN).astype(np.int16)
    return spacing


class SkuSeries(NamedTuple):
    """One SKU's draft over a window of dates, as Python values, dates ascending.

    ``lower_qty`` and ``upper_qty`` are None when the build publishes no
    interval (a row of a SKU without one has None in them). From the cache,
    ``steps`` and the quantities are read-only views of its columns, whose
    items are Python values made as they are read (a SKU whose interval has
    a null gets lists, None for the nulls): a page's floats are made once,
    by whoever reads them, not once to fill lists and again to serve them.
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


def _day_column(days: Ints) -> npt.NDArray[np.integer]:
    """Day numbers from the tenant's first day: uint16 when they fit, else int32."""
    if len(days) == 0 or days.max() < 2**16:
        return days.astype(np.uint16)
    return days.astype(np.int32)


def _interval(column: memoryview, low: int, high: int, gaps: int) -> list[float | None]:
    """A slice of an interval column as Python values, NaN as None."""
    if gaps == ALL_GAPS:
        return [None] * (high - low)
    # A memoryview of doubles gives floats, whatever typeshed says of tolist.
    values: list[float | None] = column[low:high].tolist()  # type: ignore[assignment]
    if gaps == SOME_GAPS:
        return [None if value != value else value for value in values]
    return values


def _view(column: npt.NDArray[Any] | None) -> memoryview | None:
    """The column's buffer: indexing and slicing a memoryview make Python values
    faster than numpy does for a few of them."""
    return None if column is None else column.data


class TenantRows:
    """One tenant's draft: a slice of the rows per SKU, day and value columns."""

    __slots__ = (
        "_dates",
        "_days",
        "_index",
        "_lower",
        "_member_labels",
        "_method_labels",
        "_ordinal_base",
        "_quantities",
        "_steps",
        "_upper",
        "built_at",
        "codes",
        "day_base",
        "days",
        "draft_qty",
        "lower_qty",
        "members",
        "methods",
        "offsets",
        "sku_index",
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
        offsets: Ints,
        day_base: int,
        days: npt.NDArray[np.integer],
        step: npt.NDArray[np.integer],
        draft_qty: Floats,
        methods: list[str],
        built_at: Ints,
        lower_qty: Floats | None = None,
        upper_qty: Floats | None = None,
        members: list[str | None] | None = None,
    ) -> None:
        """``offsets``: the first row of each SKU of ``sku_order`` and the row
        count last; ``days``: each row's day number less ``day_base``."""
        if len(sku_order) > MAX_SKUS:
            raise ValueError(f"tenant {tenant_id} has more than {MAX_SKUS} SKUs")
        self.tenant_id = tenant_id
        self.sku_order = sku_order
        # Keyed by the ids of sku_order (one str object a SKU, not two).
        codes = dict(zip(sku_order, range(len(sku_order)), strict=True))
        codes.update(dict.fromkeys(set(known).difference(codes), -1))
        self.codes = codes
        self.offsets = offsets
        self.day_base = day_base
        self.days = days
        self.step = step
        self.draft_qty = draft_qty
        self.lower_qty = lower_qty
        self.upper_qty = upper_qty
        self.methods = methods
        self.members = members
        self.built_at = built_at
        self._method_labels, method_codes = _label_codes(methods)
        self._member_labels, member_codes = _label_codes(members or [None] * len(sku_order))
        gaps = _interval_gaps(lower_qty, upper_qty, offsets)
        self.sku_index = _sku_index(days, offsets, gaps, method_codes, member_codes)
        self._index = self.sku_index.reshape(-1).data
        self._ordinal_base = day_base + EPOCH_ORDINAL
        self._dates = _date_table(day_base, days)
        self._views()

    def _views(self) -> None:
        self._days = self.days.data
        self._steps = self.step.data
        self._quantities = self.draft_qty.data
        self._lower = _view(self.lower_qty)
        self._upper = _view(self.upper_qty)

    # -- size -----------------------------------------------------------------------

    @property
    def rows(self) -> int:
        return len(self.days)

    @property
    def nbytes(self) -> int:
        """The columns' bytes, the Python objects per SKU and the table of dates."""
        columns: list[npt.NDArray[Any]] = [
            self.days,
            self.step,
            self.draft_qty,
            self.offsets,
            self.built_at,
            self.sku_index,
        ]
        optional = (self.lower_qty, self.upper_qty)
        columns += [column for column in optional if column is not None]
        dates = 0 if self._dates is None else len(self._dates) * DATE_BYTES
        return sum(column.nbytes for column in columns) + SERIES_BYTES * len(self.codes) + dates

    def touch(self) -> None:
        """Read one byte of every page, so mapped columns are resident before a request."""
        for column in (self.days, self.step, self.draft_qty, self.lower_qty, self.upper_qty):
            if column is not None and column.nbytes:
                int(column.view(np.uint8)[::PAGE_BYTES].sum())

    def on(self, columns: Mapping[str, npt.NDArray[Any]]) -> TenantRows:
        """The same tenant over other storage of equal columns (a mapped copy of them):
        the per-SKU Python objects are shared, not made again."""
        twin = copy.copy(self)
        twin.days, twin.step, twin.draft_qty = columns["day"], columns["step"], columns["draft_qty"]
        twin.lower_qty, twin.upper_qty = columns.get("lower_qty"), columns.get("upper_qty")
        twin._views()
        return twin

    # -- reads ----------------------------------------------------------------------

    def knows_sku(self, sku_id: str) -> bool:
        return sku_id in self.codes

    def _bounds(self, code: int, start: dt.date | None, end: dt.date | None) -> tuple[int, int]:
        entry = code * INDEX_FIELDS
        low, high = self._index[entry + FIRST_ROW], self._index[entry + END_ROW]
        if start is not None:
            low = bisect.bisect_left(self._days, start.toordinal() - self._ordinal_base, low, high)
        if end is not None:
            high = bisect.bisect_right(self._days, end.toordinal() - self._ordinal_base, low, high)
        return low, high

    def row_of(self, sku_id: str, date: dt.date) -> int | None:
        """The row of one SKU and date, or None."""
        code = self.codes.get(sku_id, -1)
        if code < 0:
            return None
        index = self._index
        entry = code * INDEX_FIELDS
        low, high, spacing = index[entry], index[entry + END_ROW], index[entry + SPACING]
        day = date.toordinal() - self._ordinal_base
        if spacing != UNEVEN:
            steps, rest = divmod(day - index[entry + FIRST_DAY], spacing)
            return low + steps if rest == 0 and 0 <= steps < high - low else None
        row = bisect.bisect_left(self._days, day, low, high)
        return row if row < high and self._days[row] == day else None

    def draft_qty_of(self, sku_id: str, date: dt.date) -> float | None:
        """The draft quantity of one SKU and date, or None (``row_of``'s rule, inlined:
        the API asks it of every edit)."""
        code = self.codes.get(sku_id, -1)
        if code < 0:
            return None
        index = self._index
        entry = code * INDEX_FIELDS
        low, high, spacing = index[entry], index[entry + END_ROW], index[entry + SPACING]
        day = date.toordinal() - self._ordinal_base
        if spacing != UNEVEN:
            steps, rest = divmod(day - index[entry + FIRST_DAY], spacing)
            return self._quantities[low + steps] if rest == 0 and 0 <= steps < high - low else None
        row = bisect.bisect_left(self._days, day, low, high)
        return self._quantities[row] if row < high and self._days[row] == day else None

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
        index = self._index
        entry = code * INDEX_FIELDS
        if start is None and end is None:
            low, high = index[entry], index[entry + END_ROW]
        else:
            low, high = self._bounds(code, start, end)
        if limit is not None and high - low > limit:
            high = low + limit
        lower: Sequence[float | None] | None = None
        upper: Sequence[float | None] | None = None
        if self._lower is not None and self._upper is not None:
            gaps = index[entry + GAPS]
            if gaps == NO_GAPS:
                lower, upper = self._lower[low:high], self._upper[low:high]
            else:
                lower = _interval(self._lower, low, high, gaps)
                upper = _interval(self._upper, low, high, gaps)
        # tuple.__new__: what SkuSeries(...) does, without its Python-level __new__.
        return tuple.__new__(
            SkuSeries,
            (
                self._method_labels[index[entry + METHOD]],
                self._dates_of(entry, low, high),
                self._steps[low:high],
                self._quantities[low:high],
                lower,
                upper,
                self._member_labels[index[entry + MEMBERS]],
            ),
        )

    def _dates_of(self, entry: int, low: int, high: int) -> list[dt.date]:
        """The dates of rows low..high of the SKU whose index entry starts at ``entry``."""
        if high <= low:
            return []
        table = self._dates
        if table is None:
            ordinal = self._ordinal_base
            return [dt.date.fromordinal(ordinal + day) for day in self._days[low:high].tolist()]
        spacing = self._index[entry + SPACING]
        if spacing == UNEVEN:
            return list(map(table.__getitem__, self._days[low:high].tolist()))
        first = self._days[low]
        return table[first : first + (high - low - 1) * spacing + 1 : spacing]

    # -- retention ------------------------------------------------------------------

    def period_ends(self) -> Ints:
        """The day each row's period ends (exclusive): the next row's date in its SKU;
        for a SKU's last row, one more step of its spacing (a month for monthly dates)."""
        days = self.days.astype(np.int64) + self.day_base
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
        if not len(self.days) or today <= published:
            return self
        ends = self.period_ends()
        dropped = (ends > day_number(published)) & (ends <= day_number(today))
        if not dropped.any():
            return self
        return self.take(np.flatnonzero(~dropped))

    def take(self, rows: Ints) -> TenantRows:
        """These rows only (ascending); SKUs left without a row keep only their name."""
        sizes = np.diff(self.offsets)
        codes = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)[rows]
        kept, counts = np.unique(codes, return_counts=True)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        pick = kept.tolist()
        return TenantRows(
            self.tenant_id,
            [self.sku_order[code] for code in pick],
            self.codes,
            offsets,
            self.day_base,
            self.days[rows],
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
    days = pc.cast(draft["forecast_date"].combine_chunks(), pa.int32()).to_numpy()
    days = days.astype(np.int64)
    if len(days) > 1:
        # Within a SKU the dates must ascend: a fall is where a SKU starts.
        rising = days[1:] - days[:-1]
        boundary = np.zeros(len(rising), dtype=bool)
        boundary[starts[1:] - 1] = True
        if bool(np.any(~boundary & (rising <= 0))):
            if bool(np.any(~boundary & (rising == 0))):
                raise ValueError(f"tenant {tenant_id}'s draft has two rows of one SKU and date")
            draft = draft.sort_by([("sku_id", "ascending"), ("forecast_date", "ascending")])
            return encode_tenant(tenant_id, draft, known)
    base = int(days.min()) if len(days) else 0
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
        np.append(starts, draft.num_rows).astype(np.int64),
        base,
        _day_column(days - base),
        _small_ints(draft["step"].combine_chunks().to_numpy()),
        _floats(draft["draft_qty"]),
        [str(method) for method in methods],
        np.asarray(pc.fill_null(built, 0).to_numpy(), dtype=np.int64),
        _floats(draft["lower_qty"]) if has_interval else None,
        _floats(draft["upper_qty"]) if has_interval else None,
        members,
    )
