"""Every DuckDB of the pipeline: the memory limit of the settings, a spill folder of its own."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.environments import Environment
from dbt.clients.yaml_helper import load_yaml_text
from dbt.config.renderer import ProfileRenderer
from dbt_common.context import set_invocation_context

from forecast_hub.dbt_spill import Plugin
from forecast_hub.duckdb_limits import Limits, apply_limits
from forecast_hub.settings import Settings


def test_a_cap_lowers_the_limit_never_raises_it() -> None:
    settings = Settings(duckdb_memory_limit="8GB", duckdb_temp_dir=Path("/scratch"))
    assert Limits.of(settings).memory_limit == "8GB"
    assert Limits.of(settings, 2**30).memory_limit == "1024MiB"
    assert Limits.of(Settings(duckdb_memory_limit="512MiB"), 2**30).memory_limit == "512MiB"
    assert Limits.of(settings).spill_folder("land") == Path(f"/scratch/land-{os.getpid()}")


def test_a_connection_past_its_limit_spills_into_its_own_folder(tmp_path: Path) -> None:
    """A sort four times the limit completes, spilling under a folder created for it."""
    settings = Settings(data_dir=tmp_path / "data", duckdb_memory_limit="150MB")
    connection = duckdb.connect()
    try:
        apply_limits(connection, settings, "test")
        connection.execute("set threads = 1")
        ((limit,),) = connection.execute("select current_setting('memory_limit')").fetchall()
        ((folder,),) = connection.execute("select current_setting('temp_directory')").fetchall()
        assert Path(folder) == tmp_path / "data" / "spill" / f"test-{os.getpid()}"
        assert limit.endswith("MiB") and float(limit.split()[0]) < 150
        connection.execute("create table t as select random() as r, i from range(6000000) t(i)")
        ((count,),) = connection.execute(
            "select count(*) from (select * from t order by r)"
        ).fetchall()
        assert count == 6_000_000
        ((spilled,),) = connection.execute(
            "select coalesce(max(size), 0) from duckdb_temporary_files()"
        ).fetchall()
    finally:
        connection.close()
    assert spilled > 0


PROFILES = Path(__file__).resolve().parents[3] / "profiles" / "profiles.yml"


def _duckdb_profile(monkeypatch: pytest.MonkeyPatch, data_dir: Path, limit: str) -> dict[str, Any]:
    """The duckdb output of profiles.yml, rendered by dbt for this data folder and limit."""
    monkeypatch.setenv("FORECAST_HUB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("FORECAST_HUB_DUCKDB_MEMORY_LIMIT", limit)
    monkeypatch.delenv("FORECAST_HUB_DUCKDB_TEMP_DIR", raising=False)
    set_invocation_context(dict(os.environ))
    raw = load_yaml_text(PROFILES.read_text())["forecast_hub"]["outputs"]["duckdb"]
    rendered: dict[str, Any] = ProfileRenderer({}).render_data(raw)
    return rendered


def test_a_build_that_spilled_still_opens_cursors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warehouse opened as dbt-duckdb opens it from the profile: after a query
    spilled, each new thread's cursor gets the profile's settings without error
    (DuckDB refuses a second temp_directory once one was used)."""
    profile = _duckdb_profile(monkeypatch, tmp_path / "data", "150MB")
    creds = DuckDBCredentials(
        path=str(tmp_path / "warehouse.duckdb"),
        config_options=profile.get("config_options"),
        settings=profile.get("settings"),
    )
    plugin = Plugin(name="dbt_spill", plugin_config={}, credentials=creds)
    connection = Environment.initialize_db(creds, {"dbt_spill": plugin})
    try:
        cursor = Environment.initialize_cursor(creds, connection.cursor())
        cursor.execute("set threads = 1")
        cursor.execute("create table t as select random() as r, i from range(6000000) t(i)")
        ((count,),) = cursor.execute("select count(*) from (select * from t order by r)").fetchall()
        assert count == 6_000_000
        # DuckDB makes its temporary directory when it first spills.
        assert (tmp_path / "data" / "spill" / "dbt").is_dir()
        for _ in range(2):
            other = Environment.initialize_cursor(creds, connection.cursor())
            assert other.execute("select count(*) from t").fetchall() == [(6_000_000,)]
        ((folder,),) = cursor.execute("select current_setting('temp_directory')").fetchall()
        assert Path(folder) == tmp_path / "data" / "spill" / "dbt"
    finally:
        connection.close()


def test_the_dbt_plugin_creates_the_parent_of_the_build_spill_folder(tmp_path: Path) -> None:
    spill = tmp_path / "data" / "spill" / "dbt"
    config: dict[str, Any] = {"temp_directory": str(spill)}
    Plugin(name="dbt_spill", plugin_config={}).update_connection_config(
        DuckDBCredentials(config_options=config), config
    )
    assert spill.parent.is_dir() and not spill.exists()
