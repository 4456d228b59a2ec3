"""An ingestion run: discover bronze files, ingest each new one, publish, report."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from tqdm import tqdm

from forecast_hub.errors import UserError
from forecast_hub.feeds import FEEDS, TENANT_PATTERN
from forecast_hub.ingest.manifest import Manifest, ManifestEntry
from forecast_hub.ingest.pipeline import (
    FileRejected,
    Header,
    Lineage,
    PassResult,
    RecordMismatch,
    classify_structural,
    exact_numbering,
    field_count_message,
    parse_header,
    raw_texts,
    run_pass,
    write_quarantine,
)
from forecast_hub.ingest.scan import (
    CorruptGzip,
    FileScan,
    UnbalancedQuotes,
    index_records,
    is_gzip,
    read_first_line,
    scan_bytes_only,
    scan_file,
)
from forecast_hub.ingest.stream import is_plain, may_stream, stream_pass
from forecast_hub.settings import Settings

_CSV_SUFFIXES = (".csv", ".csv.gz")
_STAGING = "_staging"


@dataclass(frozen=True)
class IngestPaths:
    bronze: Path
    silver: Path
    quarantine: Path
    manifest: Path
    reports: Path

    @classmethod
    def resolve(
        cls, settings: Settings, bronze: Path | None = None, silver: Path | None = None
    ) -> IngestPaths:
        silver_dir = silver or settings.silver_dir
        return cls(
            bronze=bronze or settings.bronze_dir,
            silver=silver_dir,
            quarantine=settings.quarantine_dir,
            manifest=silver_dir / settings.manifest_path.name,
            reports=settings.reports_dir,
        )


@dataclass
class FileReport:
    path: str
    tenant_id: str
    feed: str
    status: str  # ingested, rejected, duplicate, unchanged, failed
    reason_code: str | None = None
    reason: str | None = None
    rows_in: int | None = None
    rows_silver: int | None = None
    rows_quarantined: int | None = None
    blank_lines: int | None = None
    warnings: list[str] = field(default_factory=list)
    sha256: str | None = None
    size_bytes: int | None = None
    line_numbering: str | None = None  # stream, fast or exact
    seconds: float | None = None
    phase_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class IngestReport:
    run_id: str
    started_at: str
    bronze: str
    silver: str
    quarantine: str
    files: list[FileReport] = field(default_factory=list)
    unknown_entries: list[str] = field(default_factory=list)
    finished_at: str | None = None
    report_path: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    def totals(self) -> dict[str, int]:
        counts = Counter(f.status for f in self.files)
        return {
            "files": len(self.files),
            **{status: counts.get(status, 0) for status in _STATUSES},
            "rows_in": sum(f.rows_in or 0 for f in self.files if f.status == "ingested"),
            "rows_silver": sum(f.rows_silver or 0 for f in self.files if f.status == "ingested"),
            "rows_quarantined": sum(
                f.rows_quarantined or 0 for f in self.files if f.status == "ingested"
            ),
        }

    def one_line(self) -> str:
        t = self.totals()
        return (
            f"ingested {t['ingested']} files ({t['rows_in']:,} rows: {t['rows_silver']:,} "
            f"to silver, {t['rows_quarantined']:,} quarantined), rejected {t['rejected']}, "
            f"duplicate {t['duplicate']}, unchanged {t['unchanged']}, failed {t['failed']}; "
            f"report: {self.report_path}"
        )

    def failure_message(self) -> str:
        first = self.failed[0]
        more = f" (and {len(self.failed) - 1} more)" if len(self.failed) > 1 else ""
        return f"{first.path}: {first.reason}{more}; nothing of it was published, run again"

    def to_json(self) -> dict:
        return {**asdict(self), "totals": self.totals()}


_STATUSES = ("ingested", "rejected", "duplicate", "unchanged", "failed")


@dataclass(frozen=True)
class BronzeFile:
    path: Path
    relative: str
    tenant_id: str
    feed: str
    problem: tuple[str, str] | None  # (reason code, message) when rejected by location


def discover(bronze: Path) -> tuple[list[BronzeFile], list[str]]:
    """Every file under <bronze>/<tenant>/<feed>/, and the entries that fit nowhere.

    Names starting with a dot are ignored (they are not client drops).
    """
    if not bronze.is_dir():
        raise UserError(
            f"bronze folder {bronze} does not exist; run `forecast-hub generate` "
            f"or point --bronze / FORECAST_HUB_DATA_DIR at the client files"
        )
    files: list[BronzeFile] = []
    unknown: list[str] = []
    for tenant_dir in _visible(bronze):
        if not tenant_dir.is_dir():
            unknown.append(tenant_dir.relative_to(bronze).as_posix())
            continue
        tenant_ok = re.fullmatch(TENANT_PATTERN.strip("^$"), tenant_dir.name) is not None
        for feed_dir in _visible(tenant_dir):
            if not feed_dir.is_dir():
                unknown.append(feed_dir.relative_to(bronze).as_posix())
                continue
            for path in _walk_files(feed_dir):
                relative = path.relative_to(bronze).as_posix()
                files.append(
                    BronzeFile(
                        path,
                        relative,
                        tenant_dir.name,
                        feed_dir.name,
                        _location_problem(path, tenant_dir.name, feed_dir.name, tenant_ok),
                    )
                )
    files.sort(key=lambda f: (_mtime_ns(f.path), f.relative))
    return files, unknown


def _mtime_ns(path: Path) -> int:
    """Arrival order key; a file that cannot be read sorts first and fails on its own."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _walk_files(folder: Path) -> Iterator[Path]:
    for entry in _visible(folder):
        if entry.is_dir():
            yield from _walk_files(entry)
        else:
            yield entry


def _location_problem(
    path: Path, tenant_id: str, feed: str, tenant_ok: bool
) -> tuple[str, str] | None:
    if not tenant_ok:
        return (
            "invalid_tenant",
            f"tenant folder {tenant_id!r} must match [a-z0-9_]{{1,32}}",
        )
    if feed not in FEEDS:
        return (
            "unknown_feed",
            f"folder {feed!r} is not a feed; use one of {', '.join(FEEDS)}",
        )
    if path.parent.name != feed:
        return ("misplaced_file", "files must sit directly in the feed folder")
    if not path.name.lower().endswith(_CSV_SUFFIXES):
        return ("unsupported_file_type", "only .csv and .csv.gz files are ingested")
    return None


@contextmanager
def _run_lock(silver: Path) -> Iterator[None]:
    silver.mkdir(parents=True, exist_ok=True)
    with (silver / ".ingest.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise UserError(
                "another ingest is running on this silver folder; wait for it"
            ) from error
        yield


@dataclass(frozen=True)
class _Prepared:
    """A file's output, staged and ready to publish."""

    silver_out: Path
    quarantine_rows: list[dict]
    quarantine_staged: Path


def _corrupt(error: Exception) -> FileRejected:
    return FileRejected("not_csv", f"{error}; re-send the file")


def _clear_counts(out: FileReport) -> None:
    """Counts of a parse whose output is not kept (a duplicate or a rejected file)."""
    out.rows_in = out.rows_silver = out.rows_quarantined = out.blank_lines = None
    out.line_numbering = None
    out.warnings.clear()


def _add_phases(out: FileReport, path: str, result: PassResult) -> None:
    out.phase_seconds[f"{path}_parse_validate"] = round(result.parse_seconds, 3)
    out.phase_seconds[f"{path}_write"] = round(result.write_seconds, 3)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _file_id(relative: str, sha256: str) -> str:
    name = relative.rsplit("/", 1)[-1]
    for suffix in (".gz", ".csv"):
        name = name.removesuffix(suffix).removesuffix(suffix.upper())
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) + "-" + sha256[:16]


class _Run:
    def __init__(self, paths: IngestPaths, manifest: Manifest, report: IngestReport) -> None:
        self.paths = paths
        self.manifest = manifest
        self.report = report
        self.staging = paths.silver / _STAGING / report.run_id
        self.next_seq = manifest.next_file_seq()

    def ingest(self, bronze_file: BronzeFile) -> FileReport:
        started = time.perf_counter()
        file_report = FileReport(bronze_file.relative, bronze_file.tenant_id, bronze_file.feed, "")
        try:
            self._ingest(bronze_file, file_report)
        except OSError as error:
            file_report.status = "failed"
            file_report.reason_code = "unreadable"
            file_report.reason = f"cannot read the file: {error.strerror or error}"
        file_report.seconds = round(time.perf_counter() - started, 3)
        return file_report

    def _ingest(self, bronze_file: BronzeFile, out: FileReport) -> None:
        """Scan and parse the file; then publish, or record why not.

        The scan (checksum and byte counts, a second read of the file) runs in
        a thread. A file that may take the stream waits for it, since the
        stream needs both before it starts; on the DuckDB paths it runs
        beside the parse and is awaited only when the lineage is needed.
        Whether the bytes were ingested before is known only then: a
        duplicate's parsed output is discarded.
        """
        stat = bronze_file.path.stat()
        if self.manifest.seen_unchanged(bronze_file.relative, stat.st_size, stat.st_mtime_ns):
            out.status = "unchanged"
            return
        seq = self.next_seq
        self.next_seq += 1
        work = self.staging / str(seq)
        prepared: _Prepared | None = None
        rejection: FileRejected | None = None
        try:
            with ThreadPoolExecutor(max_workers=1) as pool:
                scanning = pool.submit(self._scan, bronze_file.path, out)
                try:
                    if bronze_file.problem:
                        raise FileRejected(*bronze_file.problem)
                    if not self._known_bytes(bronze_file, stat.st_size, scanning):
                        prepared = self._prepare(bronze_file, seq, scanning, work, out)
                except FileRejected as error:
                    rejection = error
                except CorruptGzip as error:
                    rejection = _corrupt(error)
                try:
                    scan = scanning.result()
                except CorruptGzip as error:
                    scan = scan_bytes_only(bronze_file.path)
                    rejection = rejection or _corrupt(error)
            out.sha256, out.size_bytes = scan.sha256, scan.size_bytes
            lineage = self._lineage(bronze_file, seq, scan)
            previous = self.manifest.find_content(
                bronze_file.tenant_id, bronze_file.feed, scan.sha256
            )
            if previous is not None:
                _clear_counts(out)
                out.status = "duplicate"
                out.reason = f"same bytes as {previous.path}, already {previous.status}"
                self._record(lineage, stat.st_mtime_ns, scan, out)
            elif rejection is not None:
                _clear_counts(out)
                out.status = "rejected"
                out.reason_code, out.reason = rejection.code, rejection.message
                self._record(lineage, stat.st_mtime_ns, scan, out)
            elif prepared is not None and out.status != "failed":
                self._publish(bronze_file, lineage, prepared, scan, out)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _known_bytes(self, bronze_file: BronzeFile, size: int, scanning: Future[FileScan]) -> bool:
        """Whether a file the size of bytes already recorded is one of them.

        Such a file is most likely a re-send, so its checksum decides before
        any parsing; every other file is parsed while it is checksummed.
        """
        if not self.manifest.has_size(bronze_file.tenant_id, bronze_file.feed, size):
            return False
        try:
            sha256 = scanning.result().sha256
        except CorruptGzip:
            return False
        return (
            self.manifest.find_content(bronze_file.tenant_id, bronze_file.feed, sha256) is not None
        )

    @staticmethod
    def _scan(path: Path, out: FileReport) -> FileScan:
        started = time.perf_counter()
        scan = scan_file(path)
        out.phase_seconds["scan"] = round(time.perf_counter() - started, 3)
        return scan

    def _lineage(self, bronze_file: BronzeFile, seq: int, scan: FileScan) -> Lineage:
        return Lineage(
            tenant_id=bronze_file.tenant_id,
            source_file=bronze_file.relative,
            source_file_seq=seq,
            file_sha256=scan.sha256,
            ingested_at=self.report.started_at,
            file_id=_file_id(bronze_file.relative, scan.sha256),
        )

    def _prepare(
        self,
        bronze_file: BronzeFile,
        seq: int,
        scanning: Future[FileScan],
        work: Path,
        out: FileReport,
    ) -> _Prepared:
        """Silver and quarantine rows of one file, staged under ``work``."""
        feed = FEEDS[bronze_file.feed]
        header = parse_header(read_first_line(bronze_file.path), feed)
        if header.extra_fields:
            out.warnings.append(
                "unknown extra columns kept in extra_columns: " + ", ".join(header.extra_fields)
            )
        silver_out = work / "silver"
        gzipped = is_gzip(bronze_file.path)

        def lineage_of() -> Lineage:
            return self._lineage(bronze_file, seq, scanning.result())

        if may_stream(bronze_file.path, feed, header.extra_fields):
            streamed = self._stream(
                bronze_file, feed, header, scanning.result(), lineage_of, silver_out, work, out
            )
            if streamed is not None:
                return streamed
        try:
            result = run_pass(
                bronze_file.path,
                gzipped,
                feed,
                header,
                self.report.started_at,
                lineage_of,
                silver_out,
                expected_rows=lambda: scanning.result().physical_lines - 1,
            )
        except CorruptGzip as error:
            raise _corrupt(error) from error
        except duckdb.Error as error:
            if isinstance(scanning.exception(), CorruptGzip):
                raise _corrupt(scanning.exception()) from error
            first_line = str(error).strip().splitlines()[0]
            raise FileRejected("not_csv", f"the file cannot be parsed: {first_line}") from error
        _add_phases(out, "fast", result)
        structural, fatal = classify_structural(result.structural)
        if fatal:
            raise fatal
        scan = scanning.result()
        if not result.clean:
            try:
                exact = self._exact(
                    bronze_file, gzipped, feed, header, lineage_of, silver_out, structural
                )
            except RecordMismatch as error:
                raise FileRejected(
                    "not_csv",
                    "the file is not parseable CSV: its quoting is ambiguous "
                    f"(a double quote inside an unquoted field?): {error}",
                ) from error
            return self._finish_exact(out, exact, silver_out, work)
        return self._finish_clean(out, "fast", scan, result.rows_silver, silver_out, work)

    def _stream(
        self,
        bronze_file: BronzeFile,
        feed,
        header: Header,
        scan: FileScan,
        lineage_of: Callable[[], Lineage],
        silver_out: Path,
        work: Path,
        out: FileReport,
    ) -> _Prepared | None:
        """The streaming pass, and the exact one straight after it for a file
        with bad rows; None leaves the file to the DuckDB fast pass."""
        if not is_plain(scan, header.field_count):
            return None
        streamed = stream_pass(
            bronze_file.path, feed, header, lineage_of(), scan.physical_lines - 1, silver_out
        )
        out.phase_seconds["stream"] = round(streamed.seconds, 3)
        if streamed.clean:
            return self._finish_clean(out, "stream", scan, streamed.rows_silver, silver_out, work)
        if not streamed.mostly_good:
            return None
        # A plain file has no structural rejects unless a line is over DuckDB's
        # maximum; then the records do not line up, and the fast pass finds which.
        try:
            exact = self._exact(bronze_file, False, feed, header, lineage_of, silver_out, [])
        except (RecordMismatch, duckdb.Error):
            return None  # the DuckDB paths find out and say why
        return self._finish_exact(out, exact, silver_out, work)

    def _finish_clean(
        self,
        out: FileReport,
        numbering: str,
        scan: FileScan,
        rows_silver: int,
        silver_out: Path,
        work: Path,
    ) -> _Prepared:
        out.line_numbering = numbering
        out.rows_in, out.blank_lines = scan.physical_lines - 1, 0
        out.rows_silver, out.rows_quarantined = rows_silver, 0
        self._check_counts(out)
        return _Prepared(silver_out, [], work / "quarantine.parquet")

    def _finish_exact(
        self,
        out: FileReport,
        exact: tuple[PassResult, list[dict], int, int],
        silver_out: Path,
        work: Path,
    ) -> _Prepared:
        result, quarantine_rows, rows_in, blank = exact
        out.line_numbering = "exact"
        out.rows_in, out.blank_lines = rows_in, blank
        _add_phases(out, "exact", result)
        out.rows_silver = result.rows_silver
        out.rows_quarantined = len(quarantine_rows)
        self._check_counts(out)
        return _Prepared(silver_out, quarantine_rows, work / "quarantine.parquet")

    @staticmethod
    def _check_counts(out: FileReport) -> None:
        """Rows in must equal rows in silver plus rows quarantined; a mismatch fails the file."""
        if out.rows_in != out.rows_silver + out.rows_quarantined:
            out.status = "failed"
            out.reason_code = "count_mismatch"
            out.reason = (
                f"{out.rows_in} rows in, but {out.rows_silver} in silver and "
                f"{out.rows_quarantined} quarantined"
            )

    def _exact(
        self,
        bronze_file: BronzeFile,
        gzipped: bool,
        feed,
        header: Header,
        lineage_of: Callable[[], Lineage],
        silver_out: Path,
        structural: list[tuple[int, str, str]],
    ) -> tuple[PassResult, list[dict], int, int]:
        """Every row with its physical line; every bad row with its rule and text.

        ``structural`` are the lines DuckDB's reader rejected whole; if they
        are not the ones it rejects now, the records do not line up and
        RecordMismatch is raised.
        """
        try:
            index = index_records(bronze_file.path)
        except UnbalancedQuotes as error:
            raise FileRejected("not_csv", f"the file is not parseable CSV: {error}") from error
        records, lines = exact_numbering(index, {line for line, _, _ in structural})
        result = run_pass(
            bronze_file.path,
            gzipped,
            feed,
            header,
            self.report.started_at,
            lineage_of,
            silver_out,
            lines,
            records,
        )
        data_records = int((~index.blank[1:]).sum()) if len(index) else 0
        blank = int(index.blank[1:].sum()) if len(index) else 0
        bad = [(row.record, row.column_name, row.rule, row.message) for row in result.bad_rows]
        bad += [(line - 1, None, rule, field_count_message(msg)) for line, rule, msg in structural]
        texts = raw_texts(bronze_file.path, index, [record for record, *_ in bad])
        lineage = lineage_of()
        rows = [
            {
                "tenant_id": lineage.tenant_id,
                "feed": bronze_file.feed,
                "source_file": lineage.source_file,
                "source_file_seq": lineage.source_file_seq,
                "source_line": int(index.lines[record]),
                "file_sha256": lineage.file_sha256,
                "column_name": column_name,
                "rule": rule,
                "message": message,
                "raw_text": texts[record],
                "ingested_at": datetime.fromisoformat(lineage.ingested_at),
            }
            for record, column_name, rule, message in sorted(bad, key=lambda b: b[0])
        ]
        return result, rows, data_records, blank

    def _publish(
        self,
        bronze_file: BronzeFile,
        lineage: Lineage,
        prepared: _Prepared,
        scan: FileScan,
        out: FileReport,
    ) -> None:
        """Move staged files into place, then record the file: the record comes last."""
        tenant_dir = Path(bronze_file.feed) / f"tenant_id={bronze_file.tenant_id}"
        published: list[str] = []
        for staged in sorted(prepared.silver_out.rglob("*.parquet")):
            relative = tenant_dir / staged.relative_to(prepared.silver_out)
            target = self.paths.silver / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
            published.append(relative.as_posix())
        quarantine_file = None
        if prepared.quarantine_rows:
            relative = tenant_dir / f"{lineage.file_id}.parquet"
            write_quarantine(prepared.quarantine_rows, prepared.quarantine_staged)
            target = self.paths.quarantine / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(prepared.quarantine_staged, target)
            quarantine_file = relative.as_posix()
        out.status = "ingested"
        self._record(
            lineage,
            bronze_file.path.stat().st_mtime_ns,
            scan,
            out,
            silver_files=tuple(published),
            quarantine_file=quarantine_file,
        )

    def _record(
        self,
        lineage: Lineage,
        mtime_ns: int,
        scan: FileScan,
        out: FileReport,
        silver_files: tuple[str, ...] = (),
        quarantine_file: str | None = None,
    ) -> None:
        self.manifest.record(
            ManifestEntry(
                file_seq=lineage.source_file_seq,
                tenant_id=out.tenant_id,
                feed=out.feed,
                path=out.path,
                size_bytes=scan.size_bytes,
                mtime_ns=mtime_ns,
                sha256=scan.sha256,
                status=out.status,
                reason_code=out.reason_code,
                reason=out.reason,
                rows_in=out.rows_in,
                rows_silver=out.rows_silver,
                rows_quarantined=out.rows_quarantined,
                silver_files=silver_files,
                quarantine_file=quarantine_file,
                run_id=self.report.run_id,
                ingested_at=self.report.started_at,
            )
        )


def ingest_bronze(paths: IngestPaths, progress: bool = False) -> IngestReport:
    """Ingest every new bronze file; write the run report; never raise for bad data."""
    files, unknown = discover(paths.bronze)
    report = IngestReport(
        run_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8],
        started_at=_now(),
        bronze=str(paths.bronze),
        silver=str(paths.silver),
        quarantine=str(paths.quarantine),
        unknown_entries=unknown,
    )
    with _run_lock(paths.silver), Manifest(paths.manifest) as manifest:
        shutil.rmtree(paths.silver / _STAGING, ignore_errors=True)
        run = _Run(paths, manifest, report)
        total = sum(_size(f.path) for f in files)
        with tqdm(
            total=total, unit="B", unit_scale=True, disable=not progress, desc="ingest"
        ) as bar:
            for bronze_file in files:
                report.files.append(run.ingest(bronze_file))
                bar.update(_size(bronze_file.path))
        shutil.rmtree(paths.silver / _STAGING, ignore_errors=True)
    report.finished_at = _now()
    paths.reports.mkdir(parents=True, exist_ok=True)
    report_path = paths.reports / f"ingest-{report.run_id}.json"
    report.report_path = str(report_path)
    report_path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report
