"""`forecast-hub hybrid` on the duckdb target: DDL, migrations, warehouse copy.

The SQLite edits store is the system of record and is migrated first. The
warehouse gets the same tables, with the same primary keys, in schema
``planning``, refreshed from the store in one transaction: they are what dbt
reads as sources, so ``v_forecast`` in the warehouse shows the edits as of
the last run of this command, while the API shows every edit at once.

Bound: the store's rows cross to the warehouse in batches of
``STORE_BATCH_ROWS``; the warehouse's DuckDB keeps within
FORECAST_HUB_DUCKDB_MEMORY_LIMIT. Time: one read of the store.
"""

from __future__ import annotations

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
from forecast_hub.hybrid.store import connect_store, edits_store_path
from forecast_hub.hybrid.tables import SCHEMA, WAREHOUSE_SCHEMA, HybridSchema, Table
from forecast_hub.settings import Settings

# Store rows copied to the warehouse per batch.
STORE_BATCH_ROWS = 50_000
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
    store_path: Path
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
    store_path = edits_store_path(settings)
    store = connect_store(store_path)
    try:
        store_changes = migrate_sqlite(store, schema)
    finally:
        store.close()

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
        copied = copy_store_to_warehouse(store_path, warehouse, schema)
    finally:
        warehouse.close()
    return HybridSummary(store_path, warehouse_path, store_changes, warehouse_changes, copied)


def _arrow_rows(table: Table, rows: list[tuple[Any, ...]]) -> pa.Table:
    """One batch of store rows as Arrow, typed as the warehouse copy expects them."""
    arrays = []
    for index, column in enumerate(table.columns):
        values = [row[index] for row in rows]
        if column.type == "boolean":
            values = [None if value is None else bool(value) for value in values]
        arrays.append(pa.array(values, type=_ARROW_TYPES[column.type]))
    return pa.Table.from_arrays(arrays, names=list(table.column_names))


def _copy_table(source: sqlite3.Connection, warehouse: Any, table: Table) -> int:
    """Append the store's rows of one table to its warehouse copy, a batch at a time."""
    name = f"staged_{table.name}"
    casts = ", ".join(
        f"cast({column.name} as {column_type(column, 'duckdb')})" for column in table.columns
    )
    insert = (
        f"insert into {WAREHOUSE_SCHEMA}.{table.name} ({', '.join(table.column_names)})"
        f" select {casts} from {name}"
    )
    cursor = source.execute(f"select {', '.join(table.column_names)} from {table.name}")
    copied = 0
    while rows := cursor.fetchmany(STORE_BATCH_ROWS):
        warehouse.register(name, _arrow_rows(table, rows))
        try:
            warehouse.execute(insert)
        finally:
            warehouse.unregister(name)
        copied += len(rows)
    return copied


def copy_store_to_warehouse(
    store_path: Path, warehouse: Any, schema: HybridSchema = SCHEMA
) -> dict[str, int]:
    """Replace the warehouse copy with the store's rows, all tables in one transaction.

    The store is read in one transaction too, so the tables agree. Bound:
    rows cross in batches of ``STORE_BATCH_ROWS``; neither side's table is
    ever whole in Python.
    """
    source = connect_store(store_path, read_only=True)
    copied = {}
    try:
        source.execute("begin")
        warehouse.execute("begin transaction")
        try:
            for table in schema.tables:
                warehouse.execute(f"delete from {WAREHOUSE_SCHEMA}.{table.name}")
                copied[table.name] = _copy_table(source, warehouse, table)
            warehouse.execute("commit")
        except BaseException:
            warehouse.execute("rollback")
            raise
        source.execute("commit")
    finally:
        source.close()
    return copied
