"""A dbt-duckdb plugin: the build's spill folder can be created when DuckDB first spills.

The duckdb profile sets DuckDB's temp_directory to ``<spill dir>/dbt``
(FORECAST_HUB_DUCKDB_TEMP_DIR, else ``<data_dir>/spill``). DuckDB creates
that folder when it first spills but not the folders above it, so a build
past its memory limit would fail on a fresh data folder. dbt-duckdb hands a
plugin the profile's settings before it opens the warehouse; this one
creates the parent folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        folder = plugin_config.get("temp_directory")
        if folder:
            Path(str(folder)).parent.mkdir(parents=True, exist_ok=True)
