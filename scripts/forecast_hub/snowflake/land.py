"""Silver to Snowflake raw tables: the pipe's work, done by hand for backfills and CI.

Each silver file the ingestion manifest records is PUT to the stage at its
silver path and COPY'd into its feed's raw table by column name, the same
COPY the pipes run. Exactly once comes from COPY's load history: a file
already loaded into a table is skipped by Snowflake, whoever loaded it (the
pipe or this command), so a re-run after a crash loads only what is missing.
Then every raw table is reconciled with the manifest (Snowpark, see
``reconcile``): a file missing, doubled or partial fails the command.

Bound: files are uploaded by PUT one at a time and loaded by the warehouse
(COPY), so this process holds file names and COPY's one result row per file,
never rows; the reconciliation reads per-file counts. On the emulator the
warehouse is the emulator's own process. Time: one upload of each new file.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecast_hub.errors import UserError
from forecast_hub.ingest.manifest import Manifest
from forecast_hub.settings import Settings
from forecast_hub.snowflake.ddl import (
    DDL_DIR,
    RAW_SCHEMA,
    STAGE,
    copy_statement,
    landing_ready,
    string_literal,
)
from forecast_hub.snowflake.settings import SnowflakeSettings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

# Snowflake accepts at most 1,000 names in one COPY's FILES list.
COPY_BATCH = 1000


@dataclass(frozen=True)
class SnowflakeLandSummary:
    files_loaded: int
    rows_loaded: int
    files_already_loaded: int
    target: str
    files_reconciled: int | None = None

    def one_line(self) -> str:
        reconciled = (
            ""
            if self.files_reconciled is None
            else f"; all {self.files_reconciled} landed exactly once"
        )
        return (
            f"landed {self.files_loaded} new silver files ({self.rows_loaded:,} rows) on "
            f"{self.target}; {self.files_already_loaded} were already loaded{reconciled}"
        )


def _recorded_silver_files(settings: Settings) -> dict[str, list[str]]:
    """Silver files of fully ingested bronze files, by feed, in arrival order."""
    if not settings.manifest_path.exists():
        raise UserError(
            f"no ingestion manifest at {settings.manifest_path}; run `forecast-hub ingest` first"
        )
    with Manifest(settings.manifest_path) as manifest:
        entries = manifest.entries(status="ingested")
    by_feed: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        for silver_file in entry.silver_files:
            path = settings.silver_dir / silver_file
            if not path.exists():
                raise UserError(
                    f"silver file {path} is recorded in the manifest but missing; "
                    "restore it or re-ingest its source file"
                )
            by_feed[entry.feed].append(silver_file)
    return by_feed


def put_file(connection: SnowflakeConnection, silver_dir: Path, silver_file: str) -> None:
    """Upload one silver file to the stage at its silver path, unchanged.

    AUTO_COMPRESS = FALSE: Parquet is compressed inside already, and COPY
    reads the file under exactly the name the manifest gives it.
    """
    local = (silver_dir / silver_file).resolve()
    folder = silver_file.rsplit("/", 1)[0]
    # The stage location stays unquoted: silver folder names are plain
    # key=value segments, and the emulator parses only unquoted locations.
    connection.cursor().execute(
        f"put {string_literal('file://' + local.as_posix())} @{STAGE}/{folder}"
        " auto_compress = false overwrite = false"
    )


def _copy(connection: SnowflakeConnection, feed: str, statement: str) -> tuple[int, int]:
    """Run one COPY; (files loaded, rows loaded). Skipped files count as neither."""
    cursor = connection.cursor()
    cursor.execute(statement)
    loaded_files = loaded_rows = 0
    for row in cursor.fetchall():
        result = _copy_result(cursor.description, row)
        if result.get("status") == "LOADED":
            loaded_files += 1
            loaded_rows += int(result.get("rows_loaded") or 0)
        elif result.get("status") not in ("LOAD_SKIPPED", None):
            raise UserError(f"COPY into {RAW_SCHEMA}.{feed} failed: {result}")
    return loaded_files, loaded_rows


def _copy_result(description: Any, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0].lower(): value for column, value in zip(description, row, strict=True)}


def _copy_with_lineage(
    connection: SnowflakeConnection, feed: str, silver_file: str
) -> tuple[int, int]:
    """Where COPY cannot fill silver_file and loaded_at, one file at a time and set them after.

    The COPY and the update run in one transaction, so a file is never seen
    without its lineage.
    """
    cursor = connection.cursor()
    cursor.execute("begin")
    try:
        statement = copy_statement(feed, include_metadata=False, silver_file=silver_file)
        files, rows = _copy(connection, feed, statement)
        if files:
            cursor.execute(
                f"update {RAW_SCHEMA}.{feed} set silver_file = %s, loaded_at = current_timestamp()"
                " where silver_file is null",
                (silver_file,),
            )
        cursor.execute("commit")
    except BaseException:
        cursor.execute("rollback")
        raise
    return files, rows


def land_snowflake(
    settings: Settings, connection: SnowflakeConnection, snowflake_settings: SnowflakeSettings
) -> SnowflakeLandSummary:
    """PUT then COPY every recorded silver file; files COPY has loaded before are skipped."""
    by_feed = _recorded_silver_files(settings)
    if not landing_ready(connection):
        connection.execute_string((DDL_DIR / "landing.sql").read_text(), remove_comments=True)
    files_loaded = rows_loaded = submitted = 0
    for feed, silver_files in by_feed.items():
        for silver_file in silver_files:
            put_file(connection, settings.silver_dir, silver_file)
        submitted += len(silver_files)
        if snowflake_settings.include_metadata:
            names = [name.removeprefix(f"{feed}/") for name in silver_files]
            for start in range(0, len(names), COPY_BATCH):
                batch = names[start : start + COPY_BATCH]
                statement = copy_statement(feed, include_metadata=True, files=batch)
                files, rows = _copy(connection, feed, statement)
                files_loaded += files
                rows_loaded += rows
        else:
            for silver_file in silver_files:
                files, rows = _copy_with_lineage(connection, feed, silver_file)
                files_loaded += files
                rows_loaded += rows
    return SnowflakeLandSummary(
        files_loaded, rows_loaded, submitted - files_loaded, snowflake_settings.target
    )


def reconcile_target(
    settings: Settings, connection: SnowflakeConnection, snowflake_settings: SnowflakeSettings
) -> int:
    """Check every recorded silver file is in its raw table once with all its rows.

    Returns how many files were checked; raises ``UserError`` naming the
    files that are missing, doubled or partial, and their counts.
    """
    from forecast_hub.snowflake.connection import snowpark_session
    from forecast_hub.snowflake.reconcile import expected_rows, mismatch_message, reconcile_landing

    expected = expected_rows(settings)
    with snowpark_session(snowflake_settings, connection) as session:
        mismatches = reconcile_landing(
            session, expected, named_values=snowflake_settings.is_emulator
        )
    if mismatches:
        raise UserError(f"landing on {snowflake_settings.target}: {mismatch_message(mismatches)}")
    return sum(len(files) for files in expected.values())


def land_target(settings: Settings, snowflake_settings: SnowflakeSettings) -> SnowflakeLandSummary:
    """Connect, land and reconcile: what `forecast-hub land --target emulator|snowflake` runs."""
    from forecast_hub.snowflake.connection import connect

    connection = connect(snowflake_settings)
    try:
        summary = land_snowflake(settings, connection, snowflake_settings)
        reconciled = reconcile_target(settings, connection, snowflake_settings)
    finally:
        connection.close()
    return replace(summary, files_reconciled=reconciled)
