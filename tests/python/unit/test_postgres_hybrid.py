"""The planning tables on PostgreSQL: applied idempotently, migrated forward, never dropped."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
import pytest

from forecast_hub.errors import UserError
from forecast_hub.hybrid.ddl import ddl_files
from forecast_hub.hybrid.tables import MANUAL_EDIT_LOG, MANUAL_EDITS, SCHEMA, Column
from forecast_hub.postgres import PostgresSettings
from forecast_hub.postgres.hybrid import apply_postgres_hybrid

EDIT = (
    "insert into planning.manual_edits_ht"
    " (tenant_id, sku_id, forecast_date, manual_qty, edited_by, edited_at, version)"
    " values ('acme', 'A', '2025-03-03', 12.5, 'ann', '2025-03-01 10:00:00', 1)"
)


def _run(postgres: PostgresSettings, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(**postgres.connect_parameters(), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


def _catalog(postgres: PostgresSettings) -> list[tuple[Any, ...]]:
    """Every column, key and index of schema planning, to compare two ways of applying."""
    return _run(
        postgres,
        "select table_name, column_name, data_type, is_nullable, column_default,"
        " character_maximum_length from information_schema.columns"
        " where table_schema = 'planning'"
        " union all select tablename, indexname, indexdef, null, null, null"
        " from pg_indexes where schemaname = 'planning' order by 1, 2",
    )


def test_applying_creates_the_tables_then_changes_nothing(
    postgres_database: PostgresSettings,
) -> None:
    first = apply_postgres_hybrid(postgres_database)
    second = apply_postgres_hybrid(postgres_database)

    assert first.changes == [
        "created planning.manual_edits_ht",
        "created index manual_edits_ht_by_edited_at",
        "created planning.user_prefs_ht",
        "created planning.manual_edit_log_ht",
        "created index manual_edit_log_ht_by_edited_at",
    ]
    assert second.changes == []
    assert second.one_line() == (
        f"hybrid tables: schema up to date; schema planning of"
        f" {postgres_database.url(with_password=False)}"
    )
    _run(postgres_database, EDIT)
    with pytest.raises(psycopg.errors.UniqueViolation):
        _run(postgres_database, EDIT)
    assert _run(postgres_database, "select is_removed from planning.manual_edits_ht") == [(False,)]


def test_the_rendered_file_builds_what_applying_builds(
    postgres_database: PostgresSettings, postgres_server: Any
) -> None:
    apply_postgres_hybrid(postgres_database)
    applied = _catalog(postgres_database)
    other = replace(postgres_database, database=f"{postgres_database.database}_file")
    _run(postgres_database, f"create database {other.database}")
    try:
        script = ddl_files()["postgres.sql"]
        _run(other, script)
        _run(other, script)  # if not exists throughout: a second run changes nothing
        assert _catalog(other) == applied
    finally:
        _run(postgres_database, f"drop database {other.database} with (force)")


def test_a_new_column_is_added_keeping_every_row_and_nothing_is_dropped(
    postgres_database: PostgresSettings,
) -> None:
    apply_postgres_hybrid(postgres_database)
    _run(postgres_database, EDIT)
    _run(postgres_database, "alter table planning.user_prefs_ht add column theme varchar")
    note = Column("note", "varchar", "A planner's note.", max_length=200)
    grown = SCHEMA.replacing(MANUAL_EDITS.with_column(note))

    applied = apply_postgres_hybrid(postgres_database, grown)

    assert applied.changes == ["added manual_edits_ht.note"]
    assert _run(postgres_database, "select manual_qty, note from planning.manual_edits_ht") == [
        (12.5, None)
    ]
    # A column the definition does not know (added by hand) is left alone.
    columns = "select column_name from information_schema.columns where table_name = "
    assert ("theme",) in _run(postgres_database, columns + "'user_prefs_ht'")


def test_a_type_or_key_change_stops_with_a_message_and_changes_nothing(
    postgres_database: PostgresSettings,
) -> None:
    apply_postgres_hybrid(postgres_database)
    retyped = replace(
        MANUAL_EDITS,
        columns=tuple(
            replace(column, type="bigint") if column.name == "manual_qty" else column
            for column in MANUAL_EDITS.columns
        ),
    )
    with pytest.raises(UserError, match="manual_qty is double in the postgres database but"):
        apply_postgres_hybrid(postgres_database, SCHEMA.replacing(retyped))

    # The first table gains a column, the last one's key changes.
    grown = SCHEMA.replacing(MANUAL_EDITS.with_column(Column("note", "varchar", "A note.")))
    rekeyed = replace(MANUAL_EDIT_LOG, primary_key=("log_id", "tenant_id"))
    with pytest.raises(UserError, match=r"has primary key \(log_id\), the definition says"):
        apply_postgres_hybrid(postgres_database, grown.replacing(rekeyed))
    # Nothing of a refused apply stays: the new column went with the transaction.
    assert apply_postgres_hybrid(postgres_database).changes == []
    columns = "select count(*) from information_schema.columns where column_name = 'note'"
    assert _run(postgres_database, columns) == [(0,)]
