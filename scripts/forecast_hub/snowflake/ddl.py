"""The Snowflake DDL kept under snowflake/, rendered from the feed contract, and applied.

Files and when they run (``forecast-hub snowflake apply-ddl``):

- ``landing.sql``: schema raw, the Parquet file format, the stage and one raw
  table per feed. Everywhere, before landing.
- ``pipes.sql``: one AUTO_INGEST pipe per raw table. Account only.
- ``row_access.sql``: the role-to-tenant mapping and the row access policy
  dbt attaches to ``serving.v_forecast`` as it builds it. Account only.
- ``hybrid/snowflake_hybrid.sql`` or ``hybrid/snowflake_standard.sql``: the
  tables people write, chosen by ``FORECAST_HUB_HYBRID_TABLES``.
- ``tenant_isolation.sql``: the role-to-tenant mapping, a row access policy
  and secure views over the serving objects. After dbt build; account only.
- ``grants.sql``: analyst, API and loader roles. After dbt build; account only.

``landing.sql`` and ``pipes.sql`` are generated from ``forecast_hub.feeds``
(a unit test fails when they differ), so a new column reaches the raw
tables, the pipes and the lander at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from forecast_hub.feeds import FEEDS, silver_columns
from forecast_hub.hybrid.ddl import DDL_DIR as HYBRID_DDL_DIR
from forecast_hub.snowflake.settings import SnowflakeSettings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

DDL_DIR = Path(__file__).resolve().parents[3] / "snowflake"
RAW_SCHEMA = "raw"
FILE_FORMAT = f"{RAW_SCHEMA}.silver_parquet"
STAGE = f"{RAW_SCHEMA}.silver_stage"
Phase = Literal["before_build", "after_build"]

_SNOWFLAKE_TYPES = {
    "varchar": "varchar",
    "date": "date",
    "timestamp with time zone": "timestamp_tz",
    "decimal(18,4)": "number(18, 4)",
    "bigint": "bigint",
    "boolean": "boolean",
}
LANDING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("silver_file", "varchar"),
    ("loaded_at", "timestamp_tz"),
)
_GENERATED = (
    "-- Generated from scripts/forecast_hub/feeds.py by forecast_hub/snowflake/ddl.py;\n"
    "-- run `forecast-hub snowflake write-ddl` after changing a feed, never edit it.\n"
)


@dataclass(frozen=True)
class DdlFile:
    """One file of DDL, when it runs, and whether the emulator can run it."""

    path: Path
    phase: Phase
    account_only: bool


def raw_columns(feed_name: str) -> list[tuple[str, str]]:
    """The raw table's columns in Snowflake types: silver columns, then landing lineage."""
    columns = [(name, _SNOWFLAKE_TYPES[kind]) for name, kind in silver_columns(FEEDS[feed_name])]
    return columns + list(LANDING_COLUMNS)


def render_landing() -> str:
    """Schema, file format, stage and raw tables: what PUT + COPY and the pipes need."""
    parts = [
        "-- Landing on Snowflake: silver Parquet files are PUT (or uploaded by the\n"
        "-- producer) to one stage, under <feed>/tenant_id=<tenant>/..., and copied into\n"
        "-- one raw table per feed by name. COPY's load history keeps each file loaded\n"
        "-- once per table, whether the pipe or `forecast-hub land` copies it.\n"
        + _GENERATED.rstrip("\n"),
        f"create schema if not exists {RAW_SCHEMA};",
        f"create file format if not exists {FILE_FORMAT} type = parquet;",
        f"create stage if not exists {STAGE}\n    file_format = (format_name = '{FILE_FORMAT}');",
    ]
    for feed_name in FEEDS:
        body = ",\n".join(f"    {name} {kind}" for name, kind in raw_columns(feed_name))
        parts.append(
            f"-- {feed_name}: one row per version of a row of the client's {feed_name} feed.\n"
            f"create table if not exists {RAW_SCHEMA}.{feed_name} (\n{body}\n);"
        )
    return "\n\n".join(parts) + "\n"


def string_literal(text: str) -> str:
    """A Snowflake string literal: backslashes and quotes escaped as Snowflake reads them."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def copy_statement(
    feed_name: str,
    *,
    include_metadata: bool,
    files: list[str] | None = None,
    silver_file: str | None = None,
) -> str:
    """COPY of staged Parquet into a raw table by column name: the pipes' and the lander's.

    ``files`` names files under the feed's folder (the lander on an account,
    up to 1,000 a statement); ``silver_file`` copies the one file at that
    stage path (the emulator, which has no FILES list on internal stages).
    """
    source = f"@{STAGE}/{silver_file}" if silver_file else f"@{STAGE}/{feed_name}/"
    lines = [f"copy into {RAW_SCHEMA}.{feed_name}", f"from {source}"]
    if files is not None:
        quoted = ", ".join(string_literal(name) for name in files)
        lines.append(f"files = ({quoted})")
    lines += [
        f"file_format = (format_name = '{FILE_FORMAT}')",
        "match_by_column_name = case_insensitive",
    ]
    if include_metadata:
        lines.append(
            "include_metadata = (\n"
            "    silver_file = metadata$filename,\n"
            "    loaded_at = metadata$start_scan_time\n"
            ")"
        )
    return "\n".join(lines)


def render_pipes() -> str:
    """One AUTO_INGEST pipe per raw table, fed by the stage's event notifications."""
    parts = [
        "-- Snowpipe: each raw table loads new files of its feed's folder of the\n"
        "-- stage as they arrive (AUTO_INGEST: the cloud storage's event notifications,\n"
        "-- set up with the storage integration of an external stage).\n"
        "-- Account only: the emulator has no pipes; SQLFluff lints this file.\n"
        + _GENERATED.rstrip("\n")
    ]
    for feed_name in FEEDS:
        copy = copy_statement(feed_name, include_metadata=True)
        parts.append(
            f"create pipe if not exists {RAW_SCHEMA}.{feed_name}_pipe\n"
            f"auto_ingest = true\nas\n{copy};"
        )
    return "\n\n".join(parts) + "\n"


GENERATED_FILES = {"landing.sql": render_landing, "pipes.sql": render_pipes}


def write_ddl_files(directory: Path = DDL_DIR) -> list[Path]:
    """Regenerate the files derived from the feed contract."""
    written = []
    for name, render in GENERATED_FILES.items():
        path = directory / name
        path.write_text(render())
        written.append(path)
    return written


def ddl_files(settings: SnowflakeSettings, directory: Path = DDL_DIR) -> list[DdlFile]:
    """Every DDL file of the target in order of application."""
    hybrid_file = f"snowflake_{settings.hybrid_tables}.sql"
    return [
        DdlFile(directory / "landing.sql", "before_build", account_only=False),
        DdlFile(directory / "pipes.sql", "before_build", account_only=True),
        DdlFile(directory / "row_access.sql", "before_build", account_only=True),
        DdlFile(
            HYBRID_DDL_DIR / hybrid_file,
            "before_build",
            account_only=settings.hybrid_tables == "hybrid",
        ),
        DdlFile(directory / "tenant_isolation.sql", "after_build", account_only=True),
        DdlFile(directory / "grants.sql", "after_build", account_only=True),
    ]


@dataclass(frozen=True)
class AppliedDdl:
    applied: list[Path]
    gated: list[Path]
    statements: int

    def one_line(self) -> str:
        gated = f"; not run here (account only): {', '.join(p.name for p in self.gated)}"
        return (
            f"applied {self.statements} statements from "
            f"{', '.join(p.name for p in self.applied) or 'no file'}"
            f"{gated if self.gated else ''}"
        )


def landing_ready(connection: SnowflakeConnection) -> bool:
    """Whether every raw table exists (landing.sql creates the stage before them).

    Landing DDL runs only when something is missing: the emulator forgets a
    table's load history on any CREATE TABLE, even IF NOT EXISTS on a table
    that exists, which would make the next COPY load every file again.
    """
    cursor = connection.cursor()
    cursor.execute(
        "select lower(table_name) from information_schema.tables where lower(table_schema) = %s",
        (RAW_SCHEMA,),
    )
    return set(FEEDS) <= {row[0] for row in cursor.fetchall()}


def apply_ddl(
    connection: SnowflakeConnection, settings: SnowflakeSettings, phase: Phase
) -> AppliedDdl:
    """Run the phase's files; account-only files only where ``account_only_ddl`` is set."""
    applied: list[Path] = []
    gated: list[Path] = []
    statements = 0
    for ddl in ddl_files(settings):
        if ddl.phase != phase:
            continue
        if ddl.account_only and not settings.account_only_ddl:
            gated.append(ddl.path)
            continue
        if ddl.path.name == "landing.sql" and landing_ready(connection):
            continue
        cursors = list(connection.execute_string(ddl.path.read_text(), remove_comments=True))
        statements += len(cursors)
        applied.append(ddl.path)
    return AppliedDdl(applied, gated, statements)


def apply_target_ddl(settings: SnowflakeSettings, phase: Phase) -> AppliedDdl:
    """Connect to the target and apply a phase: `forecast-hub snowflake apply-ddl`."""
    from forecast_hub.snowflake.connection import connect

    connection = connect(settings)
    try:
        return apply_ddl(connection, settings, phase)
    finally:
        connection.close()
