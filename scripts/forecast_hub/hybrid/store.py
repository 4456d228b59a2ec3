"""The edits store on the duckdb target: one SQLite file beside the warehouse.

DuckDB lets one process hold a database file, and dbt holds the warehouse
for minutes; SQLite in WAL mode lets the API write while any other process
reads. ``synchronous=FULL`` makes every commit durable before it returns, so
an acknowledged edit survives a killed server or a power cut.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from forecast_hub.settings import Settings

BUSY_TIMEOUT_MS = 10_000


def edits_store_path(settings: Settings) -> Path:
    return settings.data_dir / "edits" / "edits.sqlite"


def connect_store(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode; callers open their own transactions."""
    if read_only:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.execute("pragma journal_mode = wal")
    conn.execute("pragma synchronous = full")
    conn.execute(f"pragma busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def format_timestamp(moment: dt.datetime) -> str:
    """UTC timestamps as stored: sortable text that DuckDB casts directly."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def parse_timestamp(stored: str) -> dt.datetime:
    """A stored timestamp back (fromisoformat reads format_timestamp's text, and is
    about fifty times faster than strptime: a store's load parses one per edit)."""
    return dt.datetime.fromisoformat(stored).replace(tzinfo=dt.UTC)
