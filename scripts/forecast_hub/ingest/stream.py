"""The streaming path: one Polars pass from a plain CSV file to silver Parquet.

Polars' CSV reader numbers rows as it parses them in parallel, so a row's line
comes with it and nothing has to be held in file order: the file is parsed,
typed, checked and written as year-partitioned silver in one streaming pass.

It takes only files whose text is plain enough that splitting at commas and
line ends is the whole of CSV and trimming changes nothing: uncompressed, no
double quote and no carriage return anywhere, no space next to a comma or a
line end, no unknown columns, and the header's count of commas on every
line. The scan finds these before the pass (`is_plain`); commas are counted
because Polars pads a short row with nulls where DuckDB's strict reader
rejects it.

Within such a file it accepts a strict subset of what the exact path
accepts: every typed value must have one canonical layout (dates YYYY-MM-DD,
timestamps YYYY-MM-DDTHH:MM:SSZ, plain decimals with at most four places,
whole numbers of at most 18 digits), for which Polars and DuckDB give the
same value. A row outside that subset is not good here, whatever the exact
path would say, and then the file is parsed again by the DuckDB paths
(pipeline.py). Silver is written before the verdict is known: rows that are
not good go to a bucket of their own, whose presence marks the file not
clean, and nothing of a file that is not clean is kept.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import cast

import duckdb
import polars as pl
import pyarrow.parquet as pq

from forecast_hub.feeds import Column, Feed
from forecast_hub.ingest.pipeline import Header, Lineage, partition_column
from forecast_hub.ingest.scan import FileScan, is_gzip
from forecast_hub.ingest.sql import FALSE_VALUES, OK_COLUMN, TRUE_VALUES, quote_literal

_BUCKET = "_bucket"
_NOT_GOOD = -1  # the bucket of rows that are not good
_UNDATED = 0  # the bucket of every good row of a feed without a year partition

_DATE = r"[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
LAYOUTS = {
    "date": f"^{_DATE}$",
    "timestamp": f"^{_DATE}T{_TIME}Z$",
    "decimal": r"^[+-]?[0-9]{1,14}(\.[0-9]{1,4})?$",
    "int": r"^[+-]?[0-9]{1,18}$",
}


@dataclass(frozen=True)
class RuleContext:
    """What a rule may refer to besides its value: other typed columns, the run."""

    row: Callable[[str], pl.Expr]
    latest_date: date  # the ingestion date plus one year, as DuckDB computes it


# Each contract rule (feeds.py, in DuckDB SQL) as a Polars expression that is
# true when the value is valid; a rule missing here keeps its feed off this path.
RULES: dict[str, Callable[[pl.Expr, RuleContext], pl.Expr]] = {
    "date_in_range": lambda v, c: v.is_between(date(2000, 1, 1), c.latest_date),
    "non_negative": lambda v, c: v >= 0,
    "at_most_1e9": lambda v, c: v <= 1_000_000_000,
    "iso_4217": lambda v, c: v.str.contains("^[A-Za-z]{3}$"),
    "positive": lambda v, c: v > 0,
    "not_before_launch": lambda v, c: c.row("launched_on").is_null() | (v >= c.row("launched_on")),
    "iso_3166_alpha_2": lambda v, c: v.str.contains("^[A-Za-z]{2}$"),
    "known_location_type": lambda v, c: v.str.to_lowercase().is_in(["store", "dc", "online"]),
    "attribute_name_pattern": lambda v, c: v.str.contains("^[a-z][a-z0-9_]*$"),
    "not_before_start": lambda v, c: c.row("start_date").is_null() | (v >= c.row("start_date")),
    "percentage": lambda v, c: v.is_between(0, 100),
}

_DTYPES: dict[str, pl.DataType] = {
    "text": pl.String(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us", "UTC"),
    "decimal": pl.Decimal(18, 4),
    "int": pl.Int64(),
    "bool": pl.Boolean(),
}


def covers(feed: Feed) -> bool:
    """Whether every rule of the feed has a Polars form here."""
    return all(rule.name in RULES for column in feed.columns for rule in column.rules)


def may_stream(path: Path, feed: Feed, extra_fields: Mapping[str, int]) -> bool:
    """What can be told before the scan: an uncompressed file, known columns, rules covered."""
    return not is_gzip(path) and not extra_fields and covers(feed)


def is_plain(scan: FileScan, field_count: int) -> bool:
    """Whether the scanned text is CSV without quoting, one record per line."""
    return (
        scan.physical_lines >= 2
        and not scan.has_quotes
        and not scan.has_carriage_returns
        and not scan.has_padded_fields
        and scan.commas == (field_count - 1) * scan.physical_lines
    )


def _typed(column: Column, raw: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(typed value, whether the text is in the layout this path takes) of one field."""
    if column.type == "text":
        # No field has spaces around it (`is_plain`), so trimming would change nothing.
        # Bytes bound characters from above: within the limit here is within it there.
        plain = raw.str.len_bytes() <= column.text_limit
        return (raw.str.to_lowercase() if column.lowercase else raw), plain
    if column.type == "bool":
        lowered = raw.str.to_lowercase()
        boolean = (
            pl.when(lowered.is_in(TRUE_VALUES))
            .then(True)
            .when(lowered.is_in(FALSE_VALUES))
            .then(False)
        )
        return boolean, pl.lit(True)
    layout = raw.str.contains(LAYOUTS[column.type])
    if column.type == "date":
        return raw.str.to_date("%Y-%m-%d", strict=False), layout
    if column.type == "timestamp":
        stamp = raw.str.to_datetime(
            "%Y-%m-%dT%H:%M:%SZ", time_unit="us", time_zone="UTC", strict=False
        )
        return stamp, layout
    return raw.cast(_DTYPES[column.type], strict=False), layout


def typed_frame(
    path: Path,
    feed: Feed,
    field_count: int,
    field_of_column: Mapping[str, int],
    latest_date: date,
) -> pl.LazyFrame:
    """The file's rows: typed feed columns, `source_line` and `_ok`, as a lazy scan."""
    frame = pl.scan_csv(
        path,
        has_header=True,
        new_columns=[f"f{i}" for i in range(field_count)],
        infer_schema=False,
        quote_char=None,
        encoding="utf8",
        row_index_name="source_line",
        row_index_offset=2,  # the header is line 1
    )
    typed: dict[str, pl.Expr] = {}
    goods: list[pl.Expr] = []
    for column in feed.columns:
        position = field_of_column.get(column.name)
        if position is None:
            typed[column.name] = pl.lit(None, _DTYPES[column.type])
            continue
        raw = pl.col(f"f{position}")
        value, layout = _typed(column, raw)
        typed[column.name] = value
        parsed = layout & value.is_not_null()
        goods.append(raw.is_not_null() & parsed if column.required else raw.is_null() | parsed)
    context = RuleContext(row=lambda name: typed[name], latest_date=latest_date)
    for column in feed.columns:
        for rule in column.rules:
            value = typed[column.name]
            goods.append(value.is_null() | RULES[rule.name](value, context).fill_null(False))
    ok = pl.all_horizontal(goods).fill_null(False) if goods else pl.lit(True)
    return frame.select(
        *[typed[c.name].cast(_DTYPES[c.type]).alias(c.name) for c in feed.columns],
        pl.col("source_line").cast(pl.Int64),
        ok.alias(OK_COLUMN),
    )


def latest_date(ingested_at: str) -> date:
    """`cast(ingested_at as date) + interval 1 year` exactly as the DuckDB rules compute it."""
    connection = duckdb.connect()
    try:
        connection.execute("set TimeZone = 'UTC'")
        ((value,),) = connection.execute(
            f"select (cast(timestamptz {quote_literal(ingested_at)} as date) "
            "+ interval 1 year)::date"
        ).fetchall()
    finally:
        connection.close()
    return cast(date, value)  # a DuckDB date comes back as a datetime.date


@dataclass
class StreamResult:
    clean: bool
    rows_silver: int = 0  # rows that were good here (kept only when the file is clean)
    rows_not_good: int = 0
    seconds: float = 0.0

    @property
    def mostly_good(self) -> bool:
        """Some rows were not good here, but fewer than half.

        Such a file most likely has bad rows, which only the exact path can
        quarantine; when most rows are not good, the file more likely uses a
        layout the stream does not take, which DuckDB's fast path may.
        """
        return 0 < 2 * self.rows_not_good < self.rows_silver + self.rows_not_good


def stream_pass(
    path: Path,
    feed: Feed,
    header: Header,
    lineage: Lineage,
    expected_rows: int,
    out_dir: Path,
) -> StreamResult:
    """Write the file's silver under ``out_dir`` if every row is good, else nothing.

    A dated feed's good rows go to ``<year column>=<year>/<file_id>_<n>.parquet``
    as on the DuckDB paths, an undated feed's to ``<file_id>.parquet``.
    ``expected_rows`` is one per physical line after the header.
    """
    dated = feed.partition_date
    partition = partition_column(feed) if dated else None
    started = time.perf_counter()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging = out_dir.parent / (out_dir.name + ".stream")
    shutil.rmtree(staging, ignore_errors=True)
    ingested_at = datetime.fromisoformat(lineage.ingested_at)
    frame = typed_frame(
        path, feed, header.field_count, header.field_of_column, latest_date(lineage.ingested_at)
    )
    ok = pl.col(OK_COLUMN)
    lineage_columns = [
        _constant(lineage.tenant_id).alias("tenant_id"),
        pl.lit(None, pl.String).alias("extra_columns"),
        _constant(lineage.source_file).alias("source_file"),
        pl.lit(lineage.source_file_seq, pl.Int64).alias("source_file_seq"),
        pl.col("source_line"),
        _constant(lineage.file_sha256).alias("file_sha256"),
        pl.lit(ingested_at, pl.Datetime("us", "UTC")).alias("ingested_at"),
    ]
    own = [pl.col(c.name) for c in feed.columns]
    if dated and partition is not None:
        year = pl.col(dated).dt.year()
        outputs = [*own, *lineage_columns, year.alias(partition)]
        bucket = pl.when(ok).then(year).otherwise(_NOT_GOOD)
    else:
        outputs = [*own, *lineage_columns]
        bucket = pl.when(ok).then(_UNDATED).otherwise(_NOT_GOOD)
    try:
        frame.select(*outputs, bucket.alias(_BUCKET)).sink_parquet(
            pl.PartitionBy(
                staging, key=_BUCKET, include_key=False, approximate_bytes_per_file=None
            ),
            compression="snappy",
            maintain_order=False,
            mkdir=True,
        )
    except pl.exceptions.PolarsError:
        # Not CSV as Polars reads it (bad UTF-8, a ragged line): the DuckDB paths say why.
        shutil.rmtree(staging, ignore_errors=True)
        return StreamResult(clean=False, seconds=time.perf_counter() - started)
    try:
        good, not_good = _publish_buckets(
            staging, out_dir, lineage.file_id, partition, expected_rows
        )
        clean = not_good == 0 and good == expected_rows
        return StreamResult(clean, good, not_good, time.perf_counter() - started)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _constant(value: str) -> pl.Expr:
    """A per-file string as a one-value Enum: Parquet stores a plain string either way,
    but the writer takes an Enum's dictionary as it is instead of hashing every row's copy."""
    return pl.lit(value).cast(pl.Enum([value]))


def _publish_buckets(
    staging: Path,
    out_dir: Path,
    file_id: str,
    partition: str | None,
    expected_rows: int,
) -> tuple[int, int]:
    """(good rows, rows not good); the good buckets' files go into the silver
    layout only if every row was good and every line a row."""
    buckets = {
        int(folder.name.split("=", 1)[1]): sorted(folder.glob("*.parquet"))
        for folder in staging.glob(f"{_BUCKET}=*")
    }
    rows = {
        bucket: sum(pq.read_metadata(f).num_rows for f in files)
        for bucket, files in buckets.items()
    }
    not_good = rows.pop(_NOT_GOOD, 0)
    buckets.pop(_NOT_GOOD, None)
    good = sum(rows.values())
    if not_good or good != expected_rows:
        return good, not_good
    out_dir.mkdir(parents=True)
    for bucket, files in sorted(buckets.items()):
        for number, source in enumerate(files):
            if partition is None:
                target = out_dir / (
                    f"{file_id}_{number}.parquet" if number else f"{file_id}.parquet"
                )
            else:
                target = out_dir / f"{partition}={bucket}" / f"{file_id}_{number}.parquet"
                target.parent.mkdir(exist_ok=True)
            source.rename(target)
    return good, not_good
