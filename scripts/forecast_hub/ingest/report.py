"""What a run tells: a report per file, the run's totals, its JSON report file."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path


class Status(StrEnum):
    """What became of a file; a str equal to the word the report and the manifest hold."""

    INGESTED = "ingested"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    UNCHANGED = "unchanged"
    FAILED = "failed"


class Numbering(StrEnum):
    """The path that gave a file's rows their line numbers."""

    STREAM = "stream"
    FAST = "fast"
    EXACT = "exact"


@dataclass(frozen=True)
class Counts:
    """A file's rows as a path counted them: rows in from the bytes, the rest from the writers."""

    numbering: Numbering
    rows_in: int
    blank_lines: int
    rows_silver: int
    rows_quarantined: int

    def mismatch(self) -> str | None:
        """Why the counts do not add up (rows in = silver + quarantined), if they do not."""
        if self.rows_in == self.rows_silver + self.rows_quarantined:
            return None
        return (
            f"{self.rows_in} rows in, but {self.rows_silver} in silver and "
            f"{self.rows_quarantined} quarantined"
        )


@dataclass
class FileReport:
    path: str
    tenant_id: str
    feed: str
    status: Status | None = None  # None only while the file is being ingested
    reason_code: str | None = None
    reason: str | None = None
    rows_in: int | None = None
    rows_silver: int | None = None
    rows_quarantined: int | None = None
    blank_lines: int | None = None
    warnings: list[str] = field(default_factory=list)
    sha256: str | None = None
    size_bytes: int | None = None
    line_numbering: Numbering | None = None
    seconds: float | None = None
    phase_seconds: dict[str, float] = field(default_factory=dict)

    def time_phase(self, phase: str, seconds: float) -> None:
        self.phase_seconds[phase] = round(seconds, 3)

    def set_counts(self, counts: Counts) -> None:
        self.line_numbering = counts.numbering
        self.rows_in, self.blank_lines = counts.rows_in, counts.blank_lines
        self.rows_silver, self.rows_quarantined = counts.rows_silver, counts.rows_quarantined

    def clear_counts(self) -> None:
        """Counts of a parse whose output is not kept (a duplicate or a rejected file)."""
        self.rows_in = self.rows_silver = self.rows_quarantined = self.blank_lines = None
        self.line_numbering = None
        self.warnings.clear()

    def fail(self, reason_code: str, reason: str) -> None:
        self.status = Status.FAILED
        self.reason_code, self.reason = reason_code, reason


# The statuses the totals count, in the report's order.
_STATUSES = (Status.INGESTED, Status.REJECTED, Status.DUPLICATE, Status.UNCHANGED, Status.FAILED)


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
        return [f for f in self.files if f.status == Status.FAILED]

    def totals(self) -> dict[str, int]:
        counts = Counter(f.status for f in self.files)
        ingested = [f for f in self.files if f.status == Status.INGESTED]
        return {
            "files": len(self.files),
            **{status.value: counts.get(status, 0) for status in _STATUSES},
            "rows_in": sum(f.rows_in or 0 for f in ingested),
            "rows_silver": sum(f.rows_silver or 0 for f in ingested),
            "rows_quarantined": sum(f.rows_quarantined or 0 for f in ingested),
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

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "totals": self.totals()}

    def write(self, reports: Path) -> None:
        """Close the run: its end time, and the report as ``ingest-<run id>.json``."""
        self.finished_at = now()
        reports.mkdir(parents=True, exist_ok=True)
        report_path = reports / f"ingest-{self.run_id}.json"
        self.report_path = str(report_path)
        report_path.write_text(json.dumps(self.to_json(), indent=2) + "\n")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
