"""Realistic, deterministic client feed files for the bronze layer.

``generate_bronze`` writes CSV files for every tenant and every feed of the
client feed contract (shared/spec/client-feeds.md)::

    <out>/<tenant_id>/<feed>/<file>.csv      (some files .csv.gz)

and a hidden manifest, ``<out>/.forecast-hub-generate.json``::

    {"config": {...GenerateConfig...},
     "files": [{"path", "tenant_id", "feed", "rows"}, ...],        sorted by path
     "rejected_files": [{"path", "reason"}, ...],                  sorted by path
     "quarantined_rows": [{"path", "line", "column", "rule"}, ...]} sorted by path, line

``rows`` counts the data records written to a file (bad ones included); ``line``
is the physical line where a bad record starts, the header being line 1.

The data
    Sales end on ``HISTORY_END`` and go back ``config.days`` days, with weekly and
    yearly seasonality, a trend per SKU, promotions that lift sales, intermittent
    long-tail SKUs, SKU launches and discontinuations, and locations opening and
    closing; each feed's other files agree with the sales. Every feed starts with
    a full file as of the day before the last ``DAILY_DROP_DAYS`` days; sales then
    arrive as one file per day, the other feeds as a few delta files. Late
    corrections re-send a sales key in a later file with a newer ``updated_at``;
    SKUs, locations, attributes and promotions are re-sent with changes too.
    Headers vary in case, spacing and column order, and some files carry a
    byte-order mark, CRLF line ends, gzip, or quoted fields holding commas,
    quotes and newlines: all of it valid under the contract.

Sizing
    A SKU is carried by part of the locations and sells on part of the days, so
    about ``SALES_DENSITY`` (2%) of all (SKU, location, day) cells hold a sales
    row: sales rows ~ tenants * skus * locations * days * 0.02. For example
    ``--tenants 2 --skus 5000 --locations 100 --days 1100`` gives about 23 million
    rows. Sales are sampled and written in tiles of at most ``TILE_CELLS`` cells,
    so memory stays bounded whatever the size.

Determinism
    The same config gives the same bytes: random numbers come from PCG64 streams
    derived from the seed per tenant and purpose, dates and timestamps derive from
    ``HISTORY_END`` (never the clock), and gzip members carry no time or name.

Dirty mode
    Feeds are spread over the tenants so that each feed has one file with bad
    rows in at least one tenant: about 0.75% of its rows, and at least one of each
    way to break a rule of its feed, so every (feed, rule) pair occurs. Each bad
    row breaks exactly one rule and is added next to a good row (the clean data
    stays complete). Extra files break the file rules (one of each reason), and
    a few files carry extra unknown columns. The manifest records all of it so
    tests can compare what ingestion reports.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from forecast_hub.errors import UserError
from forecast_hub.feeds import FEED_NAMES, FEEDS

HISTORY_END = date(2026, 10, 31)
EARLIEST_SALE_DATE = date(2000, 1, 1)
MAX_DAYS = (HISTORY_END - EARLIEST_SALE_DATE).days + 1
DAILY_DROP_DAYS = 14
MANIFEST_NAME = ".forecast-hub-generate.json"
NAMED_TENANTS = ("northwind", "globex", "initech", "umbrella", "hooli")
SALES_DENSITY = 0.02
TILE_CELLS = 4_000_000

FILE_REASONS = (
    "not_utf8",
    "not_csv",
    "no_header",
    "duplicate_header",
    "missing_required_column",
    "unknown_feed",
)

_EPOCH = date(1970, 1, 1)
_NEVER = 10**9
_LONG_AGO = -(10**6)
_BOM = b"\xef\xbb\xbf"
_BAD_ROW_SHARE = 0.0075
_ZERO_ROW_SHARE = 0.0005
_WINDOW_CORRECTION_SHARE = 0.015
_BACKFILL_CORRECTION_SHARE = 0.0002
_GZIP_LEVEL = 1

HeaderCase = Literal["lower", "upper", "spaced"]
TimestampStyle = Literal["utc", "offset", "naive"]


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class GenerateConfig:
    """What to generate: sizes per tenant, days of sales history, seed, bad input or not."""

    tenants: int = 3
    skus: int = 200
    locations: int = 10
    days: int = 730
    seed: int = 42
    dirty: bool = False


@dataclass(frozen=True)
class FileRecord:
    path: str
    tenant_id: str
    feed: str
    rows: int


@dataclass(frozen=True)
class RejectedFile:
    path: str
    reason: str


@dataclass(frozen=True)
class QuarantinedRow:
    path: str
    line: int
    column: str | None
    rule: str


@dataclass(frozen=True)
class GenerateSummary:
    """What one run wrote; ``one_line`` is what the CLI prints."""

    out: Path
    tenants: int
    files: int
    sales_rows: int
    bad_rows: int
    bad_files: int
    dirty: bool

    def one_line(self) -> str:
        dirty = ""
        if self.dirty:
            bad = f"{_count(self.bad_rows, 'bad row')}, {_count(self.bad_files, 'bad file')}"
            dirty = f" (dirty: {bad})"
        return (
            f"generated {_count(self.tenants, 'tenant')}, {_count(self.files, 'file')}, "
            f"{_count(self.sales_rows, 'sales row')}{dirty} in {self.out}"
        )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def tenant_ids(count: int) -> list[str]:
    """Tenant ids in generation order: the named ones, then tenant_006, tenant_007, ..."""
    named = list(NAMED_TENANTS[:count])
    return named + [f"tenant_{i + 1:03d}" for i in range(len(NAMED_TENANTS), count)]


def generate_bronze(out: Path, config: GenerateConfig, progress: bool = False) -> GenerateSummary:
    """Write client files for every tenant and feed under ``out``; same config, same bytes.

    ``out`` must be missing, empty, or a folder an earlier run wrote (it holds
    ``MANIFEST_NAME``); such a folder is emptied first.
    """
    _check_config(config)
    out = Path(out)
    _prepare_out(out)
    _write_manifest(out, config, _Output(out))
    output = _Output(out)
    ids = tenant_ids(config.tenants)
    total = config.tenants * config.skus * config.locations
    try:
        with tqdm(
            total=total, desc="sales series", unit="series", unit_scale=True, disable=not progress
        ) as bar:
            for index, tenant_id in enumerate(ids):
                tenant = _build_tenant(config, index, tenant_id)
                _write_tenant(tenant, output, bar)
        _write_manifest(out, config, output)
    except OSError as error:
        raise UserError(
            f"could not write {out}: {error}; free space or pick another --out"
        ) from error
    return output.summary(config)


# --------------------------------------------------------------------------- output folder


def _check_config(config: GenerateConfig) -> None:
    for name in ("tenants", "skus", "locations", "days"):
        if getattr(config, name) < 1:
            raise UserError(f"--{name} must be at least 1")
    if config.days > MAX_DAYS:
        raise UserError(
            f"--days must be at most {MAX_DAYS:,} so that sales start on or after "
            f"{EARLIEST_SALE_DATE} (history ends {HISTORY_END})"
        )
    if config.seed < 0:
        raise UserError("--seed must be 0 or more")


def _prepare_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; --out must be a folder (new, empty, or generated)")
    if out.is_dir():
        entries = sorted(out.iterdir())
        if entries and not (out / MANIFEST_NAME).is_file():
            raise UserError(
                f"{out} is not empty and holds no {MANIFEST_NAME} from an earlier generate; "
                "choose a new or empty folder"
            )
        _empty_folder(out, entries)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"cannot create {out}: {error.strerror}; choose a writable folder"
        ) from error
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"{out} is not writable; choose a writable folder")


def _empty_folder(out: Path, entries: Sequence[Path]) -> None:
    try:
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    except OSError as error:
        raise UserError(
            f"cannot clear the earlier generated files in {out}: {error}; remove them by hand"
        ) from error


class _Output:
    """Collects what was written, for the manifest and the summary."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[FileRecord] = []
        self.rejected: list[RejectedFile] = []
        self.quarantined: list[QuarantinedRow] = []

    def summary(self, config: GenerateConfig) -> GenerateSummary:
        return GenerateSummary(
            out=self.root,
            tenants=config.tenants,
            files=len(self.files),
            sales_rows=sum(f.rows for f in self.files if f.feed == "sales"),
            bad_rows=len(self.quarantined),
            bad_files=len(self.rejected),
            dirty=config.dirty,
        )

    def manifest(self, config: GenerateConfig) -> dict[str, object]:
        return {
            "config": asdict(config),
            "files": [asdict(f) for f in sorted(self.files, key=lambda f: f.path)],
            "rejected_files": [asdict(r) for r in sorted(self.rejected, key=lambda r: r.path)],
            "quarantined_rows": [
                asdict(q) for q in sorted(self.quarantined, key=lambda q: (q.path, q.line))
            ],
        }


def _write_manifest(out: Path, config: GenerateConfig, output: _Output) -> None:
    temporary = out / f"{MANIFEST_NAME}.tmp"
    temporary.write_text(json.dumps(output.manifest(config), indent=1) + "\n", encoding="utf-8")
    temporary.replace(out / MANIFEST_NAME)


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True)
class _Calendar:
    """Day indices: 0 is the first day of sales history, ``days - 1`` is HISTORY_END."""

    days: int

    @property
    def start(self) -> date:
        return HISTORY_END - timedelta(days=self.days - 1)

    @property
    def epoch0(self) -> int:
        return (self.start - _EPOCH).days

    @property
    def window_start(self) -> int:
        """First day whose sales arrive as a daily file."""
        return max(0, self.days - DAILY_DROP_DAYS)

    @property
    def full_day(self) -> int:
        """Day of the first full file of every feed (may be -1, the day before history)."""
        return self.window_start - 1

    @property
    def delta_days(self) -> tuple[int, ...]:
        width = self.days - self.window_start
        days = {self.window_start + width // 4, self.window_start + (width * 5) // 8, self.days - 1}
        return tuple(sorted(days))

    def iso(self, day: int) -> str:
        return (self.start + timedelta(days=day)).isoformat()

    def year_of(self, days: np.ndarray) -> np.ndarray:
        stamps = (days + self.epoch0).astype("datetime64[D]")
        return stamps.astype("datetime64[Y]").astype(np.int64) + 1970


def _date_strings(cal: _Calendar, days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    epoch = np.where(null, 0, days + cal.epoch0) if null is not None else days + cal.epoch0
    return pc.cast(pa.array(epoch.astype(np.int32), type=pa.date32(), mask=null), pa.string())


def _timestamp_suffix(hour: int, minute: int, style: TimestampStyle) -> str:
    if style == "offset":
        return f"T{hour + 2:02d}:{minute:02d}:00+02:00"
    if style == "naive":
        return f"T{hour:02d}:{minute:02d}:00"
    return f"T{hour:02d}:{minute:02d}:00Z"


def _timestamp(cal: _Calendar, day: int, style: TimestampStyle = "utc") -> str:
    return cal.iso(day) + _timestamp_suffix(5, 30, style)


# --------------------------------------------------------------------------- vocabulary

_CATEGORIES = (
    "Beverages", "Snacks", "Dairy", "Produce", "Household", "Personal Care", "Frozen", "Bakery",
)  # fmt: skip
_PRODUCE = _CATEGORIES.index("Produce")
_SUBCATEGORIES = (
    ("Soft Drinks", "Water", "Juice"),
    ("Chips", "Cookies", "Nuts"),
    ("Milk", "Cheese", "Yogurt"),
    ("Fruit", "Vegetables", "Herbs"),
    ("Cleaning", "Paper", "Laundry"),
    ("Hair Care", "Oral Care", "Skin Care"),
    ("Ice Cream", "Ready Meals", "Vegetables"),
    ("Bread", "Pastry", "Cakes"),
)
_NOUNS = (
    ("Cola", "Sparkling Water", "Orange Juice", "Iced Tea"),
    ("Chips, Sea Salt", "Pretzels", "Oat Cookies", "Mixed Nuts"),
    ("Whole Milk", "Cheddar", "Greek Yogurt", "Butter"),
    ("Apples, Gala", "Bananas", "Tomatoes, Vine", "Carrots"),
    ("Dish Soap", "Paper Towels", "Laundry Pods", "Sponges"),
    ("Shampoo", "Toothpaste", "Hand Cream", "Deodorant"),
    ("Vanilla Ice Cream", "Lasagne", "Frozen Peas", "Pizza"),
    ("Sourdough", "Croissants", "Bagels", "Carrot Cake"),
)
_SEASON = (  # yearly wave per category: amplitude, day of year of the peak
    (0.35, 196), (0.10, 350), (0.05, 20), (0.15, 180), (0.05, 30), (0.05, 10), (0.30, 200),
    (0.08, 355),
)  # fmt: skip
_WEEKLY = (0.85, 0.85, 0.9, 0.95, 1.15, 1.35, 1.0)
_DESCRIPTORS = (
    "Classic", "Organic", "Family", "Premium", "Everyday", 'Chef\'s "Best"', "Lite", "Extra",
)  # fmt: skip
_SIZE_LABELS = ("250g", "500g", "1kg", "330ml", "1l", "6-pack", "12-pack", "XL")
_BRANDS = (
    "Acme", "Blue Ridge", "Contoso", "Fabrikam", "Green Valley", "Harbor & Co", "Northstar",
    "Oak Lane", "Pinecrest", "Sunny Side", "Tailspin", "Woodgrove",
)  # fmt: skip
_UNITS = ("each", "pack", "kg")
_PACK_SIZES = (1, 1, 1, 1, 1, 1, 1, 6, 12, 24)
_ACTIVE_TRUE = (None, "true", "true", "Y", "1", "yes", "TRUE")
_ACTIVE_FALSE = ("false", "false", "false", "N", "0", "no", "FALSE")
_NAME_SUFFIXES = ("", " (new pack)")
_NEWLINE_SUFFIXES = ("", "\nLimited Edition")

_CITIES = (
    "Springfield", "Riverside", "Fairview", "Greenville", "Franklin", "Bristol", "Clinton",
    "Georgetown", "Salem", "Madison", "Ashland", "Oxford", "Dover", "Milton", "Newport",
    '"The Yard"',
)  # fmt: skip
_STORE_KINDS = (" Market", " Superstore", ", Mall", " Express", ", Downtown", " Outlet")
_REGIONS = ("North", "South", "East", "West", "Central")
_REGION_CHANGES = ("North-East", "South-West")
_LOCATION_TYPES = ("store", "dc", "online")
_LOCATION_TYPE_TEXT = (("store", "store", "store", "Store"), ("dc", "DC"), ("online", "Online"))
_CLUSTERS = ("A", "B", "C")
_CURRENCY_OF = {
    "US": "USD", "CA": "CAD", "DE": "EUR", "FR": "EUR", "NL": "EUR", "GB": "GBP", "JP": "JPY",
}  # fmt: skip
_PRICE_SCALE = {"JPY": 150.0}

_PROMO_TYPES = ("price_cut", "bogo", "display", "flyer", "flyer, regional")
_PROMO_TYPE_SHARE = (0.55, 0.1, 0.2, 0.1, 0.05)
_PRICE_CUTS = (10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 12.5)

_HOT_ATTRIBUTES = ("color", "size", "material", "shelf_life_days", "is_organic")
_ATTRIBUTE_WORDS = (
    "fiber", "voltage", "grade", "finish", "scent", "flavor", "origin", "cert", "allergen",
    "pattern", "texture", "density", "warranty", "batch", "season", "style", "capacity", "depth",
    "width", "height", "weight", "volume", "ph", "roast", "grind", "cut", "blend", "strength",
    "fit", "closure", "coating", "format", "tier", "channel", "label", "series", "variant",
    "gauge", "rating", "recycle",
)  # fmt: skip
_COLORS = ("red", "blue", "green", "black", "white", "navy, light", "amber", "silver", "clear")
_SIZES = ("S", "M", "L", "XL", "250 ml", "1 kg", '12" wide', "family")
_MATERIALS = ("cotton", "glass", "PET", "aluminium", "paper", "steel", "bamboo", "cardboard")
_VALUE_WORDS = (
    "alpha", "bravo", "coastal", "deluxe", "eco", "fresh", "gold", "heritage", "iconic", "jumbo",
    "kosher", "local", "matte", "natural", "original", "pure", "quick", "rustic", "smooth",
    "tropical", "ultra", "vivid", "wild", "zesty", "type A", "type B", "mixed, assorted",
    'the "best" one',
)  # fmt: skip
_FLAGS = ("yes", "no", "Y", "N", "n/a")


def _long_texts() -> tuple[str, ...]:
    sentence = "Store cool and dry, away from sunlight; see pack for details. "
    return (
        "Imported; check local availability.",
        'Marked "limited", sold while stocks last.',
        (sentence * 5).strip(),
        (sentence * 15).strip(),
    )


# --------------------------------------------------------------------------- tenants


@dataclass(frozen=True)
class _Profile:
    sku_prefix: str
    location_prefix: str
    countries: tuple[str, ...]


_PROFILES = (
    _Profile("NW", "NW-", ("US", "CA")),
    _Profile("GX", "GX", ("DE", "FR", "NL")),
    _Profile("IN", "IN-", ("GB",)),
    _Profile("UM", "UM", ("JP",)),
    _Profile("HL", "HL-", ("US",)),
)

_STREAMS = ("catalog", "sales", "dirty", "skus", "locations", "promotions", "attributes")


def _rng(seed: int, tenant_index: int, stream: str, part: int = 0) -> np.random.Generator:
    key = (tenant_index, _STREAMS.index(stream), part)
    sequence = np.random.SeedSequence(seed, spawn_key=key)
    return np.random.Generator(np.random.PCG64(sequence))


def _profile(index: int) -> _Profile:
    base = _PROFILES[index % len(_PROFILES)]
    if index < len(_PROFILES):
        return base
    return replace(base, sku_prefix=f"T{index + 1:03d}", location_prefix=f"T{index + 1:03d}-")


def _codes(prefix: str, count: int, width: int) -> pa.Array:
    numbers = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, count + 1)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, numbers, "")


@dataclass(frozen=True)
class _Skus:
    codes: pa.Array
    base_names: pa.Array
    category: np.ndarray
    subcategory: np.ndarray
    brand: np.ndarray  # -1: null
    unit: np.ndarray  # -1: null
    pack: np.ndarray  # 0: null
    active_text: np.ndarray
    launch: np.ndarray  # day index; _LONG_AGO when long before history
    launch_null: np.ndarray
    discontinued: np.ndarray  # day index; _NEVER when never
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
        return np.maximum(self.launch, 0)


@dataclass(frozen=True)
class _Locations:
    codes: pa.Array
    names: pa.Array
    region: np.ndarray
    country: np.ndarray  # index into the profile's countries
    kind: np.ndarray  # index into _LOCATION_TYPES
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
class _Promotions:
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
class _Tenant:
    index: int
    tenant_id: str
    seed: int
    dirty: bool
    tenants: int
    cal: _Calendar
    profile: _Profile
    skus: _Skus
    locations: _Locations
    promotions: _Promotions
    season: np.ndarray  # (category, day) float32, weekly and yearly

    def rng(self, stream: str, part: int = 0) -> np.random.Generator:
        return _rng(self.seed, self.index, stream, part)

    @property
    def currencies(self) -> pa.Array:
        return pa.array([_CURRENCY_OF[c] for c in self.profile.countries])

    def has_bad_rows(self, feed: str) -> bool:
        return self.dirty and feed in _assigned(self.index, self.tenants, FEED_NAMES)

    def bad_files(self) -> tuple[str, ...]:
        return _assigned(self.index, self.tenants, FILE_REASONS) if self.dirty else ()


def _assigned(index: int, tenants: int, items: Sequence[str]) -> tuple[str, ...]:
    """Spread items over tenants so that every item goes to at least one tenant."""
    groups = min(tenants, len(items))
    return tuple(item for k, item in enumerate(items) if k % groups == index % groups)


def _build_tenant(config: GenerateConfig, index: int, tenant_id: str) -> _Tenant:
    cal = _Calendar(config.days)
    profile = _profile(index)
    rng = _rng(config.seed, index, "catalog")
    skus = _build_skus(rng, config.skus, cal, profile)
    locations = _build_locations(rng, config.locations, cal, profile)
    promotions = _build_promotions(rng, skus, locations, cal, profile)
    return _Tenant(
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


def _seasonality(rng: np.random.Generator, cal: _Calendar) -> np.ndarray:
    weekly = np.array(_WEEKLY) * (1.0 + rng.normal(0.0, 0.03, 7))
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
    for amplitude, peak in _SEASON:
        peak_angle = 2.0 * math.pi * peak / 365.25
        wave = cos_day * math.cos(peak_angle) + sin_day * math.sin(peak_angle)
        rows.append(week * (1.0 + amplitude * wave) * (1.0 + 0.3 * holiday))
    return np.array(rows, dtype=np.float32)


def _build_skus(rng: np.random.Generator, n: int, cal: _Calendar, profile: _Profile) -> _Skus:
    category = rng.integers(0, len(_CATEGORIES), n)
    noun = category * 4 + rng.integers(0, 4, n)
    names = pc.binary_join_element_wise(
        _take(pa.array(_DESCRIPTORS), rng.integers(0, len(_DESCRIPTORS), n)),
        _take(pa.array([x for nouns in _NOUNS for x in nouns]), noun),
        _take(pa.array(_SIZE_LABELS), rng.integers(0, len(_SIZE_LABELS), n)),
        " ",
    )
    newline = np.zeros(n, dtype=np.int64)
    newline[0] = 1
    names = pc.binary_join_element_wise(names, _take(pa.array(_NEWLINE_SUFFIXES), newline), "")
    by_weight = (category == _PRODUCE) & (rng.random(n) < 0.7)
    unit = np.where(rng.random(n) < 0.9, 0, np.where(rng.random(n) < 0.5, 1, -1))
    launch, launch_null, discontinued = _sku_lifecycle(rng, n, cal)
    price = rng.lognormal(math.log(3.5), 0.6, n) * _PRICE_SCALE.get(
        _CURRENCY_OF[profile.countries[0]], 1.0
    )
    return _Skus(
        codes=_codes(f"{profile.sku_prefix}-", n, max(6, len(str(n)))),
        base_names=names,
        category=category,
        subcategory=category * 3 + rng.integers(0, 3, n),
        brand=np.where(rng.random(n) < 0.08, -1, rng.integers(0, len(_BRANDS), n)),
        unit=np.where(by_weight, 2, unit),
        pack=np.where(
            rng.random(n) < 0.05, 0, np.array(_PACK_SIZES)[rng.integers(0, len(_PACK_SIZES), n)]
        ),
        active_text=rng.integers(0, len(_ACTIVE_TRUE), n),
        launch=launch,
        launch_null=launch_null,
        discontinued=discontinued,
        known=np.where(launch < 0, _LONG_AGO, launch - 14),
        rate=rng.lognormal(-3.4, 1.3, n) * np.where(by_weight, 2.0, 1.0),
        carry=np.clip(0.2 + 0.6 * rng.beta(2.0, 2.0, n), 0.0, 1.0),
        slope=rng.normal(0.03, 0.12, n),
        price_cents=np.maximum(np.rint(price * 100.0), 10).astype(np.int64),
        by_weight=by_weight,
    )


def _sku_lifecycle(
    rng: np.random.Generator, n: int, cal: _Calendar
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
    return np.where(launch_null, _LONG_AGO, launch), launch_null, np.where(ends, stop, _NEVER)


def _build_locations(
    rng: np.random.Generator, m: int, cal: _Calendar, profile: _Profile
) -> _Locations:
    kind = np.zeros(m, dtype=np.int64)
    kind[np.arange(m) % 10 == 9] = 1
    if m >= 3:
        kind[m - 1] = 2
    prefix = np.array(["S", "D", "W"])[kind]
    numbers = np.char.zfill(np.arange(1, m + 1).astype(str), 4)
    codes = pa.array(np.char.add(np.char.add(profile.location_prefix, prefix), numbers).tolist())
    names = pc.binary_join_element_wise(
        _take(pa.array(_CITIES), rng.integers(0, len(_CITIES), m)),
        _take(pa.array(_STORE_KINDS), rng.integers(0, len(_STORE_KINDS), m)),
        "",
    )
    opened, opened_null, closed = _location_lifecycle(rng, m, kind, cal)
    size = rng.lognormal(0.0, 0.35, m)
    kind_text = [
        _LOCATION_TYPE_TEXT[k][j % len(_LOCATION_TYPE_TEXT[k])] for j, k in enumerate(kind)
    ]
    return _Locations(
        codes=codes,
        names=names,
        region=rng.integers(0, len(_REGIONS), m),
        country=rng.integers(0, len(profile.countries), m),
        kind=kind,
        kind_text=pa.array(kind_text),
        opened=opened,
        opened_null=opened_null,
        closed=closed,
        known=np.where(opened < 0, _LONG_AGO, opened - 30),
        size=np.where(kind == 2, 2.5, np.where(kind == 1, 0.0, size)),
        carry=np.where(kind == 2, 1.2, np.where(kind == 1, 0.0, np.minimum(1.0, 0.7 + 0.3 * size))),
        cluster=np.digitize(size, [0.8, 1.2]),
    )


def _location_lifecycle(
    rng: np.random.Generator, m: int, kind: np.ndarray, cal: _Calendar
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
    return np.where(opened_null, _LONG_AGO, opened), opened_null, np.where(closes, close, _NEVER)


def _build_promotions(
    rng: np.random.Generator, skus: _Skus, locations: _Locations, cal: _Calendar, profile: _Profile
) -> _Promotions:
    count = max(1, round(skus.count * cal.days / 365 * 0.5))
    sku = rng.integers(0, skus.count, count)
    low = np.maximum(skus.launch[sku], -30)
    high = np.minimum(skus.discontinued[sku], cal.days + 14)
    start = low + np.floor(rng.random(count) * np.maximum(high - low, 0)).astype(np.int64)
    end = start + rng.integers(2, 21, count)
    selling = np.nonzero(locations.kind != 1)[0]
    local = rng.random(count) < 0.4
    location = np.where(local, selling[rng.integers(0, len(selling), count)], -1)
    kind = rng.choice(len(_PROMO_TYPES), count, p=_PROMO_TYPE_SHARE)
    cut = np.array(_PRICE_CUTS)[rng.integers(0, len(_PRICE_CUTS), count)]
    flyer = np.array([5.0, 10.0, 15.0])[rng.integers(0, 3, count)]
    discount = np.select([kind == 0, kind == 1, kind == 2], [cut, 50.0, np.nan], flyer)
    extended = end + np.where(rng.random(count) < 0.05, rng.integers(2, 8, count), 0)
    keep = high > low
    order = np.lexsort((start[keep], sku[keep]))
    width = max(6, len(str(count)))
    pick = np.nonzero(keep)[0][order]
    return _Promotions(
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


# --------------------------------------------------------------------------- bad rows


@dataclass(frozen=True)
class _BadVariant:
    """One way to break exactly one rule: replacement values, or one field more or less."""

    rule: str
    column: str | None
    values: tuple[tuple[str, str], ...] = ()
    fields: int = 0


_BAD_TYPE_VALUES = {
    "date": "2026-13-45",
    "decimal": "12x",
    "int": "six",
    "bool": "maybe",
    "timestamp": "2026-10-31T25:61:00Z",
}
_FUTURE_DATE = HISTORY_END.replace(year=HISTORY_END.year + 3).isoformat()
_NAMED_RULE_VALUES: dict[tuple[str, str], tuple[tuple[tuple[str, str], ...], ...]] = {
    ("sales", "date_in_range"): ((("sale_date", "1999-12-31"),), (("sale_date", _FUTURE_DATE),)),
    ("sales", "non_negative"): ((("units_sold", "-3"),),),
    ("sales", "at_most_1e9"): ((("units_sold", "1000000001"),),),
    ("sales", "iso_4217"): ((("currency", "E1R"),),),
    ("skus", "positive"): ((("pack_size", "0"),),),
    ("skus", "not_before_launch"): (
        (("launched_on", "2024-05-01"), ("discontinued_on", "2024-04-01")),
    ),
    ("locations", "iso_3166_alpha_2"): ((("country", "1A"),),),
    ("locations", "known_location_type"): ((("location_type", "warehouse"),),),
    ("sku_attributes", "attribute_name_pattern"): ((("attribute_name", "9color"),),),
    ("promotions", "not_before_start"): (
        (("start_date", "2026-06-10"), ("end_date", "2026-06-01")),
    ),
    ("promotions", "percentage"): ((("discount_pct", "150"),),),
}
# A too-long value breaks only max_length when the column has no other rule, or when the
# value still keeps that rule (a long lower-case attribute name still matches its pattern).
_LONG_VALUE_KEEPS_RULES = {("sku_attributes", "attribute_name")}


def _bad_variants(feed_name: str) -> tuple[_BadVariant, ...]:
    feed = FEEDS[feed_name]
    variants = [
        _BadVariant("field_count", None, fields=1),
        _BadVariant("field_count", None, fields=-1),
    ]
    for column in feed.columns:
        name = column.name
        if column.required:
            variants.append(_BadVariant("required", name, ((name, ""),)))
        if column.type != "text":
            variants.append(_BadVariant("type", name, ((name, _BAD_TYPE_VALUES[column.type]),)))
        elif not column.rules or (feed_name, name) in _LONG_VALUE_KEEPS_RULES:
            too_long = "x" * (column.text_limit + 1)
            variants.append(_BadVariant("max_length", name, ((name, too_long),)))
        for rule in column.rules:
            for values in _NAMED_RULE_VALUES[(feed_name, rule.name)]:
                variants.append(_BadVariant(rule.name, name, values))
    return tuple(variants)


BAD_VARIANTS: dict[str, tuple[_BadVariant, ...]] = {
    name: _bad_variants(name) for name in FEED_NAMES
}


@dataclass
class _Injector:
    """Adds bad copies of good rows to one file, cycling through every variant of its feed."""

    rng: np.random.Generator
    variants: tuple[_BadVariant, ...]
    template: list[str | None]  # a valid row, copied for variants the file's rows did not get
    used: int = 0

    def sources(self, rows: int) -> np.ndarray:
        count = int(self.rng.binomial(rows, _BAD_ROW_SHARE))
        return np.sort(self.rng.choice(rows, size=count, replace=False))

    def next_variant(self) -> _BadVariant:
        variant = self.variants[self.used % len(self.variants)]
        self.used += 1
        return variant

    def missing(self) -> list[_BadVariant]:
        return [self.next_variant() for _ in range(max(0, len(self.variants) - self.used))]


def _quote(value: str) -> str:
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


# --------------------------------------------------------------------------- CSV files


@dataclass(frozen=True)
class _Style:
    """How one file is laid out; every option is valid under the contract."""

    gzip: bool = False
    bom: bool = False
    crlf: bool = False
    header: HeaderCase = "lower"
    order: tuple[str, ...] | None = None
    quoted: tuple[str, ...] = ()
    padded: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    timestamps: TimestampStyle = "utc"


def _header_name(name: str, case: HeaderCase) -> str:
    if case == "upper":
        return name.upper()
    if case == "spaced":
        return f" {name.title()} "
    return name


def _take(pool: pa.Array, indices: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pool.take(pa.array(np.asarray(indices, dtype=np.int64), mask=null))


def _quote_where_needed(values: pa.Array) -> pa.Array:
    needed = pc.match_substring_regex(values, r'[",\r\n]')
    if not pc.any(needed).as_py():
        return values
    return pc.if_else(needed, _quote_all(values), values)


def _quote_all(values: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")


def _csv_lines(fields: Sequence[pa.Array], eol: str) -> pa.Array:
    row = pc.binary_join_element_wise(*fields, ",", null_handling="replace", null_replacement="")
    return pc.binary_join_element_wise(row, "", eol)


def _text_bytes(lines: pa.Array) -> memoryview:
    buffers = lines.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)
    first, last = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return memoryview(buffers[2])[first:last]


class _Sink:
    """One CSV file being written: header, styled rows, injected bad rows, line numbers."""

    def __init__(
        self,
        output: _Output,
        tenant_id: str,
        feed: str,
        filename: str,
        style: _Style,
        injector: _Injector | None,
    ) -> None:
        self.rel = f"{tenant_id}/{feed}/{filename}" + (".csv.gz" if style.gzip else ".csv")
        self.tenant_id, self.feed, self.style = tenant_id, feed, style
        self.columns = FEEDS[feed].column_names + style.extra
        self.order = [self.columns.index(n) for n in (style.order or self.columns)]
        self.eol = "\r\n" if style.crlf else "\n"
        self.injector = injector
        self.free_text = feed != "sales"
        self.output = output
        self.rows, self.next_line = 0, 2
        path = output.root / self.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self._raw: BinaryIO = path.open("wb")
        self._stream: BinaryIO | gzip.GzipFile = self._raw
        if style.gzip:
            self._stream = gzip.GzipFile(
                filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=_GZIP_LEVEL
            )
        header = ",".join(_header_name(self.columns[k], style.header) for k in self.order)
        self._stream.write((_BOM if style.bom else b"") + (header + self.eol).encode())

    def write(self, columns: Sequence[pa.Array]) -> None:
        count = len(columns[0])
        if count == 0:
            return
        lines = _csv_lines([self._field(columns[k], self.columns[k]) for k in self.order], self.eol)
        bad_at: list[tuple[int, _BadVariant]] = []
        if self.injector is not None:
            lines, bad_at = self._inject(self.injector, lines, columns)
        starts = self._line_starts(lines)
        for position, variant in bad_at:
            self._record_bad(int(starts[position]), variant)
        self._stream.write(_text_bytes(lines))
        self.rows += len(lines)

    def close(self) -> None:
        if self.injector is not None:
            for variant in self.injector.missing():
                line = self._bad_line(self.injector.template, variant)
                self._record_bad(self.next_line, variant)
                self.next_line += line.count("\n")
                self._stream.write(line.encode())
                self.rows += 1
        self._stream.close()
        self._raw.close()
        self.output.files.append(FileRecord(self.rel, self.tenant_id, self.feed, self.rows))

    def _field(self, values: pa.Array, name: str) -> pa.Array:
        if name in self.style.quoted:
            return _quote_all(values)
        if name in self.style.padded:
            return pc.binary_join_element_wise(" ", values, " ", "")
        return _quote_where_needed(values) if self.free_text else values

    def _inject(
        self, injector: _Injector, lines: pa.Array, columns: Sequence[pa.Array]
    ) -> tuple[pa.Array, list[tuple[int, _BadVariant]]]:
        sources = injector.sources(len(lines))
        if sources.size == 0:
            return lines, []
        variants = [injector.next_variant() for _ in sources]
        raw = [[column[int(i)].as_py() for column in columns] for i in sources]
        bad = [self._bad_line(values, v) for values, v in zip(raw, variants, strict=True)]
        keys = np.concatenate([np.arange(len(lines)) * 2, sources * 2 + 1])
        order = np.argsort(keys, kind="stable")
        merged = pa.concat_arrays([lines, pa.array(bad, pa.string())]).take(pa.array(order))
        positions = np.nonzero(order >= len(lines))[0]
        return merged, [(int(p), variants[int(order[p]) - len(lines)]) for p in positions]

    def _bad_line(self, values: Sequence[str | None], variant: _BadVariant) -> str:
        row = list(values)
        for name, value in variant.values:
            row[self.columns.index(name)] = value
        fields = [_quote(row[k] or "") for k in self.order]
        if variant.fields > 0:
            fields.append("surplus")
        elif variant.fields < 0:
            fields.pop()
        return ",".join(fields) + self.eol

    def _line_starts(self, lines: pa.Array) -> np.ndarray:
        if self.free_text:
            breaks = np.cumsum(pc.count_substring(lines, "\n").to_numpy())
            starts = self.next_line + np.concatenate([[0], breaks[:-1]])
            self.next_line += int(breaks[-1])
        else:
            starts = self.next_line + np.arange(len(lines))
            self.next_line += len(lines)
        return starts

    def _record_bad(self, line: int, variant: _BadVariant) -> None:
        self.output.quarantined.append(QuarantinedRow(self.rel, line, variant.column, variant.rule))


def _write_rows(
    t: _Tenant,
    output: _Output,
    feed: str,
    filename: str,
    style: _Style,
    columns: Sequence[pa.Array],
    template: Sequence[str | None] | None = None,
) -> None:
    """Write one whole (small) file."""
    sink = _open_sink(t, output, feed, filename, style, template)
    sink.write(columns)
    sink.close()


def _open_sink(
    t: _Tenant,
    output: _Output,
    feed: str,
    filename: str,
    style: _Style,
    template: Sequence[str | None] | None = None,
) -> _Sink:
    """A file to write; given a valid template row, bad rows are injected into it."""
    injector = None
    if template is not None:
        rng = t.rng("dirty", FEED_NAMES.index(feed))
        injector = _Injector(rng, BAD_VARIANTS[feed], list(template))
    return _Sink(output, t.tenant_id, feed, filename, style, injector)


def _template(t: _Tenant, feed: str, columns: Sequence[pa.Array]) -> list[str | None] | None:
    """The first row of columns when this tenant's feed gets bad rows, else None."""
    return _first_row(columns) if t.has_bad_rows(feed) else None


def _first_row(columns: Sequence[pa.Array]) -> list[str | None]:
    return [column[0].as_py() for column in columns]


# --------------------------------------------------------------------------- tenant files


def _write_tenant(t: _Tenant, output: _Output, bar: tqdm) -> None:
    _write_skus(t, output)
    _write_locations(t, output)
    _write_promotions(t, output)
    _write_attributes(t, output)
    _write_sales(t, output, bar)
    for reason in t.bad_files():
        _BAD_FILE_WRITERS[reason](t, output)


def _delta_windows(cal: _Calendar) -> list[tuple[int, int]]:
    """(previous file day, this file day) for each delta file."""
    return list(zip([cal.full_day, *cal.delta_days[:-1]], cal.delta_days, strict=True))


def _between(values: np.ndarray, after: int, until: int) -> np.ndarray:
    return (values > after) & (values <= until)


def _changed(rng: np.random.Generator, eligible: np.ndarray, share: float) -> np.ndarray:
    candidates = np.nonzero(eligible)[0]
    if candidates.size == 0:
        return candidates
    count = min(candidates.size, max(1, round(share * candidates.size)))
    return np.sort(rng.choice(candidates, size=count, replace=False))


# skus -----------------------------------------------------------------------------------


def _sku_columns(
    t: _Tenant, idx: np.ndarray, as_of: int, pack: np.ndarray, renamed: np.ndarray, stamp: str
) -> list[pa.Array]:
    s, cal = t.skus, t.cal
    gone = s.discontinued[idx] <= as_of
    active_pool = pa.array(_ACTIVE_TRUE + _ACTIVE_FALSE)
    active = s.active_text[idx] + np.where(gone, len(_ACTIVE_TRUE), 0)
    return [
        _take(s.codes, idx),
        pc.binary_join_element_wise(
            _take(s.base_names, idx), _take(pa.array(_NAME_SUFFIXES), renamed[idx]), ""
        ),
        _take(pa.array(_CATEGORIES), s.category[idx]),
        _take(pa.array([x for subs in _SUBCATEGORIES for x in subs]), s.subcategory[idx]),
        _take(pa.array(_BRANDS), np.maximum(s.brand[idx], 0), s.brand[idx] < 0),
        _take(pa.array(_UNITS), np.maximum(s.unit[idx], 0), s.unit[idx] < 0),
        pc.cast(pa.array(pack[idx], mask=pack[idx] == 0), pa.string()),
        _take(active_pool, active),
        _date_strings(cal, s.launch[idx], s.launch_null[idx]),
        _date_strings(cal, np.where(gone, s.discontinued[idx], 0), ~gone),
        pa.repeat(pa.scalar(stamp), len(idx)),
    ]


_SKU_ORDER = (
    "updated_at", "sku_code", "category", "subcategory", "sku_name", "brand", "pack_size",
    "unit_of_measure", "launched_on", "discontinued_on", "is_active",
)  # fmt: skip
_SKU_DELTA_STYLES = (
    _Style(bom=True, crlf=True),
    _Style(header="upper", timestamps="offset"),
    _Style(order=_SKU_ORDER),
)


def _write_skus(t: _Tenant, output: _Output) -> None:
    s, cal = t.skus, t.cal
    rng = t.rng("skus")
    pack, renamed = s.pack.copy(), np.zeros(s.count, dtype=np.int64)
    stamp = _timestamp(cal, cal.full_day)
    template = _template(t, "skus", _sku_columns(t, np.array([0]), 0, pack, renamed, stamp))
    full = np.nonzero(s.known <= cal.full_day)[0]
    columns = _sku_columns(t, full, cal.full_day, pack, renamed, stamp)
    _write_rows(
        t, output, "skus", f"skus_{cal.iso(cal.full_day)}_full", _Style(), columns, template
    )
    for j, (previous, day) in enumerate(_delta_windows(cal)):
        changes = _changed(rng, s.known <= previous, 0.01)
        renamed[changes[::2]] = 1
        pack[changes[1::2]] = np.where(pack[changes[1::2]] == 12, 6, 12)
        ended = _between(s.discontinued, previous, day) & (s.known <= previous)
        idx = np.union1d(np.nonzero(_between(s.known, previous, day) | ended)[0], changes)
        style = _SKU_DELTA_STYLES[j % len(_SKU_DELTA_STYLES)]
        columns = _sku_columns(t, idx, day, pack, renamed, _timestamp(cal, day, style.timestamps))
        _write_rows(t, output, "skus", f"skus_{cal.iso(day)}", style, columns)


# locations ------------------------------------------------------------------------------


def _location_columns(
    t: _Tenant, idx: np.ndarray, as_of: int, region: np.ndarray, renamed: np.ndarray, stamp: str
) -> list[pa.Array]:
    loc, cal = t.locations, t.cal
    closed = loc.closed[idx] <= as_of
    return [
        _take(loc.codes, idx),
        pc.binary_join_element_wise(
            _take(loc.names, idx), _take(pa.array(("", " (relocated)")), renamed[idx]), ""
        ),
        _take(pa.array(_REGIONS + _REGION_CHANGES), region[idx]),
        _take(pa.array(t.profile.countries), loc.country[idx]),
        _take(loc.kind_text, idx),
        _date_strings(cal, loc.opened[idx], loc.opened_null[idx]),
        _date_strings(cal, np.where(closed, loc.closed[idx], 0), ~closed),
        pa.repeat(pa.scalar(stamp), len(idx)),
    ]


_LOCATION_FULL_ORDER = (
    "location_code", "location_type", "location_name", "country", "region", "opened_on",
    "closed_on", "updated_at",
)  # fmt: skip
_LOCATION_DELTA_STYLES = (
    _Style(padded=("region", "location_type")),
    _Style(crlf=True, timestamps="naive"),
    _Style(header="spaced"),
)


def _write_locations(t: _Tenant, output: _Output) -> None:
    loc, cal = t.locations, t.cal
    rng = t.rng("locations")
    region, renamed = loc.region.copy(), np.zeros(loc.count, dtype=np.int64)
    stamp = _timestamp(cal, cal.full_day)
    extra = ("store_cluster",) if t.dirty else ()
    clusters = pa.array(_CLUSTERS)

    def columns_for(
        idx: np.ndarray, as_of: int, stamp: str, extras: tuple[str, ...]
    ) -> list[pa.Array]:
        columns = _location_columns(t, idx, as_of, region, renamed, stamp)
        return columns + [_take(clusters, loc.cluster[idx]) for _ in extras]

    full = np.nonzero(loc.known <= cal.full_day)[0]
    style = _Style(order=_LOCATION_FULL_ORDER + extra, extra=extra)
    template = _template(t, "locations", columns_for(np.array([0]), cal.full_day, stamp, extra))
    columns = columns_for(full, cal.full_day, stamp, extra)
    name = f"locations_{cal.iso(cal.full_day)}_full"
    _write_rows(t, output, "locations", name, style, columns, template)
    for j, (previous, day) in enumerate(_delta_windows(cal)):
        changes = _changed(rng, loc.known <= previous, 0.05)
        renamed[changes[::2]] = 1
        region[changes[1::2]] = len(_REGIONS) + rng.integers(
            0, len(_REGION_CHANGES), len(changes[1::2])
        )
        closing = _between(loc.closed, previous, day) & (loc.known <= previous)
        idx = np.union1d(np.nonzero(_between(loc.known, previous, day) | closing)[0], changes)
        style = _LOCATION_DELTA_STYLES[j % len(_LOCATION_DELTA_STYLES)]
        columns = columns_for(idx, day, _timestamp(cal, day, style.timestamps), ())
        _write_rows(t, output, "locations", f"locations_{cal.iso(day)}", style, columns)


# promotions -----------------------------------------------------------------------------


def _promotion_columns(t: _Tenant, idx: np.ndarray, end: np.ndarray, stamp: str) -> list[pa.Array]:
    p, cal = t.promotions, t.cal
    discount = p.discount[idx]
    unset = np.isnan(discount)
    cents = np.rint(np.nan_to_num(discount) * 10).astype(np.int64)
    whole = pc.cast(pa.array(cents // 10), pa.string())
    tenths = pc.binary_join_element_wise(whole, pc.cast(pa.array(cents % 10), pa.string()), ".")
    text = pc.if_else(pa.array(cents % 10 != 0), tenths, whole)
    local = p.location[idx]
    return [
        _take(p.ids, idx),
        _take(t.skus.codes, p.sku[idx]),
        _take(t.locations.codes, np.maximum(local, 0), local < 0),
        _date_strings(cal, p.start[idx]),
        _date_strings(cal, end[idx]),
        _take(pa.array(_PROMO_TYPES), p.kind[idx]),
        pc.if_else(pa.array(unset), pa.scalar(None, pa.string()), text),
        pa.repeat(pa.scalar(stamp), len(idx)),
    ]


_PROMOTION_DELTA_STYLES = (_Style(crlf=True, header="upper"), _Style(gzip=True), _Style())


def _write_promotions(t: _Tenant, output: _Output) -> None:
    p, cal = t.promotions, t.cal
    end = p.end.copy()
    stamp = _timestamp(cal, cal.full_day)
    template = _template(t, "promotions", _promotion_columns(t, np.array([0]), end, stamp))
    full = np.nonzero(p.known <= cal.full_day)[0]
    columns = _promotion_columns(t, full, end, stamp)
    name = f"promotions_{cal.iso(cal.full_day)}_full"
    _write_rows(t, output, "promotions", name, _Style(), columns, template)
    for j, (previous, day) in enumerate(_delta_windows(cal)):
        extended = (p.final_end != end) & (p.known <= previous) & (p.start <= day)
        end[extended] = p.final_end[extended]
        idx = np.union1d(np.nonzero(_between(p.known, previous, day))[0], np.nonzero(extended)[0])
        style = _PROMOTION_DELTA_STYLES[j % len(_PROMOTION_DELTA_STYLES)]
        columns = _promotion_columns(t, idx, end, _timestamp(cal, day, style.timestamps))
        _write_rows(t, output, "promotions", f"promotions_{cal.iso(day)}", style, columns)


# sku attributes -------------------------------------------------------------------------


@dataclass(frozen=True)
class _AttributeVocabulary:
    names: pa.Array  # hot names, then the long tail
    values: pa.Array
    segments: np.ndarray  # (kind, 2): first value index and count
    kind: np.ndarray  # value kind per name
    weights: np.ndarray  # how often each long-tail name is picked

    @property
    def long_tail(self) -> int:
        return len(self.kind) - len(_HOT_ATTRIBUTES)


def _attribute_vocabulary(rng: np.random.Generator) -> _AttributeVocabulary:
    tail = int(rng.integers(250, 400))
    words = rng.integers(0, len(_ATTRIBUTE_WORDS), tail)
    names = list(_HOT_ATTRIBUTES) + [
        f"attr_{_ATTRIBUTE_WORDS[w]}_{j + 1}" for j, w in enumerate(words)
    ]
    pools = (
        _COLORS,
        _SIZES,
        _MATERIALS,
        tuple(str(d) for d in range(1, 731)),
        ("true", "false"),
        _VALUE_WORDS,
        _FLAGS,
        _long_texts(),
    )
    counts = np.array([len(pool) for pool in pools])
    segments = np.stack([np.concatenate([[0], np.cumsum(counts)[:-1]]), counts], axis=1)
    tail_kind = rng.choice([5, 3, 6, 7], size=tail, p=[0.5, 0.3, 0.12, 0.08])
    weights = np.array([1.0 / (rank + 5.0) ** 0.8 for rank in range(tail)])
    return _AttributeVocabulary(
        names=pa.array(names),
        values=pa.array([value for pool in pools for value in pool]),
        segments=segments,
        kind=np.concatenate([np.arange(len(_HOT_ATTRIBUTES)), tail_kind]),
        weights=weights / weights.sum(),
    )


@dataclass(frozen=True)
class _AttributeRows:
    sku: np.ndarray
    name: np.ndarray
    value: np.ndarray  # -1: null (the attribute is removed)

    def select(self, mask: np.ndarray) -> _AttributeRows:
        return _AttributeRows(self.sku[mask], self.name[mask], self.value[mask])

    @staticmethod
    def concat(parts: Sequence[_AttributeRows]) -> _AttributeRows:
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return _AttributeRows(empty, empty, empty)
        rows = _AttributeRows(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in ("sku", "name", "value"))
        )
        order = np.lexsort((rows.name, rows.sku))
        return _AttributeRows(rows.sku[order], rows.name[order], rows.value[order])


def _attribute_block(
    rng: np.random.Generator, vocab: _AttributeVocabulary, first: int, last: int, total: int
) -> _AttributeRows:
    skus = np.arange(first, last)
    hot = len(_HOT_ATTRIBUTES)
    counts = rng.poisson(8, len(skus))
    picked_sku = np.repeat(skus, counts)
    picked = rng.choice(vocab.long_tail, size=len(picked_sku), p=vocab.weights)
    guaranteed = np.arange(vocab.long_tail)
    owner = guaranteed % total
    mine = (owner >= first) & (owner < last)
    keys = np.unique(
        np.concatenate(
            [
                picked_sku * vocab.long_tail + picked,
                owner[mine] * vocab.long_tail + guaranteed[mine],
            ]
        )
    )
    sku = np.concatenate([np.repeat(skus, hot), keys // vocab.long_tail])
    name = np.concatenate([np.tile(np.arange(hot), len(skus)), hot + keys % vocab.long_tail])
    value = _attribute_values(rng, vocab, name)
    order = np.lexsort((name, sku))
    return _AttributeRows(sku[order], name[order], value[order])


def _attribute_values(
    rng: np.random.Generator, vocab: _AttributeVocabulary, name: np.ndarray
) -> np.ndarray:
    first, count = vocab.segments[vocab.kind[name]].T
    return first + rng.integers(0, count)


def _attribute_columns(
    t: _Tenant, vocab: _AttributeVocabulary, rows: _AttributeRows, stamp: str
) -> list[pa.Array]:
    return [
        _take(t.skus.codes, rows.sku),
        _take(vocab.names, rows.name),
        _take(vocab.values, np.maximum(rows.value, 0), rows.value < 0),
        pa.repeat(pa.scalar(stamp), len(rows.sku)),
    ]


def _attribute_changes(
    rng: np.random.Generator,
    vocab: _AttributeVocabulary,
    rows: _AttributeRows,
    first_file: np.ndarray,
    deltas: int,
) -> tuple[_AttributeRows, np.ndarray]:
    """Some values change and a few long-tail attributes are removed, each in a later delta."""
    draw = rng.random(len(rows.sku))
    later = first_file[rows.sku] < deltas - 1
    removed = later & (draw < 0.004) & (rows.name >= len(_HOT_ATTRIBUTES))
    changed = later & (draw >= 0.004) & (draw < 0.024)
    chosen = removed | changed
    first, count = vocab.segments[vocab.kind[rows.name[chosen]]].T
    shift = 1 + rng.integers(0, np.maximum(count - 1, 1))
    new_value = first + (rows.value[chosen] - first + shift) % count
    new_value = np.where(removed[chosen], -1, new_value)
    low = first_file[rows.sku[chosen]] + 1
    delta = low + np.floor(rng.random(int(chosen.sum())) * (deltas - low)).astype(np.int64)
    return _AttributeRows(rows.sku[chosen], rows.name[chosen], new_value), delta


_ATTRIBUTE_DELTA_STYLES = (
    _Style(header="spaced"),
    _Style(order=("attribute_name", "sku_code", "updated_at", "attribute_value")),
    _Style(crlf=True),
)


def _write_attributes(t: _Tenant, output: _Output) -> None:
    cal = t.cal
    rng = t.rng("attributes")
    vocab = _attribute_vocabulary(rng)
    deltas = len(cal.delta_days)
    first_file = np.searchsorted(np.array(cal.delta_days), t.skus.known, side="left")
    first_file = np.where(t.skus.known <= cal.full_day, -1, first_file)
    stamp = _timestamp(cal, cal.full_day)
    first_row = _AttributeRows(np.array([0]), np.array([0]), np.array([0]))
    template = _template(t, "sku_attributes", _attribute_columns(t, vocab, first_row, stamp))
    name = f"sku_attributes_{cal.iso(cal.full_day)}_full"
    sink = _open_sink(t, output, "sku_attributes", name, _Style(gzip=True, bom=True), template)
    later: list[list[_AttributeRows]] = [[] for _ in range(deltas)]
    block = max(1, 200_000 // (len(_HOT_ATTRIBUTES) + 10))
    for first in range(0, t.skus.count, block):
        rows = _attribute_block(rng, vocab, first, min(first + block, t.skus.count), t.skus.count)
        sink.write(_attribute_columns(t, vocab, rows.select(first_file[rows.sku] == -1), stamp))
        for j in range(deltas):
            later[j].append(rows.select(first_file[rows.sku] == j))
        changes, delta = _attribute_changes(rng, vocab, rows, first_file, deltas)
        for j in range(deltas):
            later[j].append(changes.select(delta == j))
    sink.close()
    for j, day in enumerate(cal.delta_days):
        style = _ATTRIBUTE_DELTA_STYLES[j % len(_ATTRIBUTE_DELTA_STYLES)]
        columns = _attribute_columns(
            t, vocab, _AttributeRows.concat(later[j]), _timestamp(cal, day, style.timestamps)
        )
        name = f"sku_attributes_{cal.iso(day)}"
        _write_rows(t, output, "sku_attributes", name, style, columns)


# sales ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SalesRows:
    sku: np.ndarray
    location: np.ndarray
    day: np.ndarray
    units: np.ndarray  # units_sold * 10_000
    cents: np.ndarray  # net_revenue * 100; -1: null
    updated: np.ndarray  # updated_at is the morning after this day
    file: np.ndarray

    def take(self, idx: np.ndarray) -> _SalesRows:
        return _SalesRows(*(getattr(self, f)[idx] for f in _SALES_FIELDS))

    @staticmethod
    def concat(a: _SalesRows, b: _SalesRows) -> _SalesRows:
        return _SalesRows(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in _SALES_FIELDS))


_SALES_FIELDS = ("sku", "location", "day", "units", "cents", "updated", "file")


@dataclass(frozen=True)
class _SalesFile:
    filename: str
    style: _Style
    bad_rows: bool


def _sales_files(t: _Tenant) -> tuple[list[_SalesFile], np.ndarray]:
    """The sales files of a tenant, and the file each sale day is first sent in."""
    cal = t.cal
    backfill = np.arange(cal.window_start)
    years = cal.year_of(backfill)
    files = []
    for year in np.unique(years):
        last = int(backfill[years == year][-1])
        files.append(_SalesFile(f"sales_{cal.iso(last)}_backfill", _Style(gzip=True), False))
    daily = cal.days - cal.window_start
    for j in range(daily):
        style = _daily_sales_style(j, t.dirty)
        files.append(_SalesFile(f"sales_{cal.iso(cal.window_start + j)}", style, False))
    bad = len(files) - daily + daily // 2
    files[bad] = replace(files[bad], bad_rows=t.has_bad_rows("sales"))
    year_index = np.searchsorted(np.unique(years), years)
    day_file = np.concatenate([year_index, len(files) - daily + np.arange(daily)])
    return files, day_file


def _daily_sales_style(j: int, dirty: bool) -> _Style:
    styles = {
        1: _Style(header="upper"),
        2: _Style(quoted=("location_code", "currency"), extra=("store_cluster",) if dirty else ()),
        3: _Style(
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
        5: _Style(bom=True),
        6: _Style(crlf=True),
        8: _Style(header="spaced", timestamps="offset"),
    }
    return replace(styles.get(j, _Style()), gzip=j % 3 == 1)


class _SalesText:
    """Turns sales rows into contract text columns, caching per-day lookups."""

    def __init__(self, t: _Tenant) -> None:
        self.t = t
        days = np.arange(t.cal.days)
        self.dates = _date_strings(t.cal, days)
        self._updated: dict[TimestampStyle, pa.Array] = {}
        self.currency = _take(t.currencies, t.locations.country)
        self.cluster = _take(pa.array(_CLUSTERS), t.locations.cluster)

    def updated(self, style: TimestampStyle) -> pa.Array:
        if style not in self._updated:
            days = np.arange(self.t.cal.days) + 1
            suffix = _timestamp_suffix(6, 0, style)
            self._updated[style] = pc.binary_join_element_wise(
                _date_strings(self.t.cal, days), suffix, ""
            )
        return self._updated[style]

    def columns(self, rows: _SalesRows, style: _Style) -> list[pa.Array]:
        columns = [
            _take(self.t.skus.codes, rows.sku),
            _take(self.t.locations.codes, rows.location),
            _take(self.dates, rows.day),
            _decimal(rows.units, 4),
            _decimal(rows.cents, 2, null=rows.cents < 0),
            _take(self.currency, rows.location),
            _take(self.updated(style.timestamps), rows.updated),
        ]
        return columns + [_take(self.cluster, rows.location) for _ in style.extra]


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


def _write_sales(t: _Tenant, output: _Output, bar: tqdm) -> None:
    files, day_file = _sales_files(t)
    text = _SalesText(t)
    last = t.cal.days - 1
    first_row = _SalesRows(*(np.array([v]) for v in (0, 0, last, 10_000, 100, last, 0)))
    sinks = []
    for f in files:
        template = _first_row(text.columns(first_row, f.style)) if f.bad_rows else None
        sinks.append(_open_sink(t, output, "sales", f.filename, f.style, template))
    rng = t.rng("sales")
    for tile in _sales_tiles(t.skus.count, t.locations.count, t.cal.days):
        rows = _sample_tile(t, rng, tile, day_file)
        if rows is not None:
            _emit_sales(rows, sinks, files, text)
        bar.update((tile[1] - tile[0]) * (tile[3] - tile[2]))
    for sink in sinks:
        sink.close()


def _emit_sales(
    rows: _SalesRows, sinks: list[_Sink], files: list[_SalesFile], text: _SalesText
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


def _sku_day_factors(t: _Tenant, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
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


def _promotions_of(t: _Tenant, first: int, last: int) -> range:
    low, high = np.searchsorted(t.promotions.sku, [first, last])
    return range(int(low), int(high))


def _promotion_span(t: _Tenant, k: int) -> tuple[int, int]:
    days = t.cal.days
    start = int(np.clip(t.promotions.start[k], 0, days))
    return start, int(np.clip(t.promotions.final_end[k] + 1, 0, days))


def _sample_tile(
    t: _Tenant, rng: np.random.Generator, tile: tuple[int, int, int, int], day_file: np.ndarray
) -> _SalesRows | None:
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
    return _SalesRows.concat(rows, _corrections(t, rng, rows, day_file))


def _local_promotions(
    t: _Tenant, s0: int, s1: int, l0: int, l1: int, pair_row: np.ndarray
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
    t: _Tenant,
    rng: np.random.Generator,
    sku: np.ndarray,
    location: np.ndarray,
    day: np.ndarray,
    counts: np.ndarray,
    factor: np.ndarray,
    day_file: np.ndarray,
) -> _SalesRows:
    n = len(sku)
    grams = np.where(
        rng.random(n) < 0.1, rng.integers(2000, 15000, n), rng.integers(200, 1500, n) * 10
    )
    units = np.where(t.skus.by_weight[sku], counts * grams, counts * 10_000)
    cents = np.rint(units / 10_000 * t.skus.price_cents[sku] * factor).astype(np.int64)
    cents = np.where(rng.random(n) < 0.003, -1, cents)
    return _SalesRows(sku, location, day, units.astype(np.int64), cents, day.copy(), day_file[day])


def _corrections(
    t: _Tenant, rng: np.random.Generator, rows: _SalesRows, day_file: np.ndarray
) -> _SalesRows:
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
    return _SalesRows(old.sku, old.location, old.day, units, cents, later, day_file[later])


# --------------------------------------------------------------------------- bad files


def _bad_file(
    t: _Tenant, output: _Output, reason: str, feed: str, suffix: str, lines: Sequence[str | bytes]
) -> None:
    """Write a file that must be rejected whole; ``lines`` are its header and data lines."""
    rel = f"{t.tenant_id}/{feed}/{feed}_{t.cal.iso(t.cal.days - 1)}{suffix}.csv"
    path = output.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines))
    output.files.append(FileRecord(rel, t.tenant_id, feed, max(0, len(lines) - 1)))
    output.rejected.append(RejectedFile(rel, reason))


def _csv_line(values: Sequence[str | None]) -> str:
    return ",".join(_quote(value or "") for value in values)


def _plain_lines(columns: Sequence[pa.Array]) -> list[str]:
    return [_csv_line(row) for row in zip(*(c.to_pylist() for c in columns), strict=True)]


def _header(feed: str) -> str:
    return ",".join(FEEDS[feed].column_names)


def _not_utf8(t: _Tenant, output: _Output) -> None:
    last, renamed = t.cal.days - 1, np.zeros(t.skus.count, dtype=np.int64)
    idx = np.arange(min(t.skus.count, 20))
    columns = _sku_columns(t, idx, last, t.skus.pack, renamed, _timestamp(t.cal, last))
    latin1 = _first_row(columns)
    latin1[1] = "Caf\u00e9 Cr\u00e8me"
    lines: list[str | bytes] = [_header("skus"), *_plain_lines(columns)]
    lines.insert(len(lines) // 2 + 1, _csv_line(latin1).encode("latin-1"))
    _bad_file(t, output, "not_utf8", "skus", "_export", lines)


def _not_csv(t: _Tenant, output: _Output) -> None:
    count, last = 30, t.cal.days - 1
    rows = _SalesRows(*(np.full(count, v) for v in (0, 0, last, 10_000, 250, last, 0)))
    rows = replace(rows, sku=np.arange(count) % t.skus.count)
    lines = _plain_lines(_SalesText(t).columns(rows, _Style()))
    lines[count // 3] = lines[count // 3].replace(",", ',"', 1)
    _bad_file(t, output, "not_csv", "sales", "_partial", [_header("sales"), *lines])


def _no_header(t: _Tenant, output: _Output) -> None:
    _bad_file(t, output, "no_header", "promotions", "_empty", [])


def _duplicate_header(t: _Tenant, output: _Output) -> None:
    last, renamed = t.cal.days - 1, np.zeros(t.locations.count, dtype=np.int64)
    idx = np.arange(min(t.locations.count, 10))
    stamp = _timestamp(t.cal, last)
    columns = _location_columns(t, idx, last, t.locations.region, renamed, stamp)
    header = _header("locations") + ", Location_Name"
    _bad_file(
        t,
        output,
        "duplicate_header",
        "locations",
        "_dup",
        [header, *_plain_lines([*columns, columns[1]])],
    )


def _missing_required_column(t: _Tenant, output: _Output) -> None:
    vocab = _attribute_vocabulary(t.rng("attributes"))
    sku = np.arange(min(t.skus.count, 10))
    rows = _AttributeRows(sku, np.zeros_like(sku), np.zeros_like(sku))
    header = ",".join(FEEDS["sku_attributes"].column_names[:3])
    lines = _plain_lines(_attribute_columns(t, vocab, rows, "")[:3])
    _bad_file(
        t, output, "missing_required_column", "sku_attributes", "_no_timestamps", [header, *lines]
    )


def _unknown_feed(t: _Tenant, output: _Output) -> None:
    stamp = _timestamp(t.cal, t.cal.days - 1)
    location = t.locations.codes[0].as_py()
    skus = t.skus.codes[:10].to_pylist()
    lines = [f"{sku},{location},{(7 * k) % 40},{stamp}" for k, sku in enumerate(skus)]
    header = "sku_code,location_code,on_hand,updated_at"
    _bad_file(t, output, "unknown_feed", "inventory", "", [header, *lines])


_BAD_FILE_WRITERS: dict[str, Callable[[_Tenant, _Output], None]] = {
    "not_utf8": _not_utf8,
    "not_csv": _not_csv,
    "no_header": _no_header,
    "duplicate_header": _duplicate_header,
    "missing_required_column": _missing_required_column,
    "unknown_feed": _unknown_feed,
}
