"""After landing: every silver file is in its raw table once, with all its rows.

Written with Snowpark DataFrames so the logic is the same in Snowpark's
local testing mode (unit tests, no server), on the emulator and on an
account; the manifest's per-file silver row counts are the expectation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from forecast_hub.ingest.manifest import Manifest
from forecast_hub.settings import Settings

if TYPE_CHECKING:
    from snowflake.snowpark import DataFrame, Session


@dataclass(frozen=True)
class FileMismatch:
    """A silver file whose landed rows differ from what ingestion wrote."""

    feed: str
    silver_file: str
    expected_rows: int
    landed_rows: int


def expected_rows(settings: Settings) -> dict[str, dict[str, int]]:
    """Rows per silver file, by feed, as the ingestion manifest recorded them.

    A bronze file's silver rows may be split over several silver files, so
    each silver file's own count is read from its Parquet footer.
    """
    import pyarrow.parquet as pq

    with Manifest(settings.manifest_path) as manifest:
        entries = manifest.entries(status="ingested")
    expected: dict[str, dict[str, int]] = {}
    for entry in entries:
        for silver_file in entry.silver_files:
            rows = pq.ParquetFile(settings.silver_dir / silver_file).metadata.num_rows
            expected.setdefault(entry.feed, {})[silver_file] = rows
    return expected


def landed_rows_per_file(raw: DataFrame) -> DataFrame:
    """One row per silver file of a raw table, with how many rows it landed."""
    from snowflake.snowpark.functions import col, count

    return raw.group_by(col("silver_file")).agg(count(col("silver_file")).alias("landed_rows"))


def file_mismatches(
    session: Session, feed: str, raw: DataFrame, expected: dict[str, int]
) -> list[FileMismatch]:
    """Files missing, doubled or partial in ``raw`` compared with ``expected``."""
    from snowflake.snowpark.functions import coalesce, col, lit

    wanted = session.create_dataframe(
        [[name, rows] for name, rows in expected.items()] or [["", 0]],
        schema=["expected_file", "expected_rows"],
    )
    if not expected:
        wanted = wanted.filter(col("expected_rows") > lit(0))
    landed = landed_rows_per_file(raw)
    joined = wanted.join(
        landed, wanted["expected_file"] == landed["silver_file"], how="full"
    ).select(
        coalesce(wanted["expected_file"], landed["silver_file"]).alias("file"),
        coalesce(wanted["expected_rows"], lit(0)).alias("expected_rows"),
        coalesce(landed["landed_rows"], lit(0)).alias("landed_rows"),
    )
    different = joined.filter(col("expected_rows") != col("landed_rows")).sort(col("file"))
    return [
        FileMismatch(feed, row["FILE"], int(row["EXPECTED_ROWS"]), int(row["LANDED_ROWS"]))
        for row in different.collect()
    ]


def reconcile_landing(session: Session, settings: Settings) -> list[FileMismatch]:
    """Compare every raw table with the manifest; an empty list means nothing lost or doubled."""
    from forecast_hub.snowflake.ddl import RAW_SCHEMA

    mismatches: list[FileMismatch] = []
    for feed, files in expected_rows(settings).items():
        raw = session.table(f"{RAW_SCHEMA}.{feed}")
        mismatches += file_mismatches(session, feed, raw, files)
    return mismatches
