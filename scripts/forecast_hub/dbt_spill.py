"""A dbt-duckdb plugin: the build's spill folder can be created when DuckDB first spills.

The duckdb profile opens the warehouse with DuckDB's temp_directory at
``<spill dir>/dbt`` (FORECAST_HUB_DUCKDB_TEMP_DIR, else ``<data_dir>/spill``).
DuckDB creates that folder when it first spills but not the folders above
it, so a build past its memory limit would fail on a fresh data folder.
dbt-duckdb hands a plugin the connection's configuration before it opens the
warehouse; this one creates the parent folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.credentials import DuckDBCredentials
from dbt.adapters.duckdb.plugins import BasePlugin


class Plugin(BasePlugin):
    def update_connection_config(self, creds: DuckDBCredentials, config: dict[str, Any]) -> None:
        folder = config.get("temp_directory")
        if folder:
            Path(str(folder)).parent.mkdir(parents=True, exist_ok=True)
