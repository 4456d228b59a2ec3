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

# How many files a mismatch message names before it only counts the rest.
NAMED_IN_MESSAGE = 5


@dataclass(frozen=True)
class FileMismatch:
    """A silver file whose landed rows differ from what ingestion wrote."""

    feed: str
    silver_file: str
    expected_rows: int
    landed_rows: int

    def one_line(self) -> str:
        if self.expected_rows == 0:
            return f"{self.silver_file}: {self.landed_rows} rows landed, not in the manifest"
        return f"{self.silver_file}: {self.landed_rows} of {self.expected_rows} rows landed"


def mismatch_message(mismatches: list[FileMismatch]) -> str:
    """One line naming the files (the first few) whose landed rows are wrong, and how."""
    named = "; ".join(mismatch.one_line() for mismatch in mismatches[:NAMED_IN_MESSAGE])
    unnamed = len(mismatches) - NAMED_IN_MESSAGE
    more = f"; and {unnamed} more" if unnamed > 0 else ""
    return f"{len(mismatches)} silver file(s) not landed exactly once: {named}{more}"


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


def expected_frame(
    session: Session, expected: dict[str, int], *, named_values: bool = False
) -> DataFrame:
    """The expectation as a DataFrame: one row per silver file (expected_file, expected_rows).

    Snowpark's ``create_dataframe`` selects ``$1, $2`` from VALUES (or a
    temporary table when large), which the emulator cannot run; with
    ``named_values`` the same VALUES are read by Snowflake's own names for
    their columns, ``column1, column2``, which both run.
    """
    from snowflake.snowpark.functions import col, lit

    from forecast_hub.snowflake.ddl import string_literal

    rows: list[tuple[str, int]] = list(expected.items()) or [("", 0)]
    if named_values:
        values = ", ".join(f"({string_literal(name)}, {count})" for name, count in rows)
        wanted = session.sql(
            "select column1::varchar as expected_file, column2::integer as expected_rows"
            f" from values {values}"
        )
    else:
        wanted = session.create_dataframe(rows, schema=["expected_file", "expected_rows"])
    if not expected:
        wanted = wanted.filter(col("expected_rows") > lit(0))
    return wanted


def landed_rows_per_file(raw: DataFrame) -> DataFrame:
    """One row per silver file of a raw table, with how many rows it landed."""
    from snowflake.snowpark.functions import col, count

    return raw.group_by(col("silver_file")).agg(count(col("silver_file")).alias("landed_rows"))


def file_mismatches(
    session: Session,
    feed: str,
    raw: DataFrame,
    expected: dict[str, int],
    *,
    named_values: bool = False,
) -> list[FileMismatch]:
    """Files missing, doubled or partial in ``raw`` compared with ``expected``."""
    from snowflake.snowpark.functions import coalesce, col, lit

    wanted = expected_frame(session, expected, named_values=named_values)
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


def reconcile_landing(
    session: Session, expected: dict[str, dict[str, int]], *, named_values: bool = False
) -> list[FileMismatch]:
    """Compare every raw table with ``expected_rows``; an empty list: nothing lost or doubled.

    ``named_values`` on the emulator (see ``expected_frame``).
    """
    from forecast_hub.snowflake.ddl import RAW_SCHEMA

    mismatches: list[FileMismatch] = []
    for feed, files in expected.items():
        raw = session.table(f"{RAW_SCHEMA}.{feed}")
        mismatches += file_mismatches(session, feed, raw, files, named_values=named_values)
    return mismatches
