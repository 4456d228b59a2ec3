"""The hybrid tables: one definition, every dialect, forward migrations that keep rows."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from forecast_hub.errors import UserError
from forecast_hub.hybrid import SCHEMA, apply_hybrid, connect_store, edits_store_path
from forecast_hub.hybrid.ddl import DDL_DIR, DIALECTS, ddl_files
from forecast_hub.hybrid.migrate import migrate_duckdb
from forecast_hub.hybrid.tables import MANUAL_EDITS, Column
from forecast_hub.settings import Settings


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


def _insert_edits(settings: Settings, rows: int) -> None:
    store = connect_store(edits_store_path(settings))
    store.executemany(
        "insert into manual_edits_ht (tenant_id, sku_id, forecast_date, manual_qty, reason,"
        " edited_by, edited_at, version, is_removed) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                "t1",
                f"sku-{n}",
                "2025-03-03",
                float(n),
                "why",
                "ann",
                "2025-03-01 00:00:00.000000",
                1,
                n % 2,
            )
            for n in range(rows)
        ],
    )
    store.execute("insert into user_prefs_ht values ('t1', '*', 0, '2025-03-01 00:00:00.000000')")
    store.close()


def _warehouse_rows(settings: Settings, sql: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.sql(sql).fetchall()
    finally:
        con.close()


def test_ddl_files_are_rendered_from_the_one_definition() -> None:
    stale = [
        name
        for name, content in ddl_files().items()
        if not (DDL_DIR / name).exists() or (DDL_DIR / name).read_text("utf-8") != content
    ]
    assert stale == [], "regenerate with `forecast-hub hybrid --write-ddl`"


def test_every_dialect_declares_the_same_primary_keys() -> None:
    for name, content in ddl_files().items():
        for table in SCHEMA.tables:
            assert f"primary key ({', '.join(table.primary_key)})" in content, (name, table.name)
    files = ddl_files()
    assert files["snowflake_hybrid.sql"].count("create hybrid table") == len(SCHEMA.tables)
    assert (
        "index manual_edit_log_ht_by_edited_at (tenant_id, edited_at)"
        in (files["snowflake_hybrid.sql"])
    )
    assert "create hybrid table" not in files["snowflake_standard.sql"]
    assert "index " not in files["snowflake_standard.sql"]
    assert set(files) == {f"{dialect}.sql" for dialect in DIALECTS}


def test_the_sqlite_and_duckdb_files_create_the_defined_keys(tmp_path: Path) -> None:
    files = ddl_files()
    lite = sqlite3.connect(tmp_path / "store.sqlite")
    lite.executescript(files["sqlite.sql"] * 2)
    keys = {
        row[1] for row in lite.execute("pragma table_info(manual_edits_ht)").fetchall() if row[5]
    }
    assert keys == set(MANUAL_EDITS.primary_key)
    duck = duckdb.connect()
    duck.execute(files["duckdb.sql"])
    duck.execute(files["duckdb.sql"])
    duck.execute(
        "insert into planning.manual_edits_ht values"
        " ('t', 's', '2025-01-01', 1, null, 'u', '2025-01-01', 1, false)"
    )
    with pytest.raises(duckdb.ConstraintException):
        duck.execute(
            "insert into planning.manual_edits_ht values"
            " ('t', 's', '2025-01-01', 2, null, 'u', '2025-01-01', 2, false)"
        )


def test_applying_twice_changes_nothing_and_copies_the_store(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = apply_hybrid(settings)
    assert "created manual_edits_ht" in first.store_changes
    _insert_edits(settings, 5)
    second = apply_hybrid(settings)
    assert second.store_changes == [] and second.warehouse_changes == []
    assert second.copied == {"manual_edits_ht": 5, "user_prefs_ht": 1, "manual_edit_log_ht": 0}
    rows = _warehouse_rows(
        settings,
        "select sku_id, manual_qty, is_removed, edited_at from planning.manual_edits_ht"
        " order by sku_id",
    )
    assert [(sku, qty, removed) for sku, qty, removed, _ in rows] == [
        (f"sku-{n}", float(n), bool(n % 2)) for n in range(5)
    ]
    assert str(rows[0][3]) == "2025-03-01 00:00:00"


def test_a_store_read_in_several_batches_is_copied_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("forecast_hub.hybrid.apply._READ_BATCH_ROWS", 2)
    settings = _settings(tmp_path)
    apply_hybrid(settings)
    _insert_edits(settings, 7)
    assert apply_hybrid(settings).copied["manual_edits_ht"] == 7
    rows = _warehouse_rows(
        settings, "select sku_id, is_removed from planning.manual_edits_ht order by sku_id"
    )
    assert rows == [(f"sku-{n}", bool(n % 2)) for n in range(7)]


def test_a_new_column_is_a_forward_migration_that_keeps_every_row(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    apply_hybrid(settings)
    _insert_edits(settings, 50)
    apply_hybrid(settings)
    before = _warehouse_rows(settings, "select * from planning.manual_edits_ht order by sku_id")

    grown = SCHEMA.replacing(
        MANUAL_EDITS.with_column(Column("note", "varchar", "A planner's note.")).with_column(
            Column("source", "varchar", "Where it came from.", False, "ui")
        )
    )
    summary = apply_hybrid(settings, grown)

    assert "added manual_edits_ht.note" in summary.store_changes
    assert "added manual_edits_ht.source" in summary.warehouse_changes
    after = _warehouse_rows(settings, "select * from planning.manual_edits_ht order by sku_id")
    assert [row[:-2] for row in after] == before
    assert {row[-2:] for row in after} == {(None, "ui")}
    store = connect_store(edits_store_path(settings))
    assert store.execute("select count(*), min(source) from manual_edits_ht").fetchone() == (
        50,
        "ui",
    )
    store.close()
    again = apply_hybrid(settings, grown)
    assert again.store_changes == [] and again.warehouse_changes == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.with_column(Column("x", "varchar", "No default.", nullable=False)), "default"),
        (
            lambda t: t.__class__(
                t.name,
                t.description,
                tuple(
                    Column(c.name, "varchar", c.description) if c.name == "version" else c
                    for c in t.columns
                ),
                t.primary_key,
            ),
            "type change",
        ),
        (
            lambda t: t.__class__(t.name, t.description, t.columns, ("tenant_id", "sku_id")),
            "key change",
        ),
    ],
    ids=["not-null-without-default", "type", "primary-key"],
)
def test_a_change_that_would_lose_data_is_refused(tmp_path: Path, change, message: str) -> None:
    settings = _settings(tmp_path)
    apply_hybrid(settings)
    _insert_edits(settings, 3)
    with pytest.raises(UserError, match=message):
        apply_hybrid(settings, SCHEMA.replacing(change(MANUAL_EDITS)))
    store = connect_store(edits_store_path(settings))
    assert store.execute("select count(*) from manual_edits_ht").fetchone() == (3,)
    columns = [row[1] for row in store.execute("pragma table_info(manual_edits_ht)")]
    assert columns == list(MANUAL_EDITS.column_names)
    store.close()


def _warehouse_before_the_rename(path: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse as earlier versions left it: the tables in schema hybrid."""
    con = duckdb.connect(str(path))
    con.execute(ddl_files()["duckdb.sql"].replace("planning", "hybrid"))
    return con


def _schemas(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute("select schema_name from duckdb_schemas()").fetchall()}


def test_tables_left_in_schema_hybrid_move_to_planning_with_every_row(tmp_path: Path) -> None:
    con = _warehouse_before_the_rename(tmp_path / "old.duckdb")
    # Older still: this table predates is_removed.
    con.execute("alter table hybrid.manual_edits_ht drop column is_removed")
    con.executemany(
        "insert into hybrid.manual_edits_ht values"
        " ('t1', ?, '2025-03-03', ?, 'why', 'ann', '2025-03-01 00:00:00', 1)",
        [(f"sku-{n}", float(n)) for n in range(20)],
    )
    con.execute("insert into hybrid.user_prefs_ht values ('t1', '*', false, '2025-03-01')")

    changes = migrate_duckdb(con, SCHEMA)

    assert changes == [
        "moved hybrid.manual_edits_ht to planning.manual_edits_ht (20 rows)",
        "moved hybrid.user_prefs_ht to planning.user_prefs_ht (1 row)",
        "moved hybrid.manual_edit_log_ht to planning.manual_edit_log_ht (0 rows)",
        "dropped the emptied schema hybrid",
    ]
    rows = con.execute(
        "select sku_id, manual_qty, is_removed from planning.manual_edits_ht order by manual_qty"
    ).fetchall()
    assert rows == [(f"sku-{n}", float(n), False) for n in range(20)]
    prefs = con.execute("select tenant_id, user_id, show_manual from planning.user_prefs_ht")
    assert prefs.fetchall() == [("t1", "*", False)]
    assert "hybrid" not in _schemas(con)
    with pytest.raises(duckdb.ConstraintException):
        con.execute(
            "insert into planning.manual_edits_ht values"
            " ('t1', 'sku-0', '2025-03-03', 1, null, 'u', '2025-03-01', 2, false)"
        )
    assert migrate_duckdb(con, SCHEMA) == []


def test_a_warehouse_from_before_the_rename_upgrades_on_the_next_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.warehouse_dir.mkdir(parents=True)
    old = _warehouse_before_the_rename(settings.warehouse_path)
    old.execute("create table hybrid.analyst_notes (note varchar)")  # not ours: stays
    old.execute("insert into hybrid.analyst_notes values ('keep me')")
    old.close()
    first = apply_hybrid(settings)
    assert first.warehouse_changes == [
        f"moved hybrid.{table.name} to planning.{table.name} (0 rows)" for table in SCHEMA.tables
    ]
    _insert_edits(settings, 5)

    summary = apply_hybrid(settings)

    assert summary.copied["manual_edits_ht"] == 5
    assert _warehouse_rows(settings, "select count(*) from planning.manual_edits_ht") == [(5,)]
    assert _warehouse_rows(settings, "select * from hybrid.analyst_notes") == [("keep me",)]
    assert _warehouse_rows(
        settings, "select table_name from information_schema.tables where table_schema = 'hybrid'"
    ) == [("analyst_notes",)]


def test_a_table_in_schema_hybrid_with_unknown_columns_is_left_in_place(tmp_path: Path) -> None:
    con = _warehouse_before_the_rename(tmp_path / "old.duckdb")
    con.execute("alter table hybrid.user_prefs_ht add column theme varchar")
    con.execute("insert into hybrid.user_prefs_ht values ('t1', '*', true, '2025-03-01', 'dark')")

    with pytest.raises(UserError, match=r"\(theme\).*move it by hand"):
        migrate_duckdb(con, SCHEMA)

    assert con.execute("select theme from hybrid.user_prefs_ht").fetchall() == [("dark",)]
    assert "planning" not in _schemas(con)


def test_a_busy_warehouse_is_reported_and_the_store_is_still_migrated(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.warehouse_dir.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys
                con = duckdb.connect({str(settings.warehouse_path)!r})
                print("holding", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        with pytest.raises(UserError, match="open in another process"):
            apply_hybrid(settings)
    finally:
        holder.communicate("", timeout=30)
    store = connect_store(edits_store_path(settings))
    tables = {
        row[0] for row in store.execute("select name from sqlite_master where type = 'table'")
    }
    store.close()
    assert tables == {table.name for table in SCHEMA.tables}
