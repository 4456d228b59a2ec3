"""Which path writes a file's silver and quarantine: the stream, the fast or the exact one.

A plain file goes through the stream (stream.py) first. If it is clean
there, that is all; if some of its rows, but fewer than half, are not good
there, it goes straight to the exact path, which can quarantine them. Any
other file, and a plain one the stream leaves, goes through DuckDB's fast
path (pipeline.py), and on to the exact path when it proves not clean.
Whatever path wrote the output, its counts must add up: rows in = rows in
silver + rows quarantined.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import duckdb

from forecast_hub.duckdb_limits import DEFAULT_LIMITS, Limits
from forecast_hub.feeds import FEEDS, Feed
from forecast_hub.ingest.discover import BronzeFile
from forecast_hub.ingest.pipeline import (
    FileRejected,
    Header,
    Lineage,
    PassResult,
    RecordMismatch,
    RowReject,
    classify_structural,
    exact_numbering,
    parse_header,
    run_pass,
)
from forecast_hub.ingest.quarantine import QuarantineRow, quarantine_rows
from forecast_hub.ingest.report import Counts, FileReport, Numbering
from forecast_hub.ingest.scan import (
    CorruptGzip,
    FileScan,
    UnbalancedQuotes,
    index_records,
    is_gzip,
    read_first_line,
)
from forecast_hub.ingest.stream import is_plain, may_stream, stream_pass


@dataclass(frozen=True)
class FileJob:
    """One file on its way through a path, its output staged under ``work``.

    ``scanning`` is the scan running beside the parse; ``lineage_of`` waits
    for it, as the lineage holds the checksum.
    """

    bronze_file: BronzeFile
    ingested_at: str  # ISO 8601 UTC, the run's start
    scanning: Future[FileScan]
    lineage_of: Callable[[], Lineage]
    work: Path
    limits: Limits = DEFAULT_LIMITS

    @property
    def silver_out(self) -> Path:
        return self.work / "silver"


@dataclass(frozen=True)
class Prepared:
    """A file's output, staged and ready to publish."""

    silver_out: Path
    quarantine_rows: list[QuarantineRow]
    quarantine_staged: Path


@dataclass(frozen=True)
class _Exact:
    """The exact path's pass, the file's bad rows, and its records counted from the bytes."""

    result: PassResult
    quarantine_rows: list[QuarantineRow]
    rows_in: int
    blank_lines: int


def corrupt(error: BaseException) -> FileRejected:
    return FileRejected("not_csv", f"{error}; re-send the file")


def prepare(job: FileJob, out: FileReport) -> Prepared:
    """Silver and quarantine rows of one file, staged under ``job.work``.

    Raises FileRejected when the file is rejected whole; a file whose counts
    do not add up is marked failed in ``out``.
    """
    path = job.bronze_file.path
    feed = FEEDS[job.bronze_file.feed]
    header = parse_header(read_first_line(path), feed)
    if header.extra_fields:
        out.warnings.append(
            "unknown extra columns kept in extra_columns: " + ", ".join(header.extra_fields)
        )
    gzipped = is_gzip(path)
    if may_stream(path, feed, header.extra_fields):
        streamed = _stream(job, feed, header, out)
        if streamed is not None:
            return streamed
    result = _fast(job, gzipped, feed, header)
    _time_pass(out, "fast", result)
    structural = classify_structural(result.structural)
    scan = job.scanning.result()  # a corrupt gzip stream is rejected before the exact path
    if not result.clean:
        try:
            exact = _exact(job, gzipped, feed, header, structural)
        except RecordMismatch as error:
            raise FileRejected(
                "not_csv",
                "the file is not parseable CSV: its quoting is ambiguous "
                f"(a double quote inside an unquoted field?): {error}",
            ) from error
        return _finish_exact(out, exact, job)
    counts = Counts(Numbering.FAST, scan.physical_lines - 1, 0, result.rows_silver, 0)
    return _finish(out, counts, job, [])


def _stream(job: FileJob, feed: Feed, header: Header, out: FileReport) -> Prepared | None:
    """The streaming pass, and the exact one straight after it for a file
    with bad rows; None leaves the file to the DuckDB fast pass."""
    scan = job.scanning.result()
    if not is_plain(scan, header.field_count):
        return None
    streamed = stream_pass(
        job.bronze_file.path,
        feed,
        header,
        job.lineage_of(),
        scan.physical_lines - 1,
        job.silver_out,
    )
    out.time_phase("stream", streamed.seconds)
    if streamed.clean:
        counts = Counts(Numbering.STREAM, scan.physical_lines - 1, 0, streamed.rows_silver, 0)
        return _finish(out, counts, job, [])
    if not streamed.mostly_good:
        return None
    # A plain file has no structural rejects unless a line is over DuckDB's
    # maximum; then the records do not line up, and the fast pass finds which.
    try:
        exact = _exact(job, False, feed, header, [])
    except (RecordMismatch, duckdb.Error):
        return None  # the DuckDB paths find out and say why
    return _finish_exact(out, exact, job)


def _fast(job: FileJob, gzipped: bool, feed: Feed, header: Header) -> PassResult:
    """DuckDB's fast pass; a file its reader cannot take is rejected as not CSV."""
    try:
        return run_pass(
            job.bronze_file.path,
            gzipped,
            feed,
            header,
            job.ingested_at,
            job.lineage_of,
            job.silver_out,
            expected_rows=lambda: job.scanning.result().physical_lines - 1,
            limits=job.limits,
        )
    except CorruptGzip as error:
        raise corrupt(error) from error
    except duckdb.Error as error:
        scan_error = job.scanning.exception()
        if isinstance(scan_error, CorruptGzip):
            raise corrupt(scan_error) from error
        first_line = str(error).strip().splitlines()[0]
        raise FileRejected("not_csv", f"the file cannot be parsed: {first_line}") from error


def _exact(
    job: FileJob, gzipped: bool, feed: Feed, header: Header, structural: list[RowReject]
) -> _Exact:
    """Every row with its physical line; every bad row with its rule and text.

    ``structural`` are the lines DuckDB's reader rejected whole; if they
    are not the ones it rejects now, the records do not line up and
    RecordMismatch is raised.
    """
    path = job.bronze_file.path
    try:
        index = index_records(path)
    except UnbalancedQuotes as error:
        raise FileRejected("not_csv", f"the file is not parseable CSV: {error}") from error
    numbering = exact_numbering(index, {reject.line for reject in structural})
    result = run_pass(
        path,
        gzipped,
        feed,
        header,
        job.ingested_at,
        job.lineage_of,
        job.silver_out,
        numbering,
        limits=job.limits,
    )
    data_records = int((~index.blank[1:]).sum()) if len(index) else 0
    blank = int(index.blank[1:].sum()) if len(index) else 0
    rows = quarantine_rows(
        path, job.bronze_file.feed, job.lineage_of(), index, result.bad_rows, structural
    )
    return _Exact(result, rows, data_records, blank)


def _time_pass(out: FileReport, path: str, result: PassResult) -> None:
    out.time_phase(f"{path}_parse_validate", result.parse_seconds)
    out.time_phase(f"{path}_write", result.write_seconds)


def _finish_exact(out: FileReport, exact: _Exact, job: FileJob) -> Prepared:
    _time_pass(out, "exact", exact.result)
    counts = Counts(
        Numbering.EXACT,
        exact.rows_in,
        exact.blank_lines,
        exact.result.rows_silver,
        len(exact.quarantine_rows),
    )
    return _finish(out, counts, job, exact.quarantine_rows)


def _finish(
    out: FileReport, counts: Counts, job: FileJob, quarantine_rows: list[QuarantineRow]
) -> Prepared:
    """Report the counts; rows in must equal rows in silver plus rows quarantined,
    and a mismatch fails the file."""
    out.set_counts(counts)
    mismatch = counts.mismatch()
    if mismatch is not None:
        out.fail("count_mismatch", mismatch)
    return Prepared(job.silver_out, quarantine_rows, job.work / "quarantine.parquet")
