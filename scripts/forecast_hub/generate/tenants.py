"""One tenant's catalogue: SKUs, locations, promotions and seasonality, from its seed.

``build_tenant`` draws everything that stays fixed for a run: codes and names,
launches and discontinuations, openings and closings, promotions, demand rates.
The feed modules write it out; each draws further numbers from its own stream
(``Tenant.rng``), so no feed's numbers depend on another's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forecast_hub.feeds import FEED_NAMES
from forecast_hub.generate.calendar import Calendar
from forecast_hub.generate.dirty import FILE_REASONS, assigned
from forecast_hub.generate.output import GenerateConfig
from forecast_hub.generate.vocabulary import (
    ACTIVE_TRUE,
    BRANDS,
    CATEGORIES,
    CITIES,
    CURRENCY_OF,
    DESCRIPTORS,
    LOCATION_TYPE_TEXT,
    NEWLINE_SUFFIXES,
    NOUNS,
    PACK_SIZES,
    PRICE_CUTS,
    PRICE_SCALE,
    PRODUCE,
    PROMO_TYPE_SHARE,
    PROMO_TYPES,
    REGIONS,
    SEASON,
    SIZE_LABELS,
    STORE_KINDS,
    WEEKLY,
    take,
)

NAMED_TENANTS = ("northwind", "globex", "initech", "umbrella", "hooli")
NEVER = 10**9
LONG_AGO = -(10**6)


def tenant_ids(count: int) -> list[str]:
    """Tenant ids in generation order: the named ones, then tenant_006, tenant_007, ..."""
    named = list(NAMED_TENANTS[:count])
    return named + [f"tenant_{i + 1:03d}" for i in range(len(NAMED_TENANTS), count)]


@dataclass(frozen=True)
class Profile:
    """How a tenant's codes look and which countries its locations are in."""

    sku_prefix: str
    location_prefix: str
    countries: tuple[str, ...]


_PROFILES = (
    Profile("NW", "NW-", ("US", "CA")),
    Profile("GX", "GX", ("DE", "FR", "NL")),
    Profile("IN", "IN-", ("GB",)),
    Profile("UM", "UM", ("JP",)),
    Profile("HL", "HL-", ("US",)),
)

_STREAMS = ("catalog", "sales", "dirty", "skus", "locations", "promotions", "attributes")


def _rng(seed: int, tenant_index: int, stream: str, part: int = 0) -> np.random.Generator:
    key = (tenant_index, _STREAMS.index(stream), part)
    sequence = np.random.SeedSequence(seed, spawn_key=key)
    return np.random.Generator(np.random.PCG64(sequence))


def _profile(index: int) -> Profile:
    base = _PROFILES[index % len(_PROFILES)]
    if index < len(_PROFILES):
        return base
    return replace(base, sku_prefix=f"T{index + 1:03d}", location_prefix=f"T{index + 1:03d}-")


def _codes(prefix: str, count: int, width: int) -> pa.Array:
    numbers = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, count + 1)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, numbers, "")


@dataclass(frozen=True)
class Skus:
    """A tenant's SKUs as parallel arrays, one entry per SKU."""

    codes: pa.Array
    base_names: pa.Array
    category: np.ndarray
    subcategory: np.ndarray
    brand: np.ndarray  # -1: null
    unit: np.ndarray  # -1: null
    pack: np.ndarray  # 0: null
    active_text: np.ndarray
    launch: np.ndarray  # day index; LONG_AGO when long before history
    launch_null: np.ndarray
    discontinued: np.ndarray  # day index; NEVER when never
    known: np.ndarray  # day from which the SKU is in the skus feed
    rate: np.ndarray  # units per store-day at full level
    carry: np.ndarray  # share of locations that stock it
    slope: np.ndarray  # yearly trend
    price_cents: np.ndarray
    by_weight: np.ndarray

    @property
    def count(self) -> int:
        return len(self.category)

    @property
    def first_day(self) -> np.ndarray:
        first: np.ndarray = np.maximum(self.launch, 0)
        return first


@dataclass(frozen=True)
class Locations:
    """A tenant's locations as parallel arrays, one entry per location."""

    codes: pa.Array
    names: pa.Array
    region: np.ndarray
    country: np.ndarray  # index into the profile's countries
    kind: np.ndarray  # index into LOCATION_TYPES
    kind_text: pa.Array
    opened: np.ndarray
    opened_null: np.ndarray
    closed: np.ndarray
    known: np.ndarray
    size: np.ndarray
    carry: np.ndarray
    cluster: np.ndarray

    @property
    def count(self) -> int:
        return len(self.region)


@dataclass(frozen=True)
class Promotions:
    """A tenant's promotions as parallel arrays, sorted by SKU and start."""

    ids: pa.Array
    sku: np.ndarray  # sorted
    location: np.ndarray  # -1: every location
    start: np.ndarray
    end: np.ndarray  # as first announced
    final_end: np.ndarray  # after corrections; what sales follow
    kind: np.ndarray
    discount: np.ndarray  # percent; NaN: null
    known: np.ndarray

    lift: np.ndarray  # demand multiplier while the promotion runs
    price_factor: np.ndarray  # share of the regular price paid

    @property
    def count(self) -> int:
        return len(self.sku)


@dataclass(frozen=True)
class Tenant:
    """Everything fixed about one tenant for a run, and its random streams."""

    index: int
    tenant_id: str
    seed: int
    dirty: bool
    tenants: int
    cal: Calendar
    profile: Profile
    skus: Skus
    locations: Locations
    promotions: Promotions
    season: np.ndarray  # (category, day) float32, weekly and yearly

    def rng(self, stream: str, part: int = 0) -> np.random.Generator:
        return _rng(self.seed, self.index, stream, part)

    @property
    def currencies(self) -> pa.Array:
        return pa.array([CURRENCY_OF[c] for c in self.profile.countries])

    def has_bad_rows(self, feed: str) -> bool:
        return self.dirty and feed in assigned(self.index, self.tenants, FEED_NAMES)

    def bad_files(self) -> tuple[str, ...]:
        return assigned(self.index, self.tenants, FILE_REASONS) if self.dirty else ()


def build_tenant(config: GenerateConfig, index: int, tenant_id: str) -> Tenant:
    """The catalogue of tenant ``index``, drawn from the run's seed."""
    cal = Calendar(config.days)
    profile = _profile(index)
    rng = _rng(config.seed, index, "catalog")
    skus = _build_skus(rng, config.skus, cal, profile)
    locations = _build_locations(rng, config.locations, cal, profile)
    promotions = _build_promotions(rng, skus, locations, cal, profile)
    return Tenant(
        index=index,
        tenant_id=tenant_id,
        seed=config.seed,
        dirty=config.dirty,
        tenants=config.tenants,
        cal=cal,
        profile=profile,
        skus=skus,
        locations=locations,
        promotions=promotions,
        season=_seasonality(rng, cal),
    )


def _seasonality(rng: np.random.Generator, cal: Calendar) -> np.ndarray:
    weekly = np.array(WEEKLY) * (1.0 + rng.normal(0.0, 0.03, 7))
    ordinals = [cal.start.toordinal() + t for t in range(cal.days)]
    day_of_year = [date.fromordinal(o).timetuple().tm_yday for o in ordinals]
    angle = [2.0 * math.pi * d / 365.25 for d in day_of_year]
    cos_day, sin_day = (
        np.array([math.cos(a) for a in angle]),
        np.array([math.sin(a) for a in angle]),
    )
    holiday = np.array([math.exp(-(((d - 355) / 10.0) ** 2)) for d in day_of_year])
    week = weekly[np.array([(o - 1) % 7 for o in ordinals], dtype=np.int64)]
    rows = []
    for amplitude, peak in SEASON:
        peak_angle = 2.0 * math.pi * peak / 365.25
        wave = cos_day * math.cos(peak_angle) + sin_day * math.sin(peak_angle)
        rows.append(week * (1.0 + amplitude * wave) * (1.0 + 0.3 * holiday))
    return np.array(rows, dtype=np.float32)


def _build_skus(rng: np.random.Generator, n: int, cal: Calendar, profile: Profile) -> Skus:
    category = rng.integers(0, len(CATEGORIES), n)
    noun = category * 4 + rng.integers(0, 4, n)
    names = pc.binary_join_element_wise(
        take(pa.array(DESCRIPTORS), rng.integers(0, len(DESCRIPTORS), n)),
        take(pa.array([x for nouns in NOUNS for x in nouns]), noun),
        take(pa.array(SIZE_LABELS), rng.integers(0, len(SIZE_LABELS), n)),
        " ",
    )
    newline = np.zeros(n, dtype=np.int64)
    newline[0] = 1
    names = pc.binary_join_element_wise(names, take(pa.array(NEWLINE_SUFFIXES), newline), "")
    by_weight = (category == PRODUCE) & (rng.random(n) < 0.7)
    unit = np.where(rng.random(n) < 0.9, 0, np.where(rng.random(n) < 0.5, 1, -1))
    launch, launch_null, discontinued = _sku_lifecycle(rng, n, cal)
    price = rng.lognormal(math.log(3.5), 0.6, n) * PRICE_SCALE.get(
        CURRENCY_OF[profile.countries[0]], 1.0
    )
    return Skus(
        codes=_codes(f"{profile.sku_prefix}-", n, max(6, len(str(n)))),
        base_names=names,
        category=category,
        subcategory=category * 3 + rng.integers(0, 3, n),
        brand=np.where(rng.random(n) < 0.08, -1, rng.integers(0, len(BRANDS), n)),
        unit=np.where(by_weight, 2, unit),
        pack=np.where(
            rng.random(n) < 0.05, 0, np.array(PACK_SIZES)[rng.integers(0, len(PACK_SIZES), n)]
        ),
        active_text=rng.integers(0, len(ACTIVE_TRUE), n),
        launch=launch,
        launch_null=launch_null,
        discontinued=discontinued,
        known=np.where(launch < 0, LONG_AGO, launch - 14),
        rate=rng.lognormal(-3.4, 1.3, n) * np.where(by_weight, 2.0, 1.0),
        carry=np.clip(0.2 + 0.6 * rng.beta(2.0, 2.0, n), 0.0, 1.0),
        slope=rng.normal(0.03, 0.12, n),
        price_cents=np.maximum(np.rint(price * 100.0), 10).astype(np.int64),
        by_weight=by_weight,
    )


def _sku_lifecycle(
    rng: np.random.Generator, n: int, cal: Calendar
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    days = cal.days
    kind = rng.random(n)
    old = -rng.integers(30, 3000, n)
    during = rng.integers(0, days, n)
    future = days + rng.integers(1, 60, n)
    launch = np.where(kind < 0.72, old, np.where(kind < 0.97, during, future))
    launch[0] = old[0]
    launch_null = (launch < 0) & (rng.random(n) < 0.15)
    stop = np.maximum(launch, 0) + 30 + rng.integers(0, days, n)
    ends = (rng.random(n) < 0.12) & (stop <= days - 1)
    ends[0] = False
    return np.where(launch_null, LONG_AGO, launch), launch_null, np.where(ends, stop, NEVER)


def _build_locations(
    rng: np.random.Generator, m: int, cal: Calendar, profile: Profile
) -> Locations:
    kind = np.zeros(m, dtype=np.int64)
    kind[np.arange(m) % 10 == 9] = 1
    if m >= 3:
        kind[m - 1] = 2
    prefix = np.array(["S", "D", "W"])[kind]
    numbers = np.char.zfill(np.arange(1, m + 1).astype(str), 4)
    codes = pa.array(np.char.add(np.char.add(profile.location_prefix, prefix), numbers).tolist())
    names = pc.binary_join_element_wise(
        take(pa.array(CITIES), rng.integers(0, len(CITIES), m)),
        take(pa.array(STORE_KINDS), rng.integers(0, len(STORE_KINDS), m)),
        "",
    )
    opened, opened_null, closed = _location_lifecycle(rng, m, kind, cal)
    size = rng.lognormal(0.0, 0.35, m)
    kind_text = [LOCATION_TYPE_TEXT[k][j % len(LOCATION_TYPE_TEXT[k])] for j, k in enumerate(kind)]
    return Locations(
        codes=codes,
        names=names,
        region=rng.integers(0, len(REGIONS), m),
        country=rng.integers(0, len(profile.countries), m),
        kind=kind,
        kind_text=pa.array(kind_text),
        opened=opened,
        opened_null=opened_null,
        closed=closed,
        known=np.where(opened < 0, LONG_AGO, opened - 30),
        size=np.where(kind == 2, 2.5, np.where(kind == 1, 0.0, size)),
        carry=np.where(kind == 2, 1.2, np.where(kind == 1, 0.0, np.minimum(1.0, 0.7 + 0.3 * size))),
        cluster=np.digitize(size, [0.8, 1.2]),
    )


def _location_lifecycle(
    rng: np.random.Generator, m: int, kind: np.ndarray, cal: Calendar
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    days = cal.days
    draw = rng.random(m)
    old = -rng.integers(100, 5000, m)
    opened = np.where(draw < 0.8, old, rng.integers(0, days, m))
    if m >= 6:
        opened[m - 2] = days + 10
    opened[0] = old[0]
    opened_null = (opened < 0) & (rng.random(m) < 0.1)
    close = np.maximum(opened, 0) + 90 + rng.integers(0, days, m)
    closes = (rng.random(m) < 0.08) & (close <= days - 1) & (kind == 0)
    closes[0] = False
    return np.where(opened_null, LONG_AGO, opened), opened_null, np.where(closes, close, NEVER)


def _build_promotions(
    rng: np.random.Generator, skus: Skus, locations: Locations, cal: Calendar, profile: Profile
) -> Promotions:
    count = max(1, round(skus.count * cal.days / 365 * 0.5))
    sku = rng.integers(0, skus.count, count)
    low = np.maximum(skus.launch[sku], -30)
    high = np.minimum(skus.discontinued[sku], cal.days + 14)
    start = low + np.floor(rng.random(count) * np.maximum(high - low, 0)).astype(np.int64)
    end = start + rng.integers(2, 21, count)
    selling = np.nonzero(locations.kind != 1)[0]
    local = rng.random(count) < 0.4
    location = np.where(local, selling[rng.integers(0, len(selling), count)], -1)
    kind = rng.choice(len(PROMO_TYPES), count, p=PROMO_TYPE_SHARE)
    cut = np.array(PRICE_CUTS)[rng.integers(0, len(PRICE_CUTS), count)]
    flyer = np.array([5.0, 10.0, 15.0])[rng.integers(0, 3, count)]
    discount = np.select([kind == 0, kind == 1, kind == 2], [cut, 50.0, np.nan], flyer)
    extended = end + np.where(rng.random(count) < 0.05, rng.integers(2, 8, count), 0)
    keep = high > low
    order = np.lexsort((start[keep], sku[keep]))
    width = max(6, len(str(count)))
    pick = np.nonzero(keep)[0][order]
    return Promotions(
        ids=_codes(f"{profile.sku_prefix}-P", len(pick), width),
        sku=sku[pick],
        location=location[pick],
        start=start[pick],
        end=end[pick],
        final_end=extended[pick],
        kind=kind[pick],
        discount=discount[pick],
        known=start[pick] - 14,
        lift=(1.0 + np.where(np.isnan(discount), 30.0, discount)[pick] * 0.025).astype(np.float32),
        price_factor=(1.0 - np.nan_to_num(discount)[pick] / 100.0).astype(np.float32),
    )
