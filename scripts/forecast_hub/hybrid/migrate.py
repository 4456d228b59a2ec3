"""Forward migrations: make a database match the definitions, keeping every row.

Applying is idempotent: a missing table is created, a missing column is
added (nullable, or with a default so existing rows keep a value) and a
missing index is created. Nothing is ever dropped or rewritten; a change
that cannot be made that way (a column's type, a primary key) stops with a
message instead of guessing.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from forecast_hub.errors import UserError
from forecast_hub.hybrid.ddl import (
    WAREHOUSE_SCHEMA,
    Dialect,
    add_column,
    column_type,
    create_indexes,
    create_table,
)
from forecast_hub.hybrid.tables import HybridSchema, Table

_TYPE_ALIASES = {"float8": "double", "int8": "bigint", "bool": "boolean", "string": "varchar"}


def _normalize(declared: str) -> str:
    lowered = declared.strip().lower()
    return _TYPE_ALIASES.get(lowered, lowered)


def _existing_sqlite(conn: sqlite3.Connection, table: Table) -> tuple[dict[str, str], list[str]]:
    rows = conn.execute(f"pragma table_info({table.name})").fetchall()
    columns = {row[1]: row[2] for row in rows}
    key = [row[1] for row in sorted((r for r in rows if r[5]), key=lambda r: r[5])]
    return columns, key


def _existing_duckdb(conn: Any, table: Table) -> tuple[dict[str, str], list[str]]:
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = ? and table_name = ? order by ordinal_position",
        [WAREHOUSE_SCHEMA, table.name],
    ).fetchall()
    columns = {name: data_type for name, data_type in rows}
    found = conn.execute(
        "select constraint_column_names from duckdb_constraints()"
        " where schema_name = ? and table_name = ? and constraint_type = 'PRIMARY KEY'",
        [WAREHOUSE_SCHEMA, table.name],
    ).fetchall()
    return columns, list(found[0][0]) if found else []


def _plan_table(
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
                for statement, description in _plan_table(
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
    """Bring the warehouse's ``hybrid`` schema up to ``schema`` in one transaction."""
    changes: list[str] = []
    conn.execute("begin transaction")
    try:
        conn.execute(f"create schema if not exists {WAREHOUSE_SCHEMA}")
        for table in schema.tables:
            columns, key = _existing_duckdb(conn, table)
            if not columns:
                conn.execute(create_table(table, "duckdb"))
                changes.append(f"created {WAREHOUSE_SCHEMA}.{table.name}")
            else:
                for statement, description in _plan_table(
                    table, columns, key, "duckdb", "warehouse"
                ):
                    conn.execute(statement)
                    changes.append(description)
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    return changes
