"""`forecast-hub hybrid --target emulator|snowflake`: the planning tables, applied forward.

On an account they are hybrid tables (``create hybrid table``: enforced
primary keys, row locks, the secondary indexes the API's queries use); on
the emulator, which rejects ``create hybrid table``, standard tables with
the same columns and primary keys, which it enforces.
``FORECAST_HUB_HYBRID_TABLES`` chooses, as for `snowflake apply-ddl`; the
emulator cannot run the hybrid variant, so it is refused there with the way
out.

Applying is idempotent and forward only, as on every other dialect
(``forecast_hub.hybrid.migrate``): a missing table is created, a missing
column added, a missing index created (hybrid tables); a column whose type
changed or a different primary key stops with a message; nothing is ever
dropped or rewritten. The statements an account runs and the emulator
cannot are rendered by ``planned_statements`` and linted in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from forecast_hub.errors import UserError
from forecast_hub.hybrid.ddl import Dialect, create_table
from forecast_hub.hybrid.migrate import plan_table
from forecast_hub.hybrid.tables import SCHEMA, WAREHOUSE_SCHEMA, HybridSchema, Table
from forecast_hub.snowflake.settings import SnowflakeSettings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

# information_schema.columns' data_type, as ddl.py declares it.
_DECLARED = {"text": "varchar", "fixed": "number", "real": "float"}


@dataclass(frozen=True)
class SnowflakeHybridSummary:
    target: str
    kind: str
    changes: list[str] = field(default_factory=list)

    def one_line(self) -> str:
        what = f"{len(self.changes)} schema changes" if self.changes else "schema up to date"
        where = f"{self.kind} tables of schema {WAREHOUSE_SCHEMA} on the {self.target}"
        return f"hybrid tables: {what}; {where}"


def dialect_of(settings: SnowflakeSettings) -> Dialect:
    """The DDL variant of the target; the emulator cannot create hybrid tables."""
    if settings.hybrid_tables == "standard":
        return "snowflake_standard"
    if settings.is_emulator and not settings.account_only_ddl:
        raise UserError(
            "the emulator cannot create hybrid tables: set FORECAST_HUB_HYBRID_TABLES=standard"
            " (the default on the emulator), or apply on an account"
        )
    return "snowflake_hybrid"


def create_index(table: Table, index_name: str, columns: tuple[str, ...]) -> str:
    """A secondary index added to an existing hybrid table (planned only when missing).

    The one statement here SQLFluff's snowflake grammar does not know
    (docs/snowflake.md); its form is checked by the tests instead.
    """
    return (
        f"create index if not exists {index_name}\n"
        f"on {WAREHOUSE_SCHEMA}.{table.name} ({', '.join(columns)});"
    )


def _existing(
    connection: SnowflakeConnection, table: Table, with_indexes: bool
) -> tuple[dict[str, str], list[str], set[str]]:
    """A table's columns (name -> declared type), primary key in order, and indexes."""
    cursor = connection.cursor()
    cursor.execute(
        "select lower(column_name), lower(data_type) from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        [WAREHOUSE_SCHEMA.upper(), table.name.upper()],
    )
    columns = {name: _DECLARED.get(kind, kind) for name, kind in cursor.fetchall()}
    if not columns:
        return {}, [], set()
    cursor.execute(f"show primary keys in table {WAREHOUSE_SCHEMA}.{table.name}")
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    key = [
        str(row["column_name"]).lower()
        for row in sorted(rows, key=lambda row: int(row["key_sequence"]))
    ]
    indexes: set[str] = set()
    if table.indexes and with_indexes:
        cursor.execute(f"show indexes in table {WAREHOUSE_SCHEMA}.{table.name}")
        names = [column[0] for column in cursor.description]
        indexes = {str(dict(zip(names, row, strict=True))["name"]).lower() for row in cursor}
    return columns, key, indexes


def planned_statements(
    dialect: Dialect,
    existing: dict[str, tuple[dict[str, str], list[str], set[str]]],
    schema: HybridSchema = SCHEMA,
) -> list[tuple[str, str]]:
    """(statement, description) that bring the tables up to ``schema``, from what exists."""
    plan = [(f"create schema if not exists {WAREHOUSE_SCHEMA};", "")]
    for table in schema.tables:
        columns, key, indexes = existing.get(table.name, ({}, [], set()))
        if not columns:
            plan.append((create_table(table, dialect), f"created {WAREHOUSE_SCHEMA}.{table.name}"))
            continue
        plan += plan_table(table, columns, key, dialect, f"{dialect} tables")
        if dialect == "snowflake_hybrid":
            plan += [
                (create_index(table, index.name, index.columns), f"created index {index.name}")
                for index in table.indexes
                if index.name not in indexes
            ]
    return plan


def apply_snowflake_hybrid(
    settings: SnowflakeSettings, schema: HybridSchema = SCHEMA
) -> SnowflakeHybridSummary:
    """Create or migrate the planning tables forward on the target, keeping every row."""
    from forecast_hub.snowflake.connection import connect

    dialect = dialect_of(settings)
    connection = connect(settings)
    try:
        connection.cursor().execute(f"create schema if not exists {WAREHOUSE_SCHEMA}")
        hybrid = dialect == "snowflake_hybrid"
        existing = {table.name: _existing(connection, table, hybrid) for table in schema.tables}
        changes = []
        for statement, description in planned_statements(dialect, existing, schema):
            connection.cursor().execute(statement.rstrip(";"))
            if description:
                changes.append(description)
    finally:
        connection.close()
    kind = "hybrid" if dialect == "snowflake_hybrid" else "standard"
    return SnowflakeHybridSummary(settings.target, kind, changes)
