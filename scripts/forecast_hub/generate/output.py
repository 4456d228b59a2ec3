"""What a run is asked for and what it wrote: the config, the output folder, the manifest.

``Output`` collects every file written, every file that must be rejected and
every bad row, for the manifest ``MANIFEST_NAME`` and the one-line summary.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from forecast_hub.errors import UserError
from forecast_hub.generate.calendar import EARLIEST_SALE_DATE, HISTORY_END, MAX_DAYS

MANIFEST_NAME = ".forecast-hub-generate.json"


@dataclass(frozen=True)
class GenerateConfig:
    """What to generate: sizes per tenant, days of sales history, seed, bad input or not."""

    tenants: int = 3
    skus: int = 200
    locations: int = 10
    days: int = 730
    seed: int = 42
    dirty: bool = False


@dataclass(frozen=True)
class FileRecord:
    """One file written: its path under the output folder, and its data records."""

    path: str
    tenant_id: str
    feed: str
    rows: int


@dataclass(frozen=True)
class RejectedFile:
    """A file ingestion must reject whole, and the reason."""

    path: str
    reason: str


@dataclass(frozen=True)
class QuarantinedRow:
    """A bad record: its file, the physical line it starts on, the rule it breaks."""

    path: str
    line: int
    column: str | None
    rule: str


@dataclass(frozen=True)
class GenerateSummary:
    """What one run wrote; ``one_line`` is what the CLI prints."""

    out: Path
    tenants: int
    files: int
    sales_rows: int
    bad_rows: int
    bad_files: int
    dirty: bool

    def one_line(self) -> str:
        dirty = ""
        if self.dirty:
            bad = f"{_count(self.bad_rows, 'bad row')}, {_count(self.bad_files, 'bad file')}"
            dirty = f" (dirty: {bad})"
        return (
            f"generated {_count(self.tenants, 'tenant')}, {_count(self.files, 'file')}, "
            f"{_count(self.sales_rows, 'sales row')}{dirty} in {self.out}"
        )


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def check_config(config: GenerateConfig) -> None:
    """Refuse sizes below 1, more days than history allows, a negative seed."""
    for name in ("tenants", "skus", "locations", "days"):
        if getattr(config, name) < 1:
            raise UserError(f"--{name} must be at least 1")
    if config.days > MAX_DAYS:
        raise UserError(
            f"--days must be at most {MAX_DAYS:,} so that sales start on or after "
            f"{EARLIEST_SALE_DATE} (history ends {HISTORY_END})"
        )
    if config.seed < 0:
        raise UserError("--seed must be 0 or more")


def prepare_out(out: Path) -> None:
    """Make ``out`` an empty, writable folder; only an earlier run's folder is emptied."""
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; --out must be a folder (new, empty, or generated)")
    if out.is_dir():
        entries = sorted(out.iterdir())
        if entries and not (out / MANIFEST_NAME).is_file():
            raise UserError(
                f"{out} is not empty and holds no {MANIFEST_NAME} from an earlier generate; "
                "choose a new or empty folder"
            )
        _empty_folder(out, entries)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"cannot create {out}: {error.strerror}; choose a writable folder"
        ) from error
    if not os.access(out, os.W_OK | os.X_OK):
        raise UserError(f"{out} is not writable; choose a writable folder")


def _empty_folder(out: Path, entries: Sequence[Path]) -> None:
    try:
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    except OSError as error:
        raise UserError(
            f"cannot clear the earlier generated files in {out}: {error}; remove them by hand"
        ) from error


class Output:
    """Collects what was written, for the manifest and the summary."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[FileRecord] = []
        self.rejected: list[RejectedFile] = []
        self.quarantined: list[QuarantinedRow] = []

    def summary(self, config: GenerateConfig) -> GenerateSummary:
        return GenerateSummary(
            out=self.root,
            tenants=config.tenants,
            files=len(self.files),
            sales_rows=sum(f.rows for f in self.files if f.feed == "sales"),
            bad_rows=len(self.quarantined),
            bad_files=len(self.rejected),
            dirty=config.dirty,
        )

    def manifest(self, config: GenerateConfig) -> dict[str, object]:
        return {
            "config": asdict(config),
            "files": [asdict(f) for f in sorted(self.files, key=lambda f: f.path)],
            "rejected_files": [asdict(r) for r in sorted(self.rejected, key=lambda r: r.path)],
            "quarantined_rows": [
                asdict(q) for q in sorted(self.quarantined, key=lambda q: (q.path, q.line))
            ],
        }


def write_manifest(out: Path, config: GenerateConfig, output: Output) -> None:
    """Write the manifest whole or not at all (through a temporary file)."""
    temporary = out / f"{MANIFEST_NAME}.tmp"
    temporary.write_text(json.dumps(output.manifest(config), indent=1) + "\n", encoding="utf-8")
    temporary.replace(out / MANIFEST_NAME)
