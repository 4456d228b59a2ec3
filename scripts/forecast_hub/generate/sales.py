"""The sales feed: daily demand sampled per (SKU, location) tile, backfill and daily files.

Demand follows seasonality, trend, life cycles and promotions; a sales row is
written on about ``SALES_DENSITY`` of all cells. Backfill goes to one gzip file
per year, the last ``DAILY_DROP_DAYS`` days (see calendar) to one file each, and late
corrections re-send a key in a later daily file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from forecast_hub.generate.calendar import TimestampStyle, date_strings, timestamp_suffix
from forecast_hub.generate.output import Output
from forecast_hub.generate.sink import Sink, Style, first_values, open_sink
from forecast_hub.generate.tenants import Tenant
from forecast_hub.generate.vocabulary import CLUSTERS, take

SALES_DENSITY = 0.02
TILE_CELLS = 4_000_000
_ZERO_ROW_SHARE = 0.0005
_WINDOW_CORRECTION_SHARE = 0.015
_BACKFILL_CORRECTION_SHARE = 0.0002


@dataclass(frozen=True)
class SalesRows:
    """Sales rows as parallel arrays, before they become text."""

    sku: np.ndarray
    location: np.ndarray
    day: np.ndarray
    units: np.ndarray  # units_sold * 10_000
    cents: np.ndarray  # net_revenue * 100; -1: null
    updated: np.ndarray  # updated_at is the morning after this day
    file: np.ndarray

    def take(self, idx: np.ndarray) -> SalesRows:
        return SalesRows(*(getattr(self, f)[idx] for f in _SALES_FIELDS))

    @staticmethod
    def concat(a: SalesRows, b: SalesRows) -> SalesRows:
        return SalesRows(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in _SALES_FIELDS))


_SALES_FIELDS = ("sku", "location", "day", "units", "cents", "updated", "file")


@dataclass(frozen=True)
class _SalesFile:
    filename: str
    style: Style
    bad_rows: bool


def _sales_files(t: Tenant) -> tuple[list[_SalesFile], np.ndarray]:
    """The sales files of a tenant, and the file each sale day is first sent in."""
    cal = t.cal
    backfill = np.arange(cal.window_start)
    years = cal.year_of(backfill)
    files = []
    for year in np.unique(years):
        last = int(backfill[years == year][-1])
        files.append(_SalesFile(f"sales_{cal.iso(last)}_backfill", Style(gzip=True), False))
    daily = cal.days - cal.window_start
    for j in range(daily):
        style = _daily_sales_style(j, t.dirty)
        files.append(_SalesFile(f"sales_{cal.iso(cal.window_start + j)}", style, False))
    bad = len(files) - daily + daily // 2
    files[bad] = replace(files[bad], bad_rows=t.has_bad_rows("sales"))
    year_index = np.searchsorted(np.unique(years), years)
    day_file = np.concatenate([year_index, len(files) - daily + np.arange(daily)])
    return files, day_file


def _daily_sales_style(j: int, dirty: bool) -> Style:
    styles = {
        1: Style(header="upper"),
        2: Style(quoted=("location_code", "currency"), extra=("store_cluster",) if dirty else ()),
        3: Style(
            order=(
                "updated_at",
                "sale_date",
                "sku_code",
                "location_code",
                "units_sold",
                "net_revenue",
                "currency",
            )
        ),
        5: Style(bom=True),
        6: Style(crlf=True),
        8: Style(header="spaced", timestamps="offset"),
    }
    return replace(styles.get(j, Style()), gzip=j % 3 == 1)


class SalesText:
    """Turns sales rows into contract text columns, caching per-day lookups."""

    def __init__(self, t: Tenant) -> None:
        self.t = t
        days = np.arange(t.cal.days)
        self.dates = date_strings(t.cal, days)
        self._updated: dict[TimestampStyle, pa.Array] = {}
        self.currency = take(t.currencies, t.locations.country)
        self.cluster = take(pa.array(CLUSTERS), t.locations.cluster)

    def updated(self, style: TimestampStyle) -> pa.Array:
        if style not in self._updated:
            days = np.arange(self.t.cal.days) + 1
            suffix = timestamp_suffix(6, 0, style)
            self._updated[style] = pc.binary_join_element_wise(
                date_strings(self.t.cal, days), suffix, ""
            )
        return self._updated[style]

    def columns(self, rows: SalesRows, style: Style) -> list[pa.Array]:
        columns = [
            take(self.t.skus.codes, rows.sku),
            take(self.t.locations.codes, rows.location),
            take(self.dates, rows.day),
            _decimal(rows.units, 4),
            _decimal(rows.cents, 2, null=rows.cents < 0),
            take(self.currency, rows.location),
            take(self.updated(style.timestamps), rows.updated),
        ]
        return columns + [take(self.cluster, rows.location) for _ in style.extra]


def _decimal(scaled: np.ndarray, places: int, null: np.ndarray | None = None) -> pa.Array:
    """Fixed-point integers as decimal text: 4 places drop trailing zeros, 2 places keep them."""
    unit = 10**places
    whole = pc.cast(pa.array(scaled // unit, mask=null), pa.string())
    fraction = scaled % unit
    if places == 4 and not fraction.any():
        return whole
    digits = pc.utf8_lpad(pc.cast(pa.array(fraction), pa.string()), places, "0")
    if places == 4:
        digits = pc.utf8_rtrim(digits, "0")
    text = pc.binary_join_element_wise(whole, digits, ".")
    return pc.if_else(pa.array(fraction != 0), text, whole) if places == 4 else text


def write_sales(t: Tenant, output: Output, bar: tqdm) -> None:
    """Sample the tenant's sales tile by tile and write every sales file."""
    files, day_file = _sales_files(t)
    text = SalesText(t)
    last = t.cal.days - 1
    first_row = SalesRows(*(np.array([v]) for v in (0, 0, last, 10_000, 100, last, 0)))
    sinks = []
    for f in files:
        template = first_values(text.columns(first_row, f.style)) if f.bad_rows else None
        sinks.append(open_sink(t, output, "sales", f.filename, f.style, template))
    rng = t.rng("sales")
    for tile in _sales_tiles(t.skus.count, t.locations.count, t.cal.days):
        rows = _sample_tile(t, rng, tile, day_file)
        if rows is not None:
            _emit_sales(rows, sinks, files, text)
        bar.update((tile[1] - tile[0]) * (tile[3] - tile[2]))
    for sink in sinks:
        sink.close()


def _emit_sales(
    rows: SalesRows, sinks: list[Sink], files: list[_SalesFile], text: SalesText
) -> None:
    order = np.argsort(rows.file, kind="stable")
    sorted_files = rows.file[order]
    bounds = np.searchsorted(sorted_files, np.arange(len(sinks) + 1))
    for k, sink in enumerate(sinks):
        if bounds[k + 1] > bounds[k]:
            part = rows.take(order[bounds[k] : bounds[k + 1]])
            sink.write(text.columns(part, files[k].style))


def _sales_tiles(skus: int, locations: int, days: int) -> list[tuple[int, int, int, int]]:
    location_block = max(1, min(locations, TILE_CELLS // days))
    sku_block = max(1, TILE_CELLS // (location_block * days))
    return [
        (s, min(s + sku_block, skus), lo, min(lo + location_block, locations))
        for s in range(0, skus, sku_block)
        for lo in range(0, locations, location_block)
    ]


def _sku_day_factors(t: Tenant, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Demand and price multipliers per SKU and day: season, trend, life cycle, promotions."""
    s, days = t.skus, t.cal.days
    sku = np.arange(first, last)
    day = np.arange(days, dtype=np.float32)
    trend = np.maximum(
        1.0 + s.slope[sku, None].astype(np.float32) * (day - (days - 1)) / 365.0, 0.25
    )
    ramp = np.clip(0.3 + 0.7 * (day - s.launch[sku, None].astype(np.float32)) / 28.0, 0.3, 1.0)
    fade = np.clip(
        0.5 + 0.5 * (s.discontinued[sku, None].astype(np.float32) - day) / 30.0, 0.5, 1.0
    )
    demand = (t.season[s.category[sku]] * trend * ramp * fade).astype(np.float32)
    price = np.ones_like(demand)
    for k in _promotions_of(t, first, last):
        if t.promotions.location[k] < 0:
            row, a, b = t.promotions.sku[k] - first, *_promotion_span(t, k)
            demand[row, a:b] *= t.promotions.lift[k]
            price[row, a:b] = np.minimum(price[row, a:b], t.promotions.price_factor[k])
    return demand, price


def _promotions_of(t: Tenant, first: int, last: int) -> range:
    low, high = np.searchsorted(t.promotions.sku, [first, last])
    return range(int(low), int(high))


def _promotion_span(t: Tenant, k: int) -> tuple[int, int]:
    days = t.cal.days
    start = int(np.clip(t.promotions.start[k], 0, days))
    return start, int(np.clip(t.promotions.final_end[k] + 1, 0, days))


def _sample_tile(
    t: Tenant, rng: np.random.Generator, tile: tuple[int, int, int, int], day_file: np.ndarray
) -> SalesRows | None:
    s0, s1, l0, l1 = tile
    s, loc, days = t.skus, t.locations, t.cal.days
    carried = rng.random((s1 - s0, l1 - l0)) < s.carry[s0:s1, None] * loc.carry[None, l0:l1]
    si, li = np.nonzero(carried)
    gs, gl = si + s0, li + l0
    first = np.maximum(s.first_day[gs], np.maximum(loc.opened[gl], 0))
    end = np.minimum(np.minimum(s.discontinued[gs], days), loc.closed[gl])
    keep = end > first
    si, li, gs, gl, first, end = si[keep], li[keep], gs[keep], gl[keep], first[keep], end[keep]
    if si.size == 0:
        return None
    demand, price = _sku_day_factors(t, s0, s1)
    level = (s.rate[gs] * loc.size[gl]).astype(np.float32)
    day = np.arange(days)
    open_days = (day >= first[:, None]) & (day < end[:, None])
    lam = demand[si]
    lam *= level[:, None]
    lam *= open_days
    pair_row = np.full((s1 - s0, l1 - l0), -1, dtype=np.int64)
    pair_row[si, li] = np.arange(si.size)
    local = _local_promotions(t, s0, s1, l0, l1, pair_row)
    for row, a, b, k in local:
        lam[row, a:b] *= t.promotions.lift[k]
    u = rng.random(lam.shape, dtype=np.float32)
    chance = lam / (1.0 + lam)
    emitted = u < chance + np.float32(_ZERO_ROW_SHARE) * open_days
    pr, tt = np.nonzero(emitted)
    sold = u[pr, tt] < chance[pr, tt]
    rate = lam[pr, tt].astype(np.float64)
    del lam, u, chance, emitted, open_days
    counts = np.where(sold, 1 + rng.poisson(rate), 0)
    factor = price[si[pr], tt]
    key = pr * days + tt
    for row, a, b, k in local:
        lo, hi = np.searchsorted(key, [row * days + a, row * days + b])
        factor[lo:hi] = np.minimum(factor[lo:hi], t.promotions.price_factor[k])
    rows = _priced_rows(t, rng, gs[pr], gl[pr], tt, counts, factor, day_file)
    return SalesRows.concat(rows, _corrections(t, rng, rows, day_file))


def _local_promotions(
    t: Tenant, s0: int, s1: int, l0: int, l1: int, pair_row: np.ndarray
) -> list[tuple[int, int, int, int]]:
    """(pair row, first day, end day, promotion) for store-specific promotions of a tile."""
    found = []
    for k in _promotions_of(t, s0, s1):
        where = int(t.promotions.location[k])
        if l0 <= where < l1:
            row = int(pair_row[t.promotions.sku[k] - s0, where - l0])
            a, b = _promotion_span(t, k)
            if row >= 0 and b > a:
                found.append((row, a, b, k))
    return sorted(found)


def _priced_rows(
    t: Tenant,
    rng: np.random.Generator,
    sku: np.ndarray,
    location: np.ndarray,
    day: np.ndarray,
    counts: np.ndarray,
    factor: np.ndarray,
    day_file: np.ndarray,
) -> SalesRows:
    n = len(sku)
    grams = np.where(
        rng.random(n) < 0.1, rng.integers(2000, 15000, n), rng.integers(200, 1500, n) * 10
    )
    units = np.where(t.skus.by_weight[sku], counts * grams, counts * 10_000)
    cents = np.rint(units / 10_000 * t.skus.price_cents[sku] * factor).astype(np.int64)
    cents = np.where(rng.random(n) < 0.003, -1, cents)
    return SalesRows(sku, location, day, units.astype(np.int64), cents, day.copy(), day_file[day])


def _corrections(
    t: Tenant, rng: np.random.Generator, rows: SalesRows, day_file: np.ndarray
) -> SalesRows:
    """Late corrections: keys re-sent in a later daily file with other units, newer updated_at."""
    cal, n = t.cal, len(rows.sku)
    in_window = rows.day >= cal.window_start
    share = np.where(in_window, _WINDOW_CORRECTION_SHARE, _BACKFILL_CORRECTION_SHARE)
    picked = np.nonzero(rng.random(n) < share)[0]
    later = np.where(
        in_window[picked],
        rows.day[picked] + rng.integers(1, 4, picked.size),
        rng.integers(cal.window_start, cal.days, picked.size),
    )
    picked, later = picked[later < cal.days], later[later < cal.days]
    old = rows.take(picked)
    step = np.where(
        t.skus.by_weight[old.sku],
        rng.integers(1, 6, picked.size) * 1000,
        rng.integers(1, 4, picked.size) * 10_000,
    )
    down = (rng.random(picked.size) < 0.5) & (old.units >= step)
    units = np.where(down, old.units - step, old.units + step)
    unit_price = np.where(
        old.units > 0, old.cents / np.maximum(old.units, 1), t.skus.price_cents[old.sku] / 10_000
    )
    cents = np.where(old.cents < 0, -1, np.rint(units * unit_price).astype(np.int64))
    return SalesRows(old.sku, old.location, old.day, units, cents, later, day_file[later])
