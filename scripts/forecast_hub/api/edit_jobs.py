"""What the edits stores speak: a stored edit, the jobs requests queue, their
results and the log's entries; the same for every backend (``stores/``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

# The most edits one group commit takes (a request is never split).
MAX_BATCH_EDITS = 20_000


@dataclass(frozen=True)
class StoredEdit:
    manual_qty: float | None
    reason: str | None
    edited_by: str
    edited_at: dt.datetime
    version: int
    is_removed: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "qty": self.manual_qty,
            "reason": self.reason,
            "version": self.version,
            "is_removed": self.is_removed,
            "edited_by": self.edited_by,
            "edited_at": self.edited_at,
        }


@dataclass(frozen=True)
class EditRequest:
    sku_id: str
    forecast_date: dt.date
    qty: float
    reason: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class PutEdits:
    tenant_id: str
    user_id: str
    edits: tuple[EditRequest, ...]


@dataclass(frozen=True)
class RemoveEdit:
    tenant_id: str
    user_id: str
    sku_id: str
    forecast_date: dt.date


@dataclass(frozen=True)
class SetPrefs:
    tenant_id: str
    user_id: str
    show_manual: bool | None


Job = PutEdits | RemoveEdit | SetPrefs


@dataclass(frozen=True)
class Applied:
    edits: tuple[tuple[EditRequest, StoredEdit], ...]


@dataclass(frozen=True)
class Conflict:
    conflicts: tuple[tuple[int, EditRequest, StoredEdit | None], ...]


@dataclass(frozen=True)
class Removed:
    edit: StoredEdit


@dataclass(frozen=True)
class NothingToRemove:
    pass


@dataclass(frozen=True)
class PrefsSaved:
    show_manual: bool | None


Result = Applied | Conflict | Removed | NothingToRemove | PrefsSaved


@dataclass(frozen=True)
class LogEntry:
    log_id: int
    sku_id: str
    forecast_date: dt.date
    action: str
    old_qty: float | None
    new_qty: float | None
    reason: str | None
    edited_by: str
    edited_at: dt.datetime
    version: int

    def to_json(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "sku_id": self.sku_id,
            "forecast_date": self.forecast_date,
            "action": self.action,
            "old_qty": self.old_qty,
            "new_qty": self.new_qty,
            "reason": self.reason,
            "edited_by": self.edited_by,
            "edited_at": self.edited_at,
            "version": self.version,
        }


def job_weight(job: Job) -> int:
    """What a job counts towards MAX_BATCH_EDITS: its edits, or one."""
    return len(job.edits) if isinstance(job, PutEdits) else 1
