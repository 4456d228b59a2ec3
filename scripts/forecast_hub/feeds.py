"""The client feed contract (docs/client-feeds.md) as data.

One source of truth for the generator, the ingester, the lander and the raw
warehouse tables: each feed's columns, their types, and the rules a value must
keep. Validation SQL is derived from these definitions, never written by hand
per feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["text", "date", "timestamp", "decimal", "int", "bool"]

FEED_NAMES: tuple[str, ...] = ("sales", "skus", "locations", "sku_attributes", "promotions")
TENANT_PATTERN = r"^[a-z0-9_]{1,32}$"


@dataclass(frozen=True)
class Rule:
    """A constraint beyond the type, checked after the value parses.

    ``sql`` is a boolean DuckDB expression that is true when the value is
    *valid*; ``{value}`` stands for the typed value and ``{row.<name>}`` for
    another typed column of the same row. It is only evaluated on non-null
    values.
    """

    name: str
    sql: str
    message: str


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    max_length: int | None = None
    rules: tuple[Rule, ...] = ()
    lowercase: bool = False  # the contract lower-cases the value before checking it

    @property
    def text_limit(self) -> int:
        """Maximum characters of a text column (the contract's default is 256)."""
        return self.max_length or 256


@dataclass(frozen=True)
class Feed:
    name: str
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    partition_date: str | None = None  # date column for the silver year partition

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _text(name: str, required: bool = False, max_length: int | None = None, *rules: Rule) -> Column:
    return Column(name, "text", required, max_length, tuple(rules))


_UPDATED_AT = Column("updated_at", "timestamp", required=True)

FEEDS: dict[str, Feed] = {
    "sales": Feed(
        name="sales",
        columns=(
            _text("sku_code", True, 64),
            _text("location_code", True, 64),
            Column(
                "sale_date",
                "date",
                required=True,
                rules=(
                    Rule(
                        "date_in_range",
                        "{value} between date '2000-01-01' "
                        "and cast({ingested_at} as date) + interval 1 year",
                        "must be between 2000-01-01 and one year after ingestion",
                    ),
                ),
            ),
            Column(
                "units_sold",
                "decimal",
                required=True,
                rules=(
                    Rule("non_negative", "{value} >= 0", "must be >= 0"),
                    Rule("at_most_1e9", "{value} <= 1000000000", "must be <= 1e9"),
                ),
            ),
            Column("net_revenue", "decimal"),
            _text(
                "currency",
                False,
                3,
                Rule(
                    "iso_4217",
                    "{value} glob '[A-Za-z][A-Za-z][A-Za-z]'",
                    "must be three ISO 4217 letters",
                ),
            ),
            _UPDATED_AT,
        ),
        natural_key=("sku_code", "location_code", "sale_date"),
        partition_date="sale_date",
    ),
    "skus": Feed(
        name="skus",
        columns=(
            _text("sku_code", True, 64),
            _text("sku_name", True),
            _text("category", True),
            _text("subcategory"),
            _text("brand"),
            _text("unit_of_measure", False, 16),
            Column("pack_size", "int", rules=(Rule("positive", "{value} > 0", "must be > 0"),)),
            Column("is_active", "bool"),
            Column("launched_on", "date"),
            Column(
                "discontinued_on",
                "date",
                rules=(
                    Rule(
                        "not_before_launch",
                        "{row.launched_on} is null or {value} >= {row.launched_on}",
                        "must be on or after launched_on",
                    ),
                ),
            ),
            _UPDATED_AT,
        ),
        natural_key=("sku_code",),
    ),
    "locations": Feed(
        name="locations",
        columns=(
            _text("location_code", True, 64),
            _text("location_name"),
            _text("region"),
            _text(
                "country",
                False,
                2,
                Rule(
                    "iso_3166_alpha_2",
                    "regexp_full_match({value}, '[A-Za-z]{{2}}')",
                    "must be two ISO 3166-1 alpha-2 letters",
                ),
            ),
            _text(
                "location_type",
                False,
                None,
                Rule(
                    "known_location_type",
                    "lower({value}) in ('store', 'dc', 'online')",
                    "must be one of store, dc, online",
                ),
            ),
            Column("opened_on", "date"),
            Column("closed_on", "date"),
            _UPDATED_AT,
        ),
        natural_key=("location_code",),
    ),
    "sku_attributes": Feed(
        name="sku_attributes",
        columns=(
            _text("sku_code", True, 64),
            Column(
                "attribute_name",
                "text",
                required=True,
                max_length=64,
                lowercase=True,
                rules=(
                    Rule(
                        "attribute_name_pattern",
                        "regexp_full_match({value}, '[a-z][a-z0-9_]*')",
                        "lower-cased, must match [a-z][a-z0-9_]*",
                    ),
                ),
            ),
            _text("attribute_value", False, 1024),
            _UPDATED_AT,
        ),
        natural_key=("sku_code", "attribute_name"),
    ),
    "promotions": Feed(
        name="promotions",
        columns=(
            _text("promo_id", True, 64),
            _text("sku_code", True, 64),
            _text("location_code", False, 64),
            Column("start_date", "date", required=True),
            Column(
                "end_date",
                "date",
                required=True,
                rules=(
                    Rule(
                        "not_before_start",
                        "{row.start_date} is null or {value} >= {row.start_date}",
                        "must be on or after start_date",
                    ),
                ),
            ),
            _text("promo_type", False, 32),
            Column(
                "discount_pct",
                "decimal",
                rules=(
                    Rule(
                        "percentage",
                        "{value} between 0 and 100",
                        "must be between 0 and 100",
                    ),
                ),
            ),
            _UPDATED_AT,
        ),
        natural_key=("promo_id",),
    ),
}

# Lineage columns every silver row carries, after the feed's own columns.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("tenant_id", "varchar"),
    ("extra_columns", "varchar"),  # JSON object of unknown extra columns, or null
    ("source_file", "varchar"),  # path relative to the bronze root
    ("source_file_seq", "bigint"),  # arrival order of the file, for tie-breaks
    ("source_line", "bigint"),  # physical line where the row starts (header = 1)
    ("file_sha256", "varchar"),
    ("ingested_at", "timestamp with time zone"),
)

DUCKDB_TYPES: dict[ColumnType, str] = {
    "text": "varchar",
    "date": "date",
    "timestamp": "timestamp with time zone",
    "decimal": "decimal(18,4)",
    "int": "bigint",
    "bool": "boolean",
}


def silver_columns(feed: Feed) -> list[tuple[str, str]]:
    """Column names and DuckDB types of a feed's silver rows, in order."""
    own = [(c.name, DUCKDB_TYPES[c.type]) for c in feed.columns]
    return own + list(LINEAGE_COLUMNS)
