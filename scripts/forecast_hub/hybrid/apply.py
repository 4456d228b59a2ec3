"""`forecast-hub hybrid` on the duckdb target: DDL, migrations, warehouse copy.

The edits store is the system of record and is migrated first: the SQLite
file, or the PostgreSQL database ``FORECAST_HUB_EDITS_STORE`` names. The
warehouse gets the same tables, with the same primary keys, in schema
``planning``, refreshed from the store in one transaction: they are what dbt
reads as sources, so ``v_forecast`` in the warehouse shows the edits as of
the last run of this command, while the API shows every edit at once.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from forecast_hub.duckdb_limits import apply_limits
from forecast_hub.errors import UserError
from forecast_hub.hybrid.ddl import column_type
from forecast_hub.hybrid.migrate import migrate_duckdb, migrate_sqlite
from forecast_hub.hybrid.store import connect_store, edits_store_path, format_timestamp
from forecast_hub.hybrid.tables import SCHEMA, WAREHOUSE_SCHEMA, HybridSchema, Table
from forecast_hub.settings import Settings, without_password

_ARROW_TYPES = {
    "varchar": pa.string(),
    "date": pa.string(),
    "timestamp": pa.string(),
    "double": pa.float64(),
    "bigint": pa.int64(),
    "boolean": pa.bool_(),
}


@dataclass(frozen=True)
class HybridSummary:
    store_path: Path | str
    """The SQLite file, or the PostgreSQL store's URL without its password."""
    warehouse_path: Path
    store_changes: list[str] = field(default_factory=list)
    warehouse_changes: list[str] = field(default_factory=list)
    copied: dict[str, int] = field(default_factory=dict)

    def one_line(self) -> str:
        changes = self.store_changes + self.warehouse_changes
        what = f"{len(changes)} schema changes" if changes else "schema up to date"
        copied = ", ".join(f"{name} {rows:,}" for name, rows in self.copied.items())
        return (
            f"hybrid tables: {what}; edits store {self.store_path}; "
            f"copied to {self.warehouse_path} ({copied})"
        )


def apply_hybrid(settings: Settings, schema: HybridSchema = SCHEMA) -> HybridSummary:
    """Create or migrate the edits store and the warehouse tables, then copy the rows."""
    store_path: Path | str
    if settings.edits_store == "sqlite":
        store_path = edits_store_path(settings)
        store = connect_store(store_path)
        try:
            store_changes = migrate_sqlite(store, schema)
        finally:
            store.close()
        staged = _read_store(store_path, schema)
    else:
        store_path, store_changes, staged = _migrate_and_read_postgres(settings.edits_store, schema)

    warehouse_path = settings.warehouse_path
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        warehouse = duckdb.connect(str(warehouse_path))
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise UserError(
            f"the warehouse {warehouse_path} is open in another process (a dbt build?);"
            " the edits store is up to date: run `forecast-hub hybrid` again after it"
        ) from error
    try:
        apply_limits(warehouse, settings, "hybrid")
        warehouse_changes = migrate_duckdb(warehouse, schema)
        copied = _copy_tables(staged, warehouse, schema)
    finally:
        warehouse.close()
    return HybridSummary(store_path, warehouse_path, store_changes, warehouse_changes, copied)


def _read_store(store_path: Path, schema: HybridSchema) -> dict[str, pa.Table]:
    """Every table of the store, read in one transaction so they agree."""
    source = connect_store(store_path, read_only=True)
    try:
        source.execute("begin")
        tables = {table.name: _read_table(source, table) for table in schema.tables}
        source.execute("commit")
    finally:
        source.close()
    return tables


def _migrate_and_read_postgres(
    url: str, schema: HybridSchema
) -> tuple[str, list[str], dict[str, pa.Table]]:
    """The PostgreSQL edits store migrated forward, then every table read in one snapshot."""
    import psycopg

    from forecast_hub.postgres.hybrid import migrate_postgres

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            with conn.transaction():
                changes = migrate_postgres(conn, schema)
            conn.execute("begin isolation level repeatable read read only")
            tables = {
                table.name: _read_batches(
                    table,
                    conn.execute(
                        f"select {', '.join(table.column_names)}"
                        f" from {WAREHOUSE_SCHEMA}.{table.name}"
                    ),
                )
                for table in schema.tables
            }
            conn.execute("commit")
    except psycopg.OperationalError as error:
        raise UserError(
            f"cannot reach the edits store {without_password(url)}: {str(error).strip()}"
        ) from error
    return without_password(url), changes, tables


def _as_stored(value: Any) -> Any:
    """A PostgreSQL value as the SQLite store keeps it: dates and times as text."""
    if isinstance(value, dt.datetime):
        return format_timestamp(value.replace(tzinfo=value.tzinfo or dt.UTC))
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# Rows turn into Arrow a batch at a time: Python holds one batch's tuples, never
# the whole store's.
_READ_BATCH_ROWS = 50_000


def _read_table(source: sqlite3.Connection, table: Table) -> pa.Table:
    return _read_batches(
        table, source.execute(f"select {', '.join(table.column_names)} from {table.name}")
    )


def _read_batches(table: Table, cursor: Any) -> pa.Table:
    """A DB-API cursor's rows as one Arrow table of ``table``'s columns."""
    batches = []
    while rows := cursor.fetchmany(_READ_BATCH_ROWS):
        batches.append(_rows_to_arrow(table, rows))
    if not batches:
        return _rows_to_arrow(table, [])
    return pa.concat_tables(batches)


def _rows_to_arrow(table: Table, rows: list[tuple[Any, ...]]) -> pa.Table:
    names = table.column_names
    rows = [tuple(_as_stored(value) for value in row) for row in rows]
    arrays = []
    for index, column in enumerate(table.columns):
        values = [row[index] for row in rows]
        if column.type == "boolean":
            values = [None if value is None else bool(value) for value in values]
        arrays.append(pa.array(values, type=_ARROW_TYPES[column.type]))
    return pa.Table.from_arrays(arrays, names=list(names))


def copy_store_to_warehouse(
    store_path: Path, warehouse: Any, schema: HybridSchema = SCHEMA
) -> dict[str, int]:
    """Replace the warehouse copy with the SQLite store's rows, all in one transaction."""
    return _copy_tables(_read_store(store_path, schema), warehouse, schema)


def _copy_tables(
    staged: dict[str, pa.Table], warehouse: Any, schema: HybridSchema
) -> dict[str, int]:
    warehouse.execute("begin transaction")
    try:
        for table in schema.tables:
            name = f"staged_{table.name}"
            warehouse.register(name, staged[table.name])
            casts = ", ".join(
                f"cast({column.name} as {column_type(column, 'duckdb')})"
                for column in table.columns
            )
            target = f"{WAREHOUSE_SCHEMA}.{table.name}"
            warehouse.execute(f"delete from {target}")
            warehouse.execute(
                f"insert into {target} ({', '.join(table.column_names)}) select {casts} from {name}"
            )
            warehouse.unregister(name)
        warehouse.execute("commit")
    except BaseException:
        warehouse.execute("rollback")
        raise
    return {table.name: staged[table.name].num_rows for table in schema.tables}
