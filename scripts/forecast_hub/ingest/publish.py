"""Staged output into place, then the file's manifest row: the row comes last.

Each file is prepared under ``<silver>/_staging/<run id>/<file seq>/``. Its
silver files and its quarantine file are moved into place with atomic
renames, and only then is the file recorded in the manifest, so a run killed
anywhere leaves at most files that the next run overwrites, never a record
of output that is not there.
"""

from __future__ import annotations

import os
from pathlib import Path

from forecast_hub.ingest.discover import BronzeFile
from forecast_hub.ingest.manifest import Manifest, ManifestEntry
from forecast_hub.ingest.pipeline import Lineage
from forecast_hub.ingest.quarantine import write_quarantine
from forecast_hub.ingest.report import FileReport, Status
from forecast_hub.ingest.route import Prepared
from forecast_hub.ingest.scan import FileScan

_STAGING = "_staging"


def staging_root(silver: Path) -> Path:
    """Where runs stage their output; whatever is left there is from a run that died."""
    return silver / _STAGING


class Publisher:
    """Publishes and records the files of one run."""

    def __init__(
        self, silver: Path, quarantine: Path, manifest: Manifest, run_id: str, ingested_at: str
    ) -> None:
        self.silver = silver
        self.quarantine = quarantine
        self.manifest = manifest
        self.run_id = run_id
        self.ingested_at = ingested_at

    def staging(self) -> Path:
        """The run's staging folder."""
        return staging_root(self.silver) / self.run_id

    def publish(
        self,
        bronze_file: BronzeFile,
        lineage: Lineage,
        prepared: Prepared,
        scan: FileScan,
        out: FileReport,
    ) -> None:
        """Move staged files into place, then record the file: the record comes last."""
        tenant_dir = Path(bronze_file.feed) / f"tenant_id={bronze_file.tenant_id}"
        published: list[str] = []
        for staged in sorted(prepared.silver_out.rglob("*.parquet")):
            relative = tenant_dir / staged.relative_to(prepared.silver_out)
            target = self.silver / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
            published.append(relative.as_posix())
        quarantine_file = None
        if prepared.quarantine_rows:
            relative = tenant_dir / f"{lineage.file_id}.parquet"
            write_quarantine(prepared.quarantine_rows, prepared.quarantine_staged)
            target = self.quarantine / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(prepared.quarantine_staged, target)
            quarantine_file = relative.as_posix()
        self.record(
            Status.INGESTED,
            lineage,
            bronze_file.path.stat().st_mtime_ns,
            scan,
            out,
            silver_files=tuple(published),
            quarantine_file=quarantine_file,
        )

    def record(
        self,
        status: Status,
        lineage: Lineage,
        mtime_ns: int,
        scan: FileScan,
        out: FileReport,
        silver_files: tuple[str, ...] = (),
        quarantine_file: str | None = None,
    ) -> None:
        """Give the file its status and write its manifest row."""
        out.status = status
        self.manifest.record(
            ManifestEntry(
                file_seq=lineage.source_file_seq,
                tenant_id=out.tenant_id,
                feed=out.feed,
                path=out.path,
                size_bytes=scan.size_bytes,
                mtime_ns=mtime_ns,
                sha256=scan.sha256,
                status=status.value,
                reason_code=out.reason_code,
                reason=out.reason,
                rows_in=out.rows_in,
                rows_silver=out.rows_silver,
                rows_quarantined=out.rows_quarantined,
                silver_files=silver_files,
                quarantine_file=quarantine_file,
                run_id=self.run_id,
                ingested_at=self.ingested_at,
            )
        )
