"""Every DuckDB the pipeline opens gets its memory limit and spill folder from the settings.

DuckDB's own default is 80 % of the machine's memory and a spill folder
beside the database file (or the working directory, in memory). A step that
sets ``FORECAST_HUB_DUCKDB_MEMORY_LIMIT`` instead stays within it: joins,
aggregates, sorts and windows that need more spill to
``FORECAST_HUB_DUCKDB_TEMP_DIR``. Each connection spills into a folder of
its own (step name and process id), so two steps running at once never share
temporary files; DuckDB removes the folder's files when it closes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from forecast_hub.settings import Settings


@dataclass(frozen=True)
class Limits:
    """A DuckDB's memory limit and spill folder; the defaults are the settings' defaults."""

    memory_limit: str = Settings.duckdb_memory_limit
    spill_dir: Path | None = None  # None: the caller's own folder

    @classmethod
    def of(cls, settings: Settings, cap_bytes: int | None = None) -> Limits:
        """The settings' limits, the memory limit lowered to ``cap_bytes`` where that is lower."""
        limit = settings.duckdb_memory_limit
        if cap_bytes is not None and cap_bytes < settings.duckdb_memory_bytes:
            limit = f"{cap_bytes // 2**20}MiB"
        return cls(limit, settings.duckdb_spill_dir)

    def spill_folder(self, step: str, default: Path | None = None) -> Path:
        """The spill folder of one step in this process."""
        root = self.spill_dir or default
        if root is None:
            raise ValueError("no spill folder: neither the limits nor the caller give one")
        return root / f"{step}-{os.getpid()}"

    def apply(
        self, connection: duckdb.DuckDBPyConnection, step: str, default: Path | None = None
    ) -> None:
        """Set the memory limit and spill folder of an open connection's database."""
        connection.execute(f"set memory_limit = '{self.memory_limit}'")
        folder = self.spill_folder(step, default)
        # DuckDB creates its spill folder when it first spills, not the folders above it.
        folder.parent.mkdir(parents=True, exist_ok=True)
        escaped = str(folder).replace("'", "''")
        connection.execute(f"set temp_directory = '{escaped}'")


# The settings' defaults, for a caller given no settings.
DEFAULT_LIMITS = Limits()


def apply_limits(
    connection: duckdb.DuckDBPyConnection,
    settings: Settings,
    step: str,
    cap_bytes: int | None = None,
) -> None:
    """Set the settings' memory limit (at most ``cap_bytes``) and spill folder on a connection."""
    Limits.of(settings, cap_bytes).apply(connection, step)
