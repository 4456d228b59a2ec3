"""Forward migrations: make a database match the definitions, keeping every row.

Applying is idempotent: a missing table is created, a missing column is
added (nullable, or with a default so existing rows keep a value) and a
missing index is created. Nothing is ever dropped or rewritten; a change
that cannot be made that way (a column's type, a primary key) stops with a
message instead of guessing.

One move is not of that kind: versions before the schema was called
``planning`` kept the warehouse tables in schema ``hybrid``. A table found
there, and not yet in ``planning``, is moved with every row (DuckDB has no
``alter table ... set schema``: created anew, rows copied by column name,
old table dropped, in the same transaction as the rest).
"""

from __future__ import annotations

import sqlite3
from typing import Any

import duckdb

from forecast_hub.errors import UserError
from forecast_hub.hybrid.ddl import (
    Dialect,
    add_column,
    column_type,
    create_indexes,
    create_table,
)
from forecast_hub.hybrid.tables import WAREHOUSE_SCHEMA, HybridSchema, Table

LEGACY_WAREHOUSE_SCHEMA = "hybrid"
"""Where the warehouse tables were before they moved to ``WAREHOUSE_SCHEMA``."""

_TYPE_ALIASES = {
    "float8": "double",
    "int8": "bigint",
    "bool": "boolean",
    "string": "varchar",
    # PostgreSQL's information_schema spelling.
    "character varying": "varchar",
    "double precision": "double",
    "timestamp without time zone": "timestamp",
}


def _normalize(declared: str) -> str:
    lowered = declared.strip().lower()
    return _TYPE_ALIASES.get(lowered, lowered)


def _existing_sqlite(conn: sqlite3.Connection, table: Table) -> tuple[dict[str, str], list[str]]:
    rows = conn.execute(f"pragma table_info({table.name})").fetchall()
    columns = {row[1]: row[2] for row in rows}
    key = [row[1] for row in sorted((r for r in rows if r[5]), key=lambda r: r[5])]
    return columns, key


def _existing_duckdb(
    conn: Any, table: Table, schema_name: str = WAREHOUSE_SCHEMA
) -> tuple[dict[str, str], list[str]]:
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [schema_name, table.name],
    ).fetchall()
    columns = {name: data_type for name, data_type in rows}
    found = conn.execute(
        "select constraint_column_names from duckdb_constraints()"
        " where schema_name = ? and table_name = ? and constraint_type = 'PRIMARY KEY'",
        [schema_name, table.name],
    ).fetchall()
    return columns, list(found[0][0]) if found else []


def plan_table(
    table: Table, columns: dict[str, str], key: list[str], dialect: Dialect, where: str
) -> list[tuple[str, str]]:
    """(statement, description) pairs that bring one existing table up to date."""
    if key != list(table.primary_key):
        raise UserError(
            f"{table.name} in the {where} has primary key ({', '.join(key)}), the definition"
            f" says ({', '.join(table.primary_key)}): a key change needs a hand-written migration"
        )
    plan = []
    for column in table.columns:
        if column.name not in columns:
            if not column.nullable and column.default is None:
                raise UserError(
                    f"new column {table.name}.{column.name} is not null without a default:"
                    " give it a default so the existing rows keep a value"
                )
            plan.append((add_column(table, column, dialect), f"added {table.name}.{column.name}"))
            continue
        want = _normalize(column_type(column, dialect).split("(")[0])
        have = _normalize(columns[column.name].split("(")[0])
        if want != have:
            raise UserError(
                f"{table.name}.{column.name} is {have} in the {where} but {want} in the"
                " definition: a type change needs a hand-written migration"
            )
    return plan


def _move_legacy_table(conn: Any, table: Table) -> str | None:
    """Move ``hybrid.<table>`` of an earlier version to ``planning``, keeping every row.

    Runs inside the caller's transaction, only when ``planning`` lacks the
    table. Returns what was done, or None when there is nothing to move.
    """
    columns, key = _existing_duckdb(conn, table, LEGACY_WAREHOUSE_SCHEMA)
    if not columns:
        return None
    legacy = f"{LEGACY_WAREHOUSE_SCHEMA}.{table.name}"
    where = f"warehouse (schema {LEGACY_WAREHOUSE_SCHEMA})"
    unknown = [name for name in columns if name not in table.column_names]
    if unknown:
        raise UserError(
            f"{legacy} has columns the definition lacks ({', '.join(unknown)}):"
            f" moving it to schema {WAREHOUSE_SCHEMA} would lose them; move it by hand"
        )
    # Refuses a key or type change, or a new not-null column without default,
    # exactly as for a table already in place.
    plan_table(table, columns, key, "duckdb", where)
    shared = ", ".join(name for name in table.column_names if name in columns)
    conn.execute(create_table(table, "duckdb"))
    (moved,) = conn.execute(
        f"insert into {WAREHOUSE_SCHEMA}.{table.name} ({shared}) select {shared} from {legacy}"
    ).fetchone()
    conn.execute(f"drop table {legacy}")
    rows = f"{moved:,} row" + ("" if moved == 1 else "s")
    return f"moved {legacy} to {WAREHOUSE_SCHEMA}.{table.name} ({rows})"


def _drop_legacy_schema(conn: Any) -> bool:
    """Drop schema ``hybrid`` once empty; DuckDB refuses while anything is left in it."""
    try:
        conn.execute(f"drop schema {LEGACY_WAREHOUSE_SCHEMA}")
    except duckdb.Error:
        return False
    return True


def migrate_sqlite(conn: sqlite3.Connection, schema: HybridSchema) -> list[str]:
    """Bring the SQLite edits store up to ``schema`` in one transaction."""
    changes: list[str] = []
    conn.execute("begin immediate")
    try:
        for table in schema.tables:
            columns, key = _existing_sqlite(conn, table)
            if not columns:
                conn.execute(create_table(table, "sqlite"))
                changes.append(f"created {table.name}")
            else:
                for statement, description in plan_table(
                    table, columns, key, "sqlite", "edits store"
                ):
                    conn.execute(statement)
                    changes.append(description)
            for statement in create_indexes(table, "sqlite"):
                conn.execute(statement)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return changes


def migrate_duckdb(conn: Any, schema: HybridSchema) -> list[str]:
    """Bring the warehouse's ``planning`` schema up to ``schema`` in one transaction.

    Tables an earlier version left in schema ``hybrid`` are moved first; the
    emptied schema is then dropped, after the commit, unless something else
    (not ours) is in it.
    """
    changes: list[str] = []
    moved = False
    conn.execute("begin transaction")
    try:
        conn.execute(f"create schema if not exists {WAREHOUSE_SCHEMA}")
        for table in schema.tables:
            columns, key = _existing_duckdb(conn, table)
            if columns:
                for statement, description in plan_table(
                    table, columns, key, "duckdb", "warehouse"
                ):
                    conn.execute(statement)
                    changes.append(description)
                continue
            move = _move_legacy_table(conn, table)
            if move:
                changes.append(move)
                moved = True
            else:
                conn.execute(create_table(table, "duckdb"))
                changes.append(f"created {WAREHOUSE_SCHEMA}.{table.name}")
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    if moved and _drop_legacy_schema(conn):
        changes.append(f"dropped the emptied schema {LEGACY_WAREHOUSE_SCHEMA}")
    return changes
