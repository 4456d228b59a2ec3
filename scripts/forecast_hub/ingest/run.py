"""An ingestion run: discover bronze files, ingest each new one, publish, report.

discover.py finds the files, route.py chooses the path that writes each,
publish.py moves the output into place and records it, report.py tells what
became of each file. A run holds a lock on its silver folder throughout.

Bound: one file at a time. A plain file streams through Polars; any other
is parsed into an in-memory DuckDB that keeps within
FORECAST_HUB_DUCKDB_MEMORY_LIMIT and spills past it, so the largest file, not
the feed, sets the memory (the exact path adds a record index of about 25 bytes
a record of that file). The run keeps one report entry per file. Time: a scan
and one or two parses of each new file, linear in bytes.
"""

from __future__ import annotations

import fcntl
import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from tqdm import tqdm

from forecast_hub.duckdb_limits import DEFAULT_LIMITS, Limits
from forecast_hub.errors import UserError
from forecast_hub.ingest.discover import BronzeFile, discover, file_size
from forecast_hub.ingest.manifest import Manifest
from forecast_hub.ingest.pipeline import FileRejected
from forecast_hub.ingest.publish import Publisher, staging_root
from forecast_hub.ingest.report import FileReport, IngestReport, Status, now
from forecast_hub.ingest.route import FileJob, Prepared, corrupt, prepare
from forecast_hub.ingest.scan import CorruptGzip, FileScan, scan_bytes_only, scan_file
from forecast_hub.settings import Settings


@dataclass(frozen=True)
class IngestPaths:
    bronze: Path
    silver: Path
    quarantine: Path
    manifest: Path
    reports: Path
    # Each file's DuckDB: FORECAST_HUB_DUCKDB_MEMORY_LIMIT and _TEMP_DIR.
    limits: Limits = DEFAULT_LIMITS

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
            limits=Limits.of(settings),
        )


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


class _Parsed(NamedTuple):
    """A file once scanned and parsed: its output staged, or why it is rejected."""

    scan: FileScan
    prepared: Prepared | None
    rejection: FileRejected | None


class _Run:
    def __init__(self, paths: IngestPaths, manifest: Manifest, report: IngestReport) -> None:
        self.manifest = manifest
        self.limits = paths.limits
        self.ingested_at = report.started_at
        self.publisher = Publisher(
            paths.silver, paths.quarantine, manifest, report.run_id, report.started_at
        )
        self.staging = self.publisher.staging()
        self.next_seq = manifest.next_file_seq()

    def ingest(self, bronze_file: BronzeFile) -> FileReport:
        started = time.perf_counter()
        file_report = FileReport(bronze_file.relative, bronze_file.tenant_id, bronze_file.feed)
        try:
            self._ingest(bronze_file, file_report)
        except OSError as error:
            file_report.fail("unreadable", f"cannot read the file: {error.strerror or error}")
        file_report.seconds = round(time.perf_counter() - started, 3)
        return file_report

    def _ingest(self, bronze_file: BronzeFile, out: FileReport) -> None:
        """Scan and parse the file; then publish, or record why not.

        Whether the bytes were ingested before is known only once the scan
        has their checksum: a duplicate's parsed output is discarded.
        """
        stat = bronze_file.path.stat()
        if self.manifest.seen_unchanged(bronze_file.relative, stat.st_size, stat.st_mtime_ns):
            out.status = Status.UNCHANGED
            return
        seq = self.next_seq
        self.next_seq += 1
        work = self.staging / str(seq)
        try:
            scan, prepared, rejection = self._parse(bronze_file, seq, stat.st_size, work, out)
            out.sha256, out.size_bytes = scan.sha256, scan.size_bytes
            lineage = bronze_file.lineage(seq, scan, self.ingested_at)
            previous = self.manifest.find_content(
                bronze_file.tenant_id, bronze_file.feed, scan.sha256
            )
            if previous is not None:
                out.clear_counts()
                out.reason = f"same bytes as {previous.path}, already {previous.status}"
                self.publisher.record(Status.DUPLICATE, lineage, stat.st_mtime_ns, scan, out)
            elif rejection is not None:
                out.clear_counts()
                out.reason_code, out.reason = rejection.code, rejection.message
                self.publisher.record(Status.REJECTED, lineage, stat.st_mtime_ns, scan, out)
            elif prepared is not None and out.status is not Status.FAILED:
                self.publisher.publish(bronze_file, lineage, prepared, scan, out)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _parse(
        self, bronze_file: BronzeFile, seq: int, size: int, work: Path, out: FileReport
    ) -> _Parsed:
        """The file's scan, and its output staged under ``work`` unless it is rejected.

        The scan (checksum and byte counts, a second read of the file) runs in
        a thread. A file that may take the stream waits for it, since the
        stream needs both before it starts; on the DuckDB paths it runs
        beside the parse and is awaited only when the lineage is needed.
        """
        prepared: Prepared | None = None
        rejection: FileRejected | None = None
        with ThreadPoolExecutor(max_workers=1) as pool:
            scanning = pool.submit(_scan, bronze_file.path, out)
            job = FileJob(
                bronze_file,
                self.ingested_at,
                scanning,
                lambda: bronze_file.lineage(seq, scanning.result(), self.ingested_at),
                work,
                self.limits,
            )
            try:
                if bronze_file.problem:
                    raise FileRejected(*bronze_file.problem)
                if not self._known_bytes(bronze_file, size, scanning):
                    prepared = prepare(job, out)
            except FileRejected as error:
                rejection = error
            except CorruptGzip as error:
                rejection = corrupt(error)
            try:
                scan = scanning.result()
            except CorruptGzip as error:
                scan = scan_bytes_only(bronze_file.path)
                rejection = rejection or corrupt(error)
        return _Parsed(scan, prepared, rejection)

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


def _scan(path: Path, out: FileReport) -> FileScan:
    started = time.perf_counter()
    scan = scan_file(path)
    out.time_phase("scan", time.perf_counter() - started)
    return scan


def ingest_bronze(paths: IngestPaths, progress: bool = False) -> IngestReport:
    """Ingest every new bronze file; write the run report; never raise for bad data."""
    files, unknown = discover(paths.bronze)
    report = IngestReport(
        run_id=datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8],
        started_at=now(),
        bronze=str(paths.bronze),
        silver=str(paths.silver),
        quarantine=str(paths.quarantine),
        unknown_entries=unknown,
    )
    with _run_lock(paths.silver), Manifest(paths.manifest) as manifest:
        shutil.rmtree(staging_root(paths.silver), ignore_errors=True)
        run = _Run(paths, manifest, report)
        total = sum(file_size(f.path) for f in files)
        with tqdm(
            total=total, unit="B", unit_scale=True, disable=not progress, desc="ingest"
        ) as bar:
            for bronze_file in files:
                report.files.append(run.ingest(bronze_file))
                bar.update(file_size(bronze_file.path))
        shutil.rmtree(staging_root(paths.silver), ignore_errors=True)
    report.write(paths.reports)
    return report
