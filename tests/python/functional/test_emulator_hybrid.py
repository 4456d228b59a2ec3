"""`forecast-hub hybrid --target emulator`: the planning tables, applied idempotently and forward.

On the emulator they are standard tables with the primary keys the hybrid
tables of an account have (the emulator enforces them); applying again
changes nothing, a grown definition adds its column and keeps every row, a
changed type or key stops with a message, and the hybrid variant is refused
with the way out. What only an account runs is linted in
tests/python/unit/test_snowflake_account_sql.py.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import subprocess_env
from forecast_hub.errors import UserError
from forecast_hub.hybrid.tables import MANUAL_EDITS, SCHEMA, Column
from forecast_hub.snowflake.connection import connect
from forecast_hub.snowflake.emulator import running_emulator
from forecast_hub.snowflake.hybrid import apply_snowflake_hybrid
from forecast_hub.snowflake.settings import EMULATOR_PORT_ENV, SnowflakeSettings

CLI = "from forecast_hub.cli import main; main()"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    data_dir = tmp_path_factory.mktemp("emulator-hybrid")
    with running_emulator(data_dir / "emulator") as state:
        yield data_dir, state.port


def _hybrid(data_dir: Path, port: int, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**subprocess_env(data_dir), EMULATOR_PORT_ENV: str(port), **extra}
    return subprocess.run(
        [sys.executable, "-c", CLI, "hybrid", "--target", "emulator"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _query(port: int, sql: str) -> list[tuple[Any, ...]]:
    connection = connect(SnowflakeSettings.emulator(port, env={}))
    try:
        return [tuple(row) for row in connection.cursor().execute(sql).fetchall()]
    finally:
        connection.close()


def test_applying_twice_creates_the_tables_once(emulator: tuple[Path, int]) -> None:
    data_dir, port = emulator
    first = _hybrid(data_dir, port)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        "hybrid tables: 3 schema changes; standard tables of schema planning on the emulator"
    )
    assert "created planning.manual_edits_ht" in first.stderr
    again = _hybrid(data_dir, port)
    assert again.returncode == 0, again.stderr
    assert "schema up to date" in again.stdout
    keys = _query(port, "show primary keys in table planning.manual_edits_ht")
    assert [row[4].lower() for row in sorted(keys, key=lambda r: r[5])] == [
        "tenant_id",
        "sku_id",
        "forecast_date",
    ]


def test_a_grown_definition_adds_its_column_and_keeps_every_row(
    emulator: tuple[Path, int],
) -> None:
    data_dir, port = emulator
    assert _hybrid(data_dir, port).returncode == 0
    _query(
        port,
        "insert into planning.manual_edits_ht (tenant_id, sku_id, forecast_date, manual_qty,"
        " edited_by, edited_at, version, is_removed)"
        " values ('t1', 'a', '2025-03-03', 5, 'ann', '2025-03-02 09:00:00', 1, false)",
    )
    settings = SnowflakeSettings.emulator(port, env={})
    grown = SCHEMA.replacing(MANUAL_EDITS.with_column(Column("note", "varchar", "A note.")))
    applied = apply_snowflake_hybrid(settings, grown)
    assert applied.changes == ["added manual_edits_ht.note"]
    assert apply_snowflake_hybrid(settings, grown).changes == []
    assert _query(port, "select sku_id, manual_qty, note from planning.manual_edits_ht") == [
        ("a", 5.0, None)
    ]

    retyped = SCHEMA.replacing(
        replace(
            MANUAL_EDITS,
            columns=tuple(
                replace(c, type="varchar") if c.name == "manual_qty" else c
                for c in MANUAL_EDITS.columns
            ),
        )
    )
    with pytest.raises(UserError, match=r"manual_qty is float .* but varchar"):
        apply_snowflake_hybrid(settings, retyped)
    rekeyed = SCHEMA.replacing(replace(MANUAL_EDITS, primary_key=("tenant_id", "sku_id")))
    with pytest.raises(UserError, match="primary key"):
        apply_snowflake_hybrid(settings, rekeyed)
    assert len(_query(port, "select * from planning.manual_edits_ht")) == 1


def test_the_emulator_refuses_hybrid_tables_with_the_way_out(emulator: tuple[Path, int]) -> None:
    data_dir, port = emulator
    refused = _hybrid(data_dir, port, FORECAST_HUB_HYBRID_TABLES="hybrid")
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        "error: the emulator cannot create hybrid tables: set FORECAST_HUB_HYBRID_TABLES=standard"
        " (the default on the emulator), or apply on an account"
    )
