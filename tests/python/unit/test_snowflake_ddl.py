"""The Snowflake DDL under snowflake/: generated from the feed contract, gated, lint clean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlfluff.core import FluffConfig, Linter

from forecast_hub.errors import UserError
from forecast_hub.feeds import FEEDS, silver_columns
from forecast_hub.hybrid.ddl import DDL_DIR as HYBRID_DDL_DIR
from forecast_hub.snowflake.ddl import (
    DDL_DIR,
    GENERATED_FILES,
    copy_statement,
    ddl_files,
    raw_columns,
)
from forecast_hub.snowflake.settings import SnowflakeSettings

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", sorted(GENERATED_FILES))
def test_generated_files_are_up_to_date(name: str) -> None:
    assert (DDL_DIR / name).read_text() == GENERATED_FILES[name](), (
        f"snowflake/{name} is stale: run `forecast-hub snowflake write-ddl`"
    )


def test_raw_tables_have_every_silver_column_then_the_landing_columns() -> None:
    for feed_name, feed in FEEDS.items():
        names = [name for name, _ in raw_columns(feed_name)]
        assert names == [name for name, _ in silver_columns(feed)] + ["silver_file", "loaded_at"]


def test_one_auto_ingest_pipe_per_raw_table_copies_by_column_name() -> None:
    pipes = (DDL_DIR / "pipes.sql").read_text()
    created = re.findall(r"create pipe if not exists raw\.(\w+)_pipe\s+auto_ingest = true", pipes)
    assert created == list(FEEDS)
    assert pipes.count("match_by_column_name = case_insensitive") == len(FEEDS)
    assert pipes.count("silver_file = metadata$filename") == len(FEEDS)


def test_the_lander_copies_exactly_the_files_it_names() -> None:
    statement = copy_statement(
        "sales", include_metadata=False, files=["tenant_id=a/x'1\\b.parquet", "y.parquet"]
    )
    assert "from @raw.silver_stage/sales/" in statement
    assert "files = ('tenant_id=a/x\\'1\\\\b.parquet', 'y.parquet')" in statement
    assert "include_metadata" not in statement


def test_the_emulator_runs_only_what_it_can() -> None:
    emulator = SnowflakeSettings.emulator(port=1, env={})
    runnable = [f.path.name for f in ddl_files(emulator) if not f.account_only]
    assert runnable == ["landing.sql", "snowflake_standard.sql"]
    assert not emulator.account_only_ddl


def test_an_account_gets_hybrid_tables_pipes_isolation_and_grants() -> None:
    account = SnowflakeSettings.from_env(
        "snowflake",
        env={
            "SNOWFLAKE_ACCOUNT": "xy12345",
            "SNOWFLAKE_USER": "loader",
            "SNOWFLAKE_PASSWORD": "secret",
            "SNOWFLAKE_DATABASE": "forecast_hub",
            "SNOWFLAKE_WAREHOUSE": "transforming",
        },
    )
    files = [f.path for f in ddl_files(account)]
    assert HYBRID_DDL_DIR / "snowflake_hybrid.sql" in files
    assert [p.name for p in files if p.parent == DDL_DIR] == [
        "landing.sql",
        "pipes.sql",
        "row_access.sql",
        "tenant_isolation.sql",
        "grants.sql",
    ]
    assert account.account_only_ddl


def test_key_pair_authentication_wins_over_a_password(tmp_path: Path) -> None:
    key = tmp_path / "rsa_key.p8"
    settings = SnowflakeSettings.from_env(
        "snowflake",
        env={
            "SNOWFLAKE_ACCOUNT": "xy12345",
            "SNOWFLAKE_USER": "loader",
            "SNOWFLAKE_PASSWORD": "ignored",
            "SNOWFLAKE_PRIVATE_KEY_PATH": str(key),
            "SNOWFLAKE_DATABASE": "forecast_hub",
            "SNOWFLAKE_WAREHOUSE": "transforming",
        },
    )
    parameters = settings.connector_parameters()
    assert parameters["private_key_file"] == str(key)
    assert "password" not in parameters


def test_missing_environment_is_named() -> None:
    with pytest.raises(UserError, match=r"SNOWFLAKE_ACCOUNT.*SNOWFLAKE_PASSWORD"):
        SnowflakeSettings.from_env("snowflake", env={"SNOWFLAKE_USER": "loader"})


@pytest.mark.parametrize("path", sorted(DDL_DIR.glob("*.sql")), ids=lambda p: p.name)
def test_snowflake_ddl_is_lint_clean(path: Path) -> None:
    """Statements the emulator cannot run are still parsed and styled by SQLFluff."""
    config = FluffConfig.from_path(
        str(REPO), overrides={"dialect": "snowflake", "templater": "raw"}
    )
    linted = Linter(config=config).lint_string(path.read_text(), fname=str(path))
    problems = [f"{v.line_no}: {v.rule_code()} {v.desc()}" for v in linted.get_violations()]
    assert problems == []
