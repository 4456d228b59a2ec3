"""The tables people write: one definition, rendered for every dialect.

Planners' edits and preferences are the only data here that cannot be
rebuilt, so their columns are defined once, in Python, and every DDL file
under ``hybrid/`` (DuckDB, SQLite, Snowflake hybrid and standard tables) is
generated from this module. dbt never builds these tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

LogicalType = Literal["varchar", "date", "timestamp", "double", "bigint", "boolean"]

WAREHOUSE_SCHEMA = "planning"
"""The schema of these tables in the warehouse (DuckDB copy, Snowflake tables).

Earlier versions used ``hybrid``, which SQLFluff's snowflake dialect reserves
(the DDL could not be linted); ``migrate.py`` moves tables found there.
"""

TENANT_DEFAULTS_USER = "*"
"""The ``user_id`` of the row in user_prefs_ht that holds a tenant's defaults."""


@dataclass(frozen=True)
class Column:
    name: str
    type: LogicalType
    description: str
    nullable: bool = True
    default: bool | int | float | str | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Index:
    """A secondary index the API's queries need (Snowflake hybrid tables, SQLite)."""

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    indexes: tuple[Index, ...] = ()
    append_only: bool = False

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def with_column(self, column: Column) -> Table:
        """This table with one more column: how a forward migration starts."""
        return replace(self, columns=(*self.columns, column))


@dataclass(frozen=True)
class HybridSchema:
    """Every table people write, in creation order."""

    tables: tuple[Table, ...] = field(default_factory=tuple)

    def table(self, name: str) -> Table:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(f"no hybrid table {name}")

    def replacing(self, table: Table) -> HybridSchema:
        return HybridSchema(tuple(table if t.name == table.name else t for t in self.tables))


MANUAL_EDITS = Table(
    name="manual_edits_ht",
    description=(
        "Planners' manual edits: one row per tenant, SKU and forecast date. "
        "A removed edit stays as a row with is_removed and no quantity, so "
        "its version keeps counting and a stale expected_version never "
        "matches again."
    ),
    columns=(
        Column("tenant_id", "varchar", "The tenant.", nullable=False),
        Column("sku_id", "varchar", "The client's sku_code.", nullable=False),
        Column("forecast_date", "date", "First date of the forecast period.", nullable=False),
        Column("manual_qty", "double", "The planner's quantity; null once removed."),
        Column("reason", "varchar", "Why the planner changed it.", max_length=500),
        Column("edited_by", "varchar", "The user who made the last change.", nullable=False),
        Column("edited_at", "timestamp", "When the last change was stored (UTC).", nullable=False),
        Column("version", "bigint", "1 at creation, +1 at every change.", nullable=False),
        Column(
            "is_removed",
            "boolean",
            "The edit was removed; the draft shows again.",
            nullable=False,
            default=False,
        ),
    ),
    primary_key=("tenant_id", "sku_id", "forecast_date"),
    indexes=(Index("manual_edits_ht_by_edited_at", ("tenant_id", "edited_at")),),
)

USER_PREFS = Table(
    name="user_prefs_ht",
    description=(
        "Preferences: one row per tenant and user; the row of user '*' holds "
        "the tenant's defaults, and a null value inherits them."
    ),
    columns=(
        Column("tenant_id", "varchar", "The tenant.", nullable=False),
        Column("user_id", "varchar", "The user, or '*' for the tenant's defaults.", nullable=False),
        Column("show_manual", "boolean", "Show manual edits over the draft; null inherits."),
        Column("updated_at", "timestamp", "When the row was last written (UTC).", nullable=False),
    ),
    primary_key=("tenant_id", "user_id"),
)

MANUAL_EDIT_LOG = Table(
    name="manual_edit_log_ht",
    description=(
        "Append-only history of every upsert and removal of a manual edit: "
        "one row per change, written in the same transaction as the change."
    ),
    columns=(
        Column("log_id", "bigint", "Order of the change in the store.", nullable=False),
        Column("tenant_id", "varchar", "The tenant.", nullable=False),
        Column("sku_id", "varchar", "The client's sku_code.", nullable=False),
        Column("forecast_date", "date", "First date of the forecast period.", nullable=False),
        Column("action", "varchar", "upsert or remove.", nullable=False),
        Column("old_qty", "double", "The manual quantity before; null if there was none."),
        Column("new_qty", "double", "The manual quantity after; null for a removal."),
        Column("reason", "varchar", "The reason given with the change.", max_length=500),
        Column("edited_by", "varchar", "Who made the change.", nullable=False),
        Column("edited_at", "timestamp", "When the change was stored (UTC).", nullable=False),
        Column("version", "bigint", "The edit's version after the change.", nullable=False),
    ),
    primary_key=("log_id",),
    indexes=(Index("manual_edit_log_ht_by_edited_at", ("tenant_id", "edited_at")),),
    append_only=True,
)

SCHEMA = HybridSchema((MANUAL_EDITS, USER_PREFS, MANUAL_EDIT_LOG))
