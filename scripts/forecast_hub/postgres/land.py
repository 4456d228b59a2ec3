"""Silver to PostgreSQL raw tables, exactly once per silver file (`land --target postgres`).

The same raw tables and load history as the duckdb lander
(``forecast_hub.land``): the silver columns plus ``silver_file`` and
``loaded_at``, and ``raw.load_history`` keyed by silver file; only files the
ingestion manifest records are landed. Each file is one transaction: its
history row first (``on conflict do nothing``, so a second `land` running at
the same time waits for the first's commit and then skips the file), then its
rows through COPY, then its row count. A crash leaves both or neither.

COPY is fed by Arrow: the Parquet file is read one record batch at a time,
each written as CSV by Arrow's writer (nulls unquoted, every value quoted, so
an empty string stays an empty string) and streamed to the server, so a feed
of any size goes through in bounded memory.

Bound: one record batch of ``BATCH_ROWS`` rows and its CSV text at a time,
plus the names of the landed files. Time: one read of each new file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg import sql

from forecast_hub.errors import UserError
from forecast_hub.feeds import FEEDS, silver_columns
from forecast_hub.ingest.manifest import ManifestEntry
from forecast_hub.land import (
    LANDING_COLUMNS,
    LOAD_HISTORY,
    RAW_SCHEMA,
    LandSummary,
    history_ddl,
    raw_table_ddl,
    recorded_entries,
    silver_path,
)
from forecast_hub.postgres.connection import connect
from forecast_hub.postgres.settings import PostgresSettings
from forecast_hub.settings import Settings

BATCH_ROWS = 65_536
_CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="all_valid")
_LOADED_AT_TYPE = pa.timestamp("us", tz="UTC")


def land_postgres(settings: Settings, postgres: PostgresSettings) -> LandSummary:
    """Load every recorded silver file not yet in the load history."""
    entries = recorded_entries(settings)
    with connect(postgres) as conn:
        with conn.transaction():
            # Two `land`s at once would race to create the same schema and tables.
            conn.execute("select pg_advisory_xact_lock(hashtext('forecast_hub.land'))")
            conn.execute(f"create schema if not exists {RAW_SCHEMA}")
            for feed_name in FEEDS:
                conn.execute(raw_table_ddl(feed_name))
            conn.execute(history_ddl())
        history = conn.execute(f"select silver_file from {RAW_SCHEMA}.{LOAD_HISTORY}")
        loaded = {row[0] for row in history.fetchall()}
        files = rows = already = 0
        landed_feeds: set[str] = set()
        for entry in entries:
            for silver_file in entry.silver_files:
                count = None
                if silver_file not in loaded:
                    count = _load_file(conn, settings.silver_dir, silver_file, entry)
                if count is None:
                    already += 1
                    continue
                files += 1
                rows += count
                landed_feeds.add(entry.feed)
        # Fresh statistics for the build that follows a landing.
        for feed_name in sorted(landed_feeds):
            conn.execute(sql.SQL("analyze {}").format(_raw_table(feed_name)))
    return LandSummary(files, rows, already, postgres.url(with_password=False))


def _raw_table(feed_name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(RAW_SCHEMA), sql.Identifier(feed_name))


def _load_file(
    conn: psycopg.Connection, silver_dir: Path, silver_file: str, entry: ManifestEntry
) -> int | None:
    """Land one file in one transaction; None when another `land` has landed it meanwhile."""
    path = silver_path(silver_dir, silver_file)
    try:
        with conn.transaction():
            return _copy_file(conn, path, silver_file, entry)
    except pa.ArrowException as error:
        raise UserError(
            f"cannot read silver file {path} ({error}): nothing of it was landed;"
            " restore it or re-ingest its source file"
        ) from error
    except psycopg.DataError as error:
        reason = str(error).strip().splitlines()[0]
        raise UserError(
            f"silver file {path} does not fit {RAW_SCHEMA}.{entry.feed} ({reason}):"
            " nothing of it was landed; re-ingest its source file"
        ) from error


def _copy_file(
    conn: psycopg.Connection, path: Path, silver_file: str, entry: ManifestEntry
) -> int | None:
    """Inside the file's transaction: claim it in the history, COPY it, record its rows."""
    columns = [name for name, _ in silver_columns(FEEDS[entry.feed])]
    landing = [name for name, _ in LANDING_COLUMNS]
    copy = sql.SQL("copy {} ({}) from stdin (format csv)").format(
        _raw_table(entry.feed), sql.SQL(", ").join(map(sql.Identifier, columns + landing))
    )
    loaded_at = datetime.now(UTC)
    expected = pq.ParquetFile(path).metadata.num_rows
    claimed = conn.execute(
        f"insert into {RAW_SCHEMA}.{LOAD_HISTORY} values (%s, %s, %s, %s, 0, %s)"
        " on conflict (silver_file) do nothing returning silver_file",
        [silver_file, entry.feed, entry.tenant_id, entry.path, loaded_at],
    ).fetchone()
    if claimed is None:
        return None
    with conn.cursor() as cursor:
        with cursor.copy(copy) as stream:
            for chunk in csv_chunks(path, columns, silver_file, loaded_at):
                stream.write(chunk)
        row_count = cursor.rowcount
    if row_count != expected:
        raise UserError(
            f"COPY of {path} loaded {row_count} rows, the file holds {expected}: nothing of"
            " it was landed; check the file, then run `forecast-hub land` again"
        )
    conn.execute(
        f"update {RAW_SCHEMA}.{LOAD_HISTORY} set row_count = %s where silver_file = %s",
        [row_count, silver_file],
    )
    return row_count


def csv_chunks(
    path: Path, columns: list[str], silver_file: str, loaded_at: datetime
) -> Iterator[memoryview]:
    """The file's rows as CSV for COPY, one record batch at a time, with the landing columns."""
    parquet = pq.ParquetFile(path)
    silver_file_value = pa.scalar(silver_file, pa.string())
    loaded_at_value = pa.scalar(loaded_at, _LOADED_AT_TYPE)
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
        rows = batch.num_rows
        table = (
            pa.Table.from_batches([batch])
            .select(columns)
            .append_column("silver_file", pa.repeat(silver_file_value, rows))
            .append_column("loaded_at", pa.repeat(loaded_at_value, rows))
        )
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(table, sink, _CSV_OPTIONS)
        yield memoryview(sink.getvalue())
