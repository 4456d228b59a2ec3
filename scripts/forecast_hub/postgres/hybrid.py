"""`forecast-hub hybrid --target postgres`: the planning tables, applied forward.

On the postgres target the tables of schema ``planning`` live in the
database dbt builds into: ``v_forecast`` reads them as sources, and they are
the edits store itself when the API's ``FORECAST_HUB_EDITS_STORE`` is the
URL `forecast-hub postgres start` prints, so nothing is copied into them.
Applying creates what is missing (the schema, the tables with their primary
keys, their indexes) and adds missing columns, in one transaction; as on
every other dialect, a change of a column's type or of a key stops with a
message, and nothing is ever dropped or rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

from forecast_hub.hybrid.ddl import create_indexes, create_table
from forecast_hub.hybrid.migrate import plan_table
from forecast_hub.hybrid.tables import SCHEMA, WAREHOUSE_SCHEMA, HybridSchema, Table
from forecast_hub.postgres.connection import connect
from forecast_hub.postgres.settings import PostgresSettings

# Serialises concurrent applies (two `forecast-hub hybrid` at once).
_APPLY_LOCK = "select pg_advisory_xact_lock(hashtext('forecast_hub.hybrid'))"


@dataclass(frozen=True)
class PostgresHybridSummary:
    database: str
    changes: list[str] = field(default_factory=list)

    def one_line(self) -> str:
        what = f"{len(self.changes)} schema changes" if self.changes else "schema up to date"
        return f"hybrid tables: {what}; schema {WAREHOUSE_SCHEMA} of {self.database}"


def apply_postgres_hybrid(
    postgres: PostgresSettings, schema: HybridSchema = SCHEMA
) -> PostgresHybridSummary:
    """Create or migrate the planning tables forward, keeping every row."""
    with connect(postgres) as conn, conn.transaction():
        conn.execute(_APPLY_LOCK)
        changes = migrate_postgres(conn, schema)
    return PostgresHybridSummary(postgres.url(with_password=False), changes)


def migrate_postgres(conn: psycopg.Connection, schema: HybridSchema) -> list[str]:
    """Bring schema ``planning`` up to ``schema``, inside the caller's transaction."""
    changes: list[str] = []
    conn.execute(f"create schema if not exists {WAREHOUSE_SCHEMA}")
    for table in schema.tables:
        columns, key = _existing(conn, table)
        if not columns:
            conn.execute(create_table(table, "postgres"))
            changes.append(f"created {WAREHOUSE_SCHEMA}.{table.name}")
        else:
            for statement, description in plan_table(
                table, columns, key, "postgres", "postgres database"
            ):
                conn.execute(statement)
                changes.append(description)
        indexes = _existing_indexes(conn, table)
        for index, statement in zip(table.indexes, create_indexes(table, "postgres"), strict=True):
            if index.name not in indexes:
                conn.execute(statement)
                changes.append(f"created index {index.name}")
    return changes


def _existing(conn: psycopg.Connection, table: Table) -> tuple[dict[str, str], list[str]]:
    """A table's columns (name -> information_schema type) and primary key, in order."""
    rows = conn.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        [WAREHOUSE_SCHEMA, table.name],
    ).fetchall()
    key = conn.execute(
        "select attribute.attname"
        " from pg_index as primary_index"
        " inner join pg_class as class on primary_index.indrelid = class.oid"
        " inner join pg_namespace as namespace on class.relnamespace = namespace.oid"
        " cross join unnest(primary_index.indkey) with ordinality as keys (attnum, key_position)"
        " inner join pg_attribute as attribute"
        "     on class.oid = attribute.attrelid and keys.attnum = attribute.attnum"
        " where primary_index.indisprimary and namespace.nspname = %s and class.relname = %s"
        " order by keys.key_position",
        [WAREHOUSE_SCHEMA, table.name],
    ).fetchall()
    return {name: data_type for name, data_type in rows}, [row[0] for row in key]


def _existing_indexes(conn: psycopg.Connection, table: Table) -> set[str]:
    rows = conn.execute(
        "select indexname from pg_indexes where schemaname = %s and tablename = %s",
        [WAREHOUSE_SCHEMA, table.name],
    ).fetchall()
    return {row[0] for row in rows}
