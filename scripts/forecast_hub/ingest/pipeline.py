"""One bronze file to silver Parquet in a staging folder, and its bad rows, on DuckDB.

A plain file that is clean takes the streaming path (stream.py) instead;
every other file, and a plain one the stream finds not clean, comes here.

DuckDB's parallel CSV reader parses every field as text into a table, typing
and validating each row once on the way; the reader keeps file order, so a
row's ``rowid`` is its position in the file. One COPY writes the good rows as
year-partitioned Parquet with their lineage; the bad ones are read back by
position.

Line numbers come from one of two paths. The fast path takes position + 2
(the header is line 1) and is used only when the file proves clean: no bad
rows, no structural rejects, and exactly one physical line per record
(counted independently from the bytes). It only asks whether each row is
good, and writes nothing until the file has proved clean. Anything else runs
again on the exact path, where a record index built from the bytes gives
every row its true physical line, and every bad row its first broken rule
and its original text.
"""

from __future__ import annotations

import csv
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import pyarrow as pa

from forecast_hub.duckdb_limits import DEFAULT_LIMITS, Limits
from forecast_hub.feeds import Feed
from forecast_hub.ingest.scan import BOM, RecordIndex
from forecast_hub.ingest.sql import (
    ERROR_COLUMN,
    OK_COLUMN,
    fast_query,
    quote_identifier,
    quote_literal,
    read_csv_call,
    validation_query,
)

# DuckDB reject types that mean the whole file cannot be trusted.
_FILE_LEVEL_REJECTS = {
    "INVALID ENCODING": ("not_utf8", "is not valid UTF-8"),
    "INVALID UNICODE": ("not_utf8", "is not valid UTF-8"),
    "UNQUOTED VALUE": ("not_csv", "has a quoted field that is not closed properly"),
}
_ROW_LEVEL_REJECTS = {
    "MISSING COLUMNS": "field_count",
    "TOO MANY COLUMNS": "field_count",
    "LINE SIZE OVER MAXIMUM": "line_too_long",
}


class FileRejected(Exception):
    """The whole file is rejected; nothing of it reaches silver."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Header:
    field_count: int
    field_of_column: dict[str, int]
    extra_fields: dict[str, int]


def parse_header(first_line: bytes, feed: Feed) -> Header:
    """Match header names to the contract (case-insensitive, spaces trimmed)."""
    if first_line.startswith(BOM):
        first_line = first_line[len(BOM) :]
    try:
        text = first_line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FileRejected("not_utf8", "the header line is not valid UTF-8") from error
    if not text.strip():
        raise FileRejected(
            "no_header", "the file has no header row; its first line must name the columns"
        )
    names = [name.strip().lower() for name in next(csv.reader([text]))]
    names = [name or f"unnamed_{position + 1}" for position, name in enumerate(names)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise FileRejected(
            "duplicate_header",
            f"header names repeat: {', '.join(repeated)}; each column must appear once",
        )
    missing = [name for name in feed.required_columns if name not in names]
    if missing:
        raise FileRejected(
            "missing_required_column",
            f"required column(s) missing from the header: {', '.join(missing)}",
        )
    known = set(feed.column_names)
    return Header(
        field_count=len(names),
        field_of_column={name: i for i, name in enumerate(names) if name in known},
        extra_fields={name: i for i, name in enumerate(names) if name not in known},
    )


@dataclass(frozen=True)
class Lineage:
    tenant_id: str
    source_file: str
    source_file_seq: int
    file_sha256: str
    ingested_at: str  # ISO 8601 UTC, one value per run
    file_id: str


@dataclass
class BadRow:
    """A row that breaks a rule, as the exact path reports it; its record in
    the index gives the row's line and original text."""

    record: int  # record number in the exact index
    column_name: str | None
    rule: str
    message: str


@dataclass
class PassResult:
    clean: bool = True  # the fast path's verdict; silver is written only when clean
    rows_parsed: int = 0
    parse_seconds: float = 0.0  # parse, type and validate
    write_seconds: float = 0.0  # the silver Parquet
    rows_silver: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    structural: list[tuple[int, str, str]] = field(default_factory=list)  # (line, type, message)


class ExactNumbering(NamedTuple):
    """The exact path's rows: the record and physical line of each, in reader order."""

    records: np.ndarray
    lines: np.ndarray


class RowReject(NamedTuple):
    """A line DuckDB's reader rejected whole, and the rule that it breaks."""

    line: int
    rule: str
    message: str


def rule_message(feed: Feed, column_name: str, rule: str) -> str:
    column = feed.column(column_name)
    if rule == "required":
        return f"{column_name} is required"
    if rule == "type":
        hints = {
            "date": "a date as YYYY-MM-DD",
            "timestamp": "an ISO 8601 timestamp",
            "decimal": "a number that fits decimal(18,4)",
            "int": "a whole number",
            "bool": "true/false, 1/0, yes/no or y/n",
        }
        return f"{column_name} must be {hints.get(column.type, column.type)}"
    if rule == "max_length":
        return f"{column_name} is longer than {column.text_limit} characters"
    for named in column.rules:
        if named.name == rule:
            return f"{column_name} {named.message}"
    return f"{column_name} breaks rule {rule}"


def _connect(work_dir: Path, limits: Limits) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    connection.execute("set enable_progress_bar = false")
    connection.execute("set preserve_insertion_order = true")
    # Past the memory limit the parsed rows spill (to the settings' spill
    # folder, else the file's work folder) rather than fail.
    limits.apply(connection, "ingest", default=work_dir / "spill")
    return connection


def run_pass(
    path: Path,
    gzipped: bool,
    feed: Feed,
    header: Header,
    ingested_at: str,
    lineage_of: Callable[[], Lineage],
    out_dir: Path,
    numbering: ExactNumbering | None = None,
    expected_rows: Callable[[], int] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> PassResult:
    """Parse, validate and write the good rows of one file under ``out_dir``.

    The parsed rows go into a table first: the CSV reader keeps file order, so
    a row's ``rowid`` is its position among parsed rows, and each row is typed
    and checked exactly once.

    Without ``numbering`` this is the fast path: a row's line is its position + 2
    (the header is line 1), which holds only if every row is good, nothing
    was rejected, and ``expected_rows()`` (one per physical line after the
    header) rows were parsed; otherwise the result is not ``clean`` and
    nothing is written. With ``numbering`` (the exact path) a row's line is
    ``numbering.lines[rowid]`` and every bad row is reported with its rule.
    ``lineage_of`` and ``expected_rows`` are asked only once the rows are
    parsed, so the file's checksum and line count can be computed meanwhile.
    """
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    build = validation_query if numbering is not None else fast_query
    query = build(
        feed,
        read_csv_call(str(path), header.field_count, gzipped),
        header.field_of_column,
        header.extra_fields,
        f"timestamptz {quote_literal(ingested_at)}",
    )
    connection = _connect(out_dir.parent, limits)
    try:
        started = time.perf_counter()
        connection.execute(f"create table parsed as {query}")
        result = PassResult(parse_seconds=time.perf_counter() - started)
        result.structural = connection.execute(
            # One reject per missing column is recorded; a row is one record.
            "select distinct on (line) line, error_type, error_message "
            "from reject_errors order by line, column_idx"
        ).fetchall()
        if numbering is not None:
            return _finish_exact(connection, feed, lineage_of, out_dir, numbering, result)
        assert expected_rows is not None
        result.rows_parsed, bad = connection.execute(
            f"select count(*), count(*) filter (where not {OK_COLUMN}) from parsed"
        ).fetchall()[0]
        result.clean = not bad and not result.structural and result.rows_parsed == expected_rows()
        if result.clean:
            extra = "parsed.extra_columns" if header.extra_fields else "null::varchar"
            _write_silver(connection, feed, lineage_of, out_dir, result, "rowid + 2", extra)
        return result
    finally:
        connection.close()
        shutil.rmtree(out_dir.parent / "spill", ignore_errors=True)


def _finish_exact(
    connection: duckdb.DuckDBPyConnection,
    feed: Feed,
    lineage_of: Callable[[], Lineage],
    out_dir: Path,
    numbering: ExactNumbering,
    result: PassResult,
) -> PassResult:
    """Write the good rows with their indexed lines; report every bad row's rule."""
    records, line_of = numbering
    result.rows_parsed = _scalar(connection, "select count(*) from parsed")
    if len(line_of) != result.rows_parsed:
        raise RecordMismatch(f"{len(line_of)} records indexed, {result.rows_parsed} parsed")
    positions = np.arange(len(line_of), dtype=np.int64)
    connection.register("lines", pa.table({"position": positions, "line": line_of}))
    _write_silver(
        connection,
        feed,
        lineage_of,
        out_dir,
        result,
        "lines.line",
        "parsed.extra_columns",
        source="parsed join lines on lines.position = parsed.rowid",
        good=f"parsed.{ERROR_COLUMN} is null",
    )
    bad = connection.execute(
        f"select rowid, {ERROR_COLUMN} from parsed where {ERROR_COLUMN} is not null order by rowid"
    ).fetchall()
    for position, error in bad:
        column_name, rule = error.split("|", 1)
        result.bad_rows.append(
            BadRow(
                record=int(records[position]),
                column_name=column_name,
                rule=rule,
                message=rule_message(feed, column_name, rule),
            )
        )
    return result


def _write_silver(
    connection: duckdb.DuckDBPyConnection,
    feed: Feed,
    lineage_of: Callable[[], Lineage],
    out_dir: Path,
    result: PassResult,
    line: str,
    extra: str,
    source: str = "parsed",
    good: str = "true",
) -> None:
    """The good rows to year-partitioned silver Parquet; counts what was written."""
    years = _good_years(connection, feed, good)
    lineage = lineage_of()
    # Line numbers are stored from here on, so the writer may reorder rows.
    connection.execute("set preserve_insertion_order = false")
    started = time.perf_counter()
    result.rows_silver = sum(
        _scalar(connection, statement)
        for statement in _copy_statements(feed, lineage, out_dir, line, extra, source, good, years)
    )
    result.write_seconds = time.perf_counter() - started


def _good_years(connection: duckdb.DuckDBPyConnection, feed: Feed, good: str) -> list[int]:
    """The years the good rows of a dated feed fall in (none for other feeds)."""
    if not feed.partition_date:
        return []
    column = quote_identifier(feed.partition_date)
    rows = connection.execute(
        f"select distinct year(parsed.{column}) from parsed where {good} order by 1"
    ).fetchall()
    return [int(year) for (year,) in rows]


def _scalar(connection: duckdb.DuckDBPyConnection, query: str) -> int:
    """The single value a statement returns (a count), with its result fully read."""
    ((value,),) = connection.execute(query).fetchall()
    return int(value)


class RecordMismatch(ValueError):
    """The record index and the CSV reader disagree on how many rows there are."""


def _constant(value: str) -> str:
    """A per-file constant string, typed as a one-value ENUM.

    Parquet stores it as a plain dictionary-encoded string either way, but the
    writer takes an ENUM's dictionary as it is instead of hashing every row's
    copy of the value, which makes lineage columns nearly free.
    """
    literal = quote_literal(value)
    return f"cast({literal} as enum({literal}))"


def _copy_statements(
    feed: Feed,
    lineage: Lineage,
    out_dir: Path,
    line: str,
    extra: str,
    source: str,
    good: str,
    years: list[int],
) -> list[str]:
    """COPYs of the good rows; sales go to one folder per year of sale_date.

    Years are written one COPY each, filtered from the parsed table, rather
    than by DuckDB's partitioned writer: that one buffers every partition in
    memory before writing, which doubled the time and took 8.9 GB of memory
    for a 15.5M-row file here. A year, not a month, is the partition: each
    COPY scans the parsed table, and 53 monthly scans cost as much again as
    the write itself, while within a year Parquet's row-group statistics on
    sale_date still let a reader skip what a date range does not need.
    """
    own = ", ".join(f"parsed.{quote_identifier(c.name)}" for c in feed.columns)
    columns = (
        f"{own}, {_constant(lineage.tenant_id)} as tenant_id, {extra} as extra_columns, "
        f"{_constant(lineage.source_file)} as source_file, "
        f"{lineage.source_file_seq}::bigint as source_file_seq, {line} as source_line, "
        f"{_constant(lineage.file_sha256)} as file_sha256, "
        f"timestamptz {quote_literal(lineage.ingested_at)} as ingested_at"
    )
    good = f"from {source} where {good}"
    if not feed.partition_date:
        target = out_dir / f"{lineage.file_id}.parquet"
        return [f"copy (select {columns} {good}) to {quote_literal(str(target))} (format parquet)"]
    partition = partition_column(feed)
    dated = f"parsed.{quote_identifier(feed.partition_date)}"
    statements = []
    for year in years:
        folder = out_dir / f"{partition}={year}"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{lineage.file_id}_0.parquet"
        statements.append(
            f"copy (select {columns}, {year} as {quote_identifier(partition)} {good} "
            f"and {dated} >= make_date({year}, 1, 1) and {dated} < make_date({year + 1}, 1, 1)) "
            f"to {quote_literal(str(target))} (format parquet)"
        )
    return statements


def partition_column(feed: Feed) -> str:
    """The year partition of a dated feed: sale_date -> sale_year."""
    assert feed.partition_date is not None
    return feed.partition_date.removesuffix("_date") + "_year"


def classify_structural(structural: list[tuple[int, str, str]]) -> list[RowReject]:
    """DuckDB's rejects as bad rows; FileRejected when one rejects the whole file."""
    rows = []
    for line, error_type, message in structural:
        if error_type in _FILE_LEVEL_REJECTS:
            code, what = _FILE_LEVEL_REJECTS[error_type]
            raise FileRejected(code, f"the file {what} (line {line})")
        rule = _ROW_LEVEL_REJECTS.get(error_type)
        if rule is None:
            raise FileRejected("not_csv", f"line {line} cannot be parsed: {error_type}")
        rows.append(RowReject(line, rule, message))
    return rows


def exact_numbering(index: RecordIndex, structural_lines: set[int]) -> ExactNumbering:
    """Record numbers and physical lines of the rows the CSV reader yields, in order.

    The reader skips the header, blank lines and the records it rejects as
    malformed; its line numbers count records (blank ones included), so record
    r is the reader's line r + 1.
    """
    records = np.arange(len(index), dtype=np.int64)
    rejected = np.isin(records + 1, np.fromiter(structural_lines, np.int64))
    parsed = records[(records > 0) & ~index.blank & ~rejected]
    return ExactNumbering(parsed, index.lines[parsed])
