"""Every DuckDB of the pipeline: the memory limit of the settings, a spill folder of its own."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

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


def test_the_dbt_plugin_creates_the_parent_of_the_build_spill_folder(tmp_path: Path) -> None:
    spill = tmp_path / "data" / "spill" / "dbt"
    Plugin(name="dbt_spill", plugin_config={"temp_directory": str(spill)})
    assert spill.parent.is_dir() and not spill.exists()
