"""Silver to raw warehouse tables, exactly once per silver file (Snowpipe's job).

Only files the ingestion manifest records are landed, so a half-published
ingest is never seen. Each silver file is loaded in one transaction together
with its load-history row: a crash leaves either both or neither, and a re-run
loads exactly the files that are missing.

Bound: DuckDB streams each file from Parquet into its table (an INSERT ...
SELECT from read_parquet, written to the database file as it goes) within
``LAND_MEMORY_CAP`` or the settings' lower FORECAST_HUB_DUCKDB_MEMORY_LIMIT;
Python holds the names of the landed files, never rows. Time: one read of
each new silver file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import duckdb

from forecast_hub.duckdb_limits import apply_limits
from forecast_hub.errors import UserError
from forecast_hub.feeds import FEEDS, silver_columns
from forecast_hub.ingest.manifest import Manifest, ManifestEntry
from forecast_hub.ingest.sql import quote_identifier, quote_literal
from forecast_hub.settings import Settings

RAW_SCHEMA = "raw"
LOAD_HISTORY = "load_history"
# Landing streams a file at a time: a few row groups per thread, not the build's memory.
LAND_MEMORY_CAP = 2 * 2**30
LANDING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("silver_file", "varchar"),
    ("loaded_at", "timestamp with time zone"),
)


class Landed(Protocol):
    """What any target's landing tells: its one-line summary."""

    def one_line(self) -> str: ...


@dataclass(frozen=True)
class LandSummary:
    files_loaded: int
    rows_loaded: int
    files_already_loaded: int
    warehouse: Path | str

    def one_line(self) -> str:
        return (
            f"landed {self.files_loaded} new silver files ({self.rows_loaded:,} rows); "
            f"{self.files_already_loaded} were already loaded; warehouse: {self.warehouse}"
        )


def raw_table_ddl(feed_name: str) -> str:
    columns = silver_columns(FEEDS[feed_name]) + list(LANDING_COLUMNS)
    body = ",\n    ".join(f"{quote_identifier(name)} {kind}" for name, kind in columns)
    return f"create table if not exists {RAW_SCHEMA}.{feed_name} (\n    {body}\n)"


def history_ddl() -> str:
    return (
        f"create table if not exists {RAW_SCHEMA}.{LOAD_HISTORY} (\n"
        "    silver_file varchar primary key,\n"
        "    feed varchar not null,\n"
        "    tenant_id varchar not null,\n"
        "    source_file varchar not null,\n"
        "    row_count bigint not null,\n"
        "    loaded_at timestamp with time zone not null\n"
        ")"
    )


def _connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    path = settings.warehouse_path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = duckdb.connect(str(path))
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise UserError(
                f"the warehouse {path} is in use by another process (a dbt build?); "
                "run `forecast-hub land` again when it has finished"
            ) from error
        raise UserError(f"cannot open the warehouse {path}: {error}") from error
    connection.execute("set TimeZone = 'UTC'")
    apply_limits(connection, settings, "land", LAND_MEMORY_CAP)
    return connection


def recorded_entries(settings: Settings) -> list[ManifestEntry]:
    """The manifest's ingested bronze files, whose silver files are the ones to land."""
    if not settings.manifest_path.exists():
        raise UserError(
            f"no ingestion manifest at {settings.manifest_path}; run `forecast-hub ingest` first"
        )
    with Manifest(settings.manifest_path) as manifest:
        return manifest.entries(status="ingested")


def silver_path(silver_dir: Path, silver_file: str) -> Path:
    """A recorded silver file's path; a clear error when it has gone missing."""
    path = silver_dir / silver_file
    if not path.exists():
        raise UserError(
            f"silver file {path} is recorded in the manifest but missing; "
            "restore it or re-ingest its source file"
        )
    return path


def land_silver(settings: Settings) -> LandSummary:
    """Load every recorded silver file not yet in the load history."""
    entries = recorded_entries(settings)
    connection = _connect(settings)
    try:
        connection.execute(f"create schema if not exists {RAW_SCHEMA}")
        for feed_name in FEEDS:
            connection.execute(raw_table_ddl(feed_name))
        connection.execute(history_ddl())
        loaded = {
            row[0]
            for row in connection.execute(
                f"select silver_file from {RAW_SCHEMA}.{LOAD_HISTORY}"
            ).fetchall()
        }
        files = rows = already = 0
        for entry in entries:
            for silver_file in entry.silver_files:
                if silver_file in loaded:
                    already += 1
                    continue
                rows += _load_file(connection, settings.silver_dir, silver_file, entry)
                files += 1
        return LandSummary(files, rows, already, settings.warehouse_path)
    finally:
        connection.close()


def _load_file(
    connection: duckdb.DuckDBPyConnection, silver_dir: Path, silver_file: str, entry: ManifestEntry
) -> int:
    path = silver_path(silver_dir, silver_file)
    columns = [name for name, _ in silver_columns(FEEDS[entry.feed])]
    selected = ", ".join(quote_identifier(name) for name in columns)
    loaded_at = datetime.now(UTC).isoformat()
    connection.execute("begin transaction")
    try:
        ((row_count,),) = connection.execute(
            f"insert into {RAW_SCHEMA}.{entry.feed} "
            f"select {selected}, {quote_literal(silver_file)}, "
            f"timestamptz {quote_literal(loaded_at)} "
            f"from read_parquet({quote_literal(str(path))}, hive_partitioning = false)"
        ).fetchall()
        connection.execute(
            f"insert into {RAW_SCHEMA}.{LOAD_HISTORY} values (?, ?, ?, ?, ?, ?)",
            [silver_file, entry.feed, entry.tenant_id, entry.path, row_count, loaded_at],
        )
        connection.execute("commit")
    except BaseException:
        connection.execute("rollback")
        raise
    return int(row_count)
