"""DDL of the hybrid tables for each dialect, rendered from ``tables.py``.

Dialects:

- ``duckdb``: the warehouse copy dbt reads as sources (schema ``planning``).
- ``sqlite``: the edits store the API writes on the duckdb target.
- ``snowflake_hybrid``: ``create hybrid table`` with primary and secondary keys.
- ``snowflake_standard``: the same keys on standard tables, for accounts
  without hybrid tables and for the emulator.
- ``postgres``: the tables on the postgres target, where dbt reads them as
  sources and the API may write them (``FORECAST_HUB_EDITS_STORE``).

The files under ``hybrid/`` are this module's output; a unit test fails when
they differ, so the Python definition stays the one source of truth. The
Snowflake files are linted by SQLFluff (``make lint``); see ``_NOQA`` for the
two places it is told to look away.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Literal, get_args

from forecast_hub.hybrid.tables import (
    SCHEMA,
    WAREHOUSE_SCHEMA,
    Column,
    HybridSchema,
    LogicalType,
    Table,
)

Dialect = Literal["duckdb", "sqlite", "snowflake_hybrid", "snowflake_standard", "postgres"]
DIALECTS: tuple[Dialect, ...] = get_args(Dialect)
DDL_DIR = Path(__file__).resolve().parents[3] / "hybrid"

_TYPES: dict[str, dict[LogicalType, str]] = {
    "duckdb": {
        "varchar": "varchar",
        "date": "date",
        "timestamp": "timestamp",
        "double": "double",
        "bigint": "bigint",
        "boolean": "boolean",
    },
    "sqlite": {
        "varchar": "text",
        "date": "text",
        "timestamp": "text",
        "double": "real",
        "bigint": "integer",
        "boolean": "integer",
    },
    "postgres": {
        "varchar": "varchar",
        "date": "date",
        "timestamp": "timestamp",
        "double": "double precision",
        "bigint": "bigint",
        "boolean": "boolean",
    },
    "snowflake": {
        "varchar": "varchar",
        "date": "date",
        "timestamp": "timestamp_ntz",
        "double": "float",
        "bigint": "number(19, 0)",
        "boolean": "boolean",
    },
}


def _family(dialect: Dialect) -> str:
    return "snowflake" if dialect.startswith("snowflake") else dialect


def column_type(column: Column, dialect: Dialect) -> str:
    """The declared type of a column in a dialect."""
    declared = _TYPES[_family(dialect)][column.type]
    if column.max_length and _family(dialect) in ("snowflake", "postgres"):
        return f"{declared}({column.max_length})"
    return declared


def _literal(value: bool | int | float | str, dialect: Dialect) -> str:
    if isinstance(value, bool):
        if dialect == "sqlite":
            return "1" if value else "0"
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + value.replace("'", "''") + "'"


def column_definition(column: Column, dialect: Dialect) -> str:
    """One column as it appears in create table and alter table add column."""
    parts = [column.name, column_type(column, dialect)]
    if not column.nullable:
        parts.append("not null")
    if column.default is not None:
        parts.append(f"default {_literal(column.default, dialect)}")
    if dialect == "sqlite":
        # STRICT tables check the storage class; these checks cover what
        # SQLite has no type for.
        if column.type == "boolean":
            parts.append(f"check ({column.name} in (0, 1))")
        if column.max_length:
            parts.append(f"check (length({column.name}) <= {column.max_length})")
    return " ".join(parts)


# SQLFluff's RF04 (keywords as identifiers) on the Snowflake files, silenced
# line by line where it is wrong to follow it:
# - ``version`` and ``action`` are column names the API and every layer use
#   (the house style picks a name once); Snowflake does not reserve them.
# - ``index <name> (<columns>)`` of ``create hybrid table`` is Snowflake's own
#   syntax, which SQLFluff reads as a column named ``index``.
_NOQA = "  -- noqa: RF04"
_KEYWORD_COLUMNS = frozenset({"action", "version"})


def qualified_name(table: Table, dialect: Dialect) -> str:
    return table.name if dialect == "sqlite" else f"{WAREHOUSE_SCHEMA}.{table.name}"


def create_table(table: Table, dialect: Dialect) -> str:
    """``create ... if not exists``: applying it again changes nothing."""
    snowflake = _family(dialect) == "snowflake"
    lines = [
        (column_definition(column, dialect), snowflake and column.name in _KEYWORD_COLUMNS)
        for column in table.columns
    ]
    lines.append((f"primary key ({', '.join(table.primary_key)})", False))
    if dialect == "snowflake_hybrid":
        lines.extend(
            (f"index {index.name} ({', '.join(index.columns)})", True) for index in table.indexes
        )
    body = "\n".join(
        f"    {line}{',' if number < len(lines) else ''}{_NOQA if noqa else ''}"
        for number, (line, noqa) in enumerate(lines, start=1)
    )
    kind = "hybrid table" if dialect == "snowflake_hybrid" else "table"
    options = ""
    if dialect == "sqlite":
        # A single integer key is SQLite's rowid already; composite keys
        # are stored clustered by key instead of beside a hidden rowid.
        rowid = table.primary_key != ("log_id",)
        options = " strict, without rowid" if rowid else " strict"
    return f"create {kind} if not exists {qualified_name(table, dialect)} (\n{body}\n){options};"


def create_indexes(table: Table, dialect: Dialect) -> list[str]:
    """Secondary indexes created apart from the table (SQLite and PostgreSQL)."""
    if dialect not in ("sqlite", "postgres"):
        return []
    return [
        f"create index if not exists {index.name}\n"
        f"on {qualified_name(table, dialect)} ({', '.join(index.columns)});"
        for index in table.indexes
    ]


def add_column(table: Table, column: Column, dialect: Dialect) -> str:
    return (
        f"alter table {qualified_name(table, dialect)} "
        f"add column {column_definition(column, dialect)};"
    )


_PURPOSE: dict[Dialect, str] = {
    "duckdb": "The warehouse copy of the edits store that dbt reads as sources.",
    "sqlite": "The edits store the API writes on the duckdb target (edits/edits.sqlite).",
    "snowflake_hybrid": (
        "Snowflake hybrid tables: row-level writes with primary and secondary keys."
    ),
    "snowflake_standard": (
        "Snowflake standard tables with the same keys, for accounts without "
        "hybrid tables and for the emulator (FORECAST_HUB_HYBRID_TABLES=standard)."
    ),
    "postgres": (
        "The tables of schema planning on the postgres target: dbt reads them as "
        "sources, and the API writes them when FORECAST_HUB_EDITS_STORE is their "
        "postgresql:// URL."
    ),
}


def _comment(text: str) -> str:
    return textwrap.fill(text, width=78, initial_indent="-- ", subsequent_indent="-- ")


def render(schema: HybridSchema, dialect: Dialect) -> str:
    """The whole DDL file of a dialect."""
    header = [
        _comment(_PURPOSE[dialect]),
        "-- Generated from scripts/forecast_hub/hybrid/tables.py; edit that file and",
        "-- run `forecast-hub hybrid --write-ddl`, never this one.",
    ]
    if _family(dialect) == "snowflake":
        columns = " and ".join(sorted(_KEYWORD_COLUMNS))
        why = f"the columns {columns}, which Snowflake does not reserve"
        if dialect == "snowflake_hybrid":
            why += ", and the index clause, which SQLFluff reads as a column named index"
        header.append(
            _comment(f"Lines marked noqa: RF04 use words SQLFluff counts as keywords: {why}.")
        )
    blocks = []
    for table in schema.tables:
        note = _comment(f"{table.name}: {table.description}")
        blocks.append(
            "\n".join([note, create_table(table, dialect), *create_indexes(table, dialect)])
        )
    if dialect != "sqlite":
        blocks.insert(0, f"create schema if not exists {WAREHOUSE_SCHEMA};")
    return "\n".join(header) + "\n\n" + "\n\n".join(blocks) + "\n"


def ddl_files(schema: HybridSchema = SCHEMA) -> dict[str, str]:
    """File name -> content of every DDL file under ``hybrid/``."""
    return {f"{dialect}.sql": render(schema, dialect) for dialect in DIALECTS}


def write_ddl_files(directory: Path = DDL_DIR, schema: HybridSchema = SCHEMA) -> list[Path]:
    """Write the DDL files; returns those whose content changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, content in ddl_files(schema).items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
            changed.append(path)
    return changed
