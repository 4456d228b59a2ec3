"""The rule of every edits store, planned in memory: what requests answer and write.

A writer reads the stored rows of the keys its requests touch and plans
them here in queue order, each request against the rows as the requests
before it left them: a version check refuses the whole request, versions
count up by one, a removal keeps its row. What comes out is the answer of
every request and the writes: one final row per key (with the version it
was read at, for a guarded UPDATE), the log rows in order, and the
preferences. The remote stores plan a whole group commit at once; the
embedded store plans one request at a time inside its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from forecast_hub.api.edit_jobs import (
    Applied,
    Conflict,
    Job,
    NothingToRemove,
    PrefsSaved,
    PutEdits,
    Removed,
    RemoveEdit,
    Result,
    StoredEdit,
)

RowKey = tuple[str, str, dt.date]
"""(tenant_id, sku_id, forecast_date): the primary key of manual_edits_ht."""


@dataclass(frozen=True)
class LogRow:
    """One row of manual_edit_log_ht, before its log id is given."""

    key: RowKey
    action: str
    old_qty: float | None
    new_qty: float | None
    reason: str | None
    edited_by: str
    edited_at: dt.datetime
    version: int

    @property
    def written(self) -> tuple[str, dt.datetime, int]:
        """Who, when and the version after: the last columns of a log row."""
        return (self.edited_by, self.edited_at, self.version)


@dataclass(frozen=True)
class EditWrite:
    """The final row of a key after the batch; ``read_version`` None: a new row."""

    key: RowKey
    edit: StoredEdit
    read_version: int | None


@dataclass
class BatchPlan:
    """The answers of a batch and what it writes."""

    results: list[Result] = field(default_factory=list)
    edits: dict[RowKey, EditWrite] = field(default_factory=dict)
    log: list[LogRow] = field(default_factory=list)
    prefs: dict[tuple[str, str], bool | None] = field(default_factory=dict)

    @property
    def changes_anything(self) -> bool:
        return bool(self.edits or self.prefs)

    def edits_as_of(self) -> dict[str, dt.datetime]:
        """Per tenant, the time of its latest change in this batch."""
        latest: dict[str, dt.datetime] = {}
        for row in self.log:
            tenant_id = row.key[0]
            if tenant_id not in latest or row.edited_at > latest[tenant_id]:
                latest[tenant_id] = row.edited_at
        return latest


def keys_of(jobs: Sequence[Job]) -> list[RowKey]:
    """Every edit key the jobs touch, sorted (rows are locked in this order)."""
    keys: set[RowKey] = set()
    for job in jobs:
        if isinstance(job, PutEdits):
            keys.update((job.tenant_id, e.sku_id, e.forecast_date) for e in job.edits)
        elif isinstance(job, RemoveEdit):
            keys.add((job.tenant_id, job.sku_id, job.forecast_date))
    return sorted(keys)


class _Planner:
    def __init__(self, stored: Mapping[RowKey, StoredEdit], now: dt.datetime) -> None:
        self.read = dict(stored)
        self.rows: dict[RowKey, StoredEdit] = dict(stored)
        self.now = now
        self.plan = BatchPlan()

    def write(self, key: RowKey, edit: StoredEdit, log: LogRow) -> None:
        self.rows[key] = edit
        read = self.read.get(key)
        self.plan.edits[key] = EditWrite(key, edit, None if read is None else read.version)
        self.plan.log.append(log)

    def put(self, job: PutEdits) -> Result:
        keys = [(job.tenant_id, e.sku_id, e.forecast_date) for e in job.edits]
        currents = [self.rows.get(key) for key in keys]
        conflicts = tuple(
            (index, edit, current)
            for index, (edit, current) in enumerate(zip(job.edits, currents, strict=True))
            if edit.expected_version is not None
            and edit.expected_version != (current.version if current else 0)
        )
        if conflicts:
            return Conflict(conflicts)
        applied = []
        for key, edit, current in zip(keys, job.edits, currents, strict=True):
            version = (current.version if current else 0) + 1
            old_qty = current.manual_qty if current and not current.is_removed else None
            stored = StoredEdit(edit.qty, edit.reason, job.user_id, self.now, version, False)
            log = LogRow(
                key, "upsert", old_qty, edit.qty, edit.reason, job.user_id, self.now, version
            )
            self.write(key, stored, log)
            applied.append((edit, stored))
        return Applied(tuple(applied))

    def remove(self, job: RemoveEdit) -> Result:
        key = (job.tenant_id, job.sku_id, job.forecast_date)
        current = self.rows.get(key)
        if current is None or current.is_removed:
            return NothingToRemove()
        stored = StoredEdit(None, None, job.user_id, self.now, current.version + 1, True)
        log = LogRow(
            key, "remove", current.manual_qty, None, None, job.user_id, self.now, stored.version
        )
        self.write(key, stored, log)
        return Removed(stored)

    def apply(self, job: Job) -> Result:
        if isinstance(job, PutEdits):
            return self.put(job)
        if isinstance(job, RemoveEdit):
            return self.remove(job)
        self.plan.prefs[(job.tenant_id, job.user_id)] = job.show_manual
        return PrefsSaved(job.show_manual)


def plan_batch(
    jobs: Sequence[Job], stored: Mapping[RowKey, StoredEdit], now: dt.datetime
) -> BatchPlan:
    """Answer every job in order against the stored rows of ``keys_of(jobs)``."""
    planner = _Planner(stored, now)
    for job in jobs:
        planner.plan.results.append(planner.apply(job))
    return planner.plan
