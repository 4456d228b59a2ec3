"""Dirty mode's bad rows: the ways to break each rule of a feed, and who gets them.

Every rule of the feed contract gets at least one ``BadVariant``; an ``Injector``
adds bad copies of a file's good rows, cycling through its feed's variants so
each occurs. ``assigned`` spreads the feeds with bad rows and the reasons for
bad files (``FILE_REASONS``) over the tenants.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from forecast_hub.feeds import FEED_NAMES, FEEDS
from forecast_hub.generate.calendar import HISTORY_END

FILE_REASONS = (
    "not_utf8",
    "not_csv",
    "no_header",
    "duplicate_header",
    "missing_required_column",
    "unknown_feed",
)

_BAD_ROW_SHARE = 0.0075


def assigned(index: int, tenants: int, items: Sequence[str]) -> tuple[str, ...]:
    """Spread items over tenants so that every item goes to at least one tenant."""
    groups = min(tenants, len(items))
    return tuple(item for k, item in enumerate(items) if k % groups == index % groups)


@dataclass(frozen=True)
class BadVariant:
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


def _bad_variants(feed_name: str) -> tuple[BadVariant, ...]:
    feed = FEEDS[feed_name]
    variants = [
        BadVariant("field_count", None, fields=1),
        BadVariant("field_count", None, fields=-1),
    ]
    for column in feed.columns:
        name = column.name
        if column.required:
            variants.append(BadVariant("required", name, ((name, ""),)))
        if column.type != "text":
            variants.append(BadVariant("type", name, ((name, _BAD_TYPE_VALUES[column.type]),)))
        elif not column.rules or (feed_name, name) in _LONG_VALUE_KEEPS_RULES:
            too_long = "x" * (column.text_limit + 1)
            variants.append(BadVariant("max_length", name, ((name, too_long),)))
        for rule in column.rules:
            for values in _NAMED_RULE_VALUES[(feed_name, rule.name)]:
                variants.append(BadVariant(rule.name, name, values))
    return tuple(variants)


BAD_VARIANTS: dict[str, tuple[BadVariant, ...]] = {name: _bad_variants(name) for name in FEED_NAMES}


@dataclass
class Injector:
    """Adds bad copies of good rows to one file, cycling through every variant of its feed."""

    rng: np.random.Generator
    variants: tuple[BadVariant, ...]
    template: list[str | None]  # a valid row, copied for variants the file's rows did not get
    used: int = 0

    def sources(self, rows: int) -> np.ndarray:
        count = int(self.rng.binomial(rows, _BAD_ROW_SHARE))
        return np.sort(self.rng.choice(rows, size=count, replace=False))

    def next_variant(self) -> BadVariant:
        variant = self.variants[self.used % len(self.variants)]
        self.used += 1
        return variant

    def missing(self) -> list[BadVariant]:
        return [self.next_variant() for _ in range(max(0, len(self.variants) - self.used))]
