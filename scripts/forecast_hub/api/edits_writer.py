"""The embedded edits store's writer: group commit, and in sync durability a pipeline.

One thread owns the SQLite write connection. It takes every change waiting
(up to ``MAX_BATCH_EDITS`` edits), applies them in one transaction (the
edit, its new version and its log row together, each request all or nothing
inside a savepoint) and commits once, so one fsync acknowledges many edits.

With sync durability the batch's change object is uploaded before the
commit. While it uploads, the writer takes the next changes waiting as the
next batch, applies it in the same transaction under a savepoint of its own
and starts its upload too (up to FORECAST_HUB_SYNC_UPLOADS_IN_FLIGHT batches,
1 unless set: a round). When
the first batch's upload has ended and no more is taken, the round ends:
the batches whose objects are in the bucket, with every earlier one, are
committed and answered; the rest are rolled back to their savepoint and get
503 (``forecast_hub.objectstore.sync_uploads``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import queue
import sqlite3
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from forecast_hub.api.edit_jobs import MAX_BATCH_EDITS, Job, Result, StoredEdit, job_weight
from forecast_hub.api.edit_plan import keys_of, plan_batch
from forecast_hub.api.persistence import StorageUnavailable
from forecast_hub.hybrid.store import format_timestamp, parse_timestamp
from forecast_hub.objectstore.changes import INSERT_LOG, UPSERT_EDIT, UPSERT_PREFS, ChangeSet

if TYPE_CHECKING:
    from forecast_hub.api.edits import EditsStore

Outcome = tuple["asyncio.Future[Result]", "Result | BaseException", "Changes"]
Item = tuple[Job, "asyncio.Future[Result]"]

STOP = object()
RELOAD = object()
WAKE = object()
"""Queued when an upload ends: the writer looks at its round again."""


@dataclass
class Changes:
    """What one committed request changes in the cache."""

    edits: list[tuple[str, str, dt.date, StoredEdit]] = field(default_factory=list)
    prefs: list[tuple[str, str, bool | None]] = field(default_factory=list)


_SELECT_EDIT = (
    "select manual_qty, reason, edited_by, edited_at, version, is_removed"
    " from manual_edits_ht where tenant_id = ? and sku_id = ? and forecast_date = ?"
)


def _stored(row: tuple[Any, ...]) -> StoredEdit:
    qty, reason, edited_by, edited_at, version, is_removed = row
    return StoredEdit(qty, reason, edited_by, parse_timestamp(edited_at), version, bool(is_removed))


class Transaction:
    """The writer's view of one batch: a connection, the batch's time, log ids."""

    def __init__(self, conn: sqlite3.Connection, now: dt.datetime, next_log_id: int) -> None:
        self.conn = conn
        self.now = now
        self.now_text = format_timestamp(now)
        self.next_log_id = next_log_id
        self.changes = ChangeSet()
        """Every row the batch wrote, for its persistence."""

    def current(self, tenant_id: str, sku_id: str, date: dt.date) -> StoredEdit | None:
        row = self.conn.execute(_SELECT_EDIT, (tenant_id, sku_id, date.isoformat())).fetchone()
        return _stored(row) if row else None

    def log_ids(self, count: int) -> range:
        ids = range(self.next_log_id, self.next_log_id + count)
        self.next_log_id += count
        return ids

    def apply(self, job: Job) -> tuple[Result, Changes]:
        """Answer one request against its rows as stored, by the rule every store
        plans with (``edit_plan.py``), and write what it changes."""
        stored = {key: edit for key in keys_of([job]) if (edit := self.current(*key))}
        plan = plan_batch([job], stored, self.now)
        if not plan.changes_anything:
            return plan.results[0], Changes()
        edit_rows = [
            (
                tenant_id,
                sku_id,
                date.isoformat(),
                write.edit.manual_qty,
                write.edit.reason,
                write.edit.edited_by,
                self.now_text,
                write.edit.version,
                int(write.edit.is_removed),
            )
            for (tenant_id, sku_id, date), write in plan.edits.items()
        ]
        log_rows = [
            (
                log_id,
                row.key[0],
                row.key[1],
                row.key[2].isoformat(),
                row.action,
                row.old_qty,
                row.new_qty,
                row.reason,
                row.edited_by,
                self.now_text,
                row.version,
            )
            for log_id, row in zip(self.log_ids(len(plan.log)), plan.log, strict=True)
        ]
        prefs_rows = [
            (tenant_id, user_id, None if show is None else int(show), self.now_text)
            for (tenant_id, user_id), show in plan.prefs.items()
        ]
        self.conn.executemany(UPSERT_EDIT, edit_rows)
        self.conn.executemany(INSERT_LOG, log_rows)
        self.conn.executemany(UPSERT_PREFS, prefs_rows)
        self.changes.edits.extend(edit_rows)
        self.changes.log.extend(log_rows)
        self.changes.prefs.extend(prefs_rows)
        self.changes.writes += 1
        return plan.results[0], Changes(
            edits=[(*key, write.edit) for key, write in plan.edits.items()],
            prefs=[(*key, show) for key, show in plan.prefs.items()],
        )


@dataclass(eq=False)
class _Staged:
    """One batch of a round: applied under its savepoint, its upload maybe on its way."""

    savepoint: str
    transaction: Transaction
    first_log_id: int
    outcomes: list[Outcome] = field(default_factory=list)
    upload: Any = None
    refused: StorageUnavailable | None = None


class GroupCommit:
    """The writer thread's loop over the store's queue."""

    def __init__(self, store: EditsStore, conn: sqlite3.Connection) -> None:
        self.store = store
        self.conn = conn
        self.persistence = store.persistence
        self.sync = self.persistence is not None and self.persistence.mode == "sync"
        self.round_batches = self.persistence.uploads_in_flight if self.persistence else 1
        self.queue = store._queue
        (self.next_log_id,) = conn.execute(
            "select coalesce(max(log_id), 0) + 1 from manual_edit_log_ht"
        ).fetchone()
        (latest,) = conn.execute("select max(edited_at) from manual_edit_log_ht").fetchone()
        self.last_time = (
            parse_timestamp(latest) if latest else dt.datetime.min.replace(tzinfo=dt.UTC)
        )

    def serve(self) -> None:
        while True:
            item = self.queue.get()
            if item is WAKE:
                continue
            if item is STOP:
                return
            if item is RELOAD:
                self.conn = self.store._reload(self.conn)
                continue
            if self._round(item):
                return

    def _now(self) -> dt.datetime:
        """Strictly increasing times: a batch's edits share one, a later batch is later."""
        now = max(dt.datetime.now(dt.UTC), self.last_time + dt.timedelta(microseconds=1))
        self.last_time = now
        return now

    def _collect(self, first: Item) -> tuple[list[Item], bool, bool]:
        """The first change and every one waiting; whether STOP or RELOAD came after."""
        batch = [first]
        size = job_weight(first[0])
        while size < MAX_BATCH_EDITS:
            try:
                item = self.queue.get_nowait()
            except queue.Empty:
                break
            if item is WAKE:
                continue
            if item is STOP:
                return batch, True, False
            if item is RELOAD:
                self.queue.put(RELOAD)
                return batch, False, True
            batch.append(item)
            size += job_weight(item[0])
        return batch, False, False

    def _next_change(self, head: _Staged) -> Any:
        """While the round's first upload is on its way: the next item queued, else None."""
        while head.upload is not None and not head.upload.done:
            item = self.queue.get()
            if item is not WAKE:
                return item
        return None

    def _round(self, first: Item) -> bool:
        """Stage batches while the first one uploads, then commit those acknowledged."""
        conn = self.conn
        staged: list[_Staged] = []
        stop = False
        try:
            conn.execute("begin immediate")
            item: Any = first
            while True:
                batch, stop, reload = self._collect(item)
                staged.append(self._stage(batch, len(staged)))
                if stop or reload or not self.sync or len(staged) >= self.round_batches:
                    break
                if staged[-1].refused is not None:
                    break
                item = self._next_change(staged[0])
                if item is None:
                    break
                if item is STOP or item is RELOAD:
                    stop = item is STOP
                    if item is RELOAD:
                        self.queue.put(RELOAD)
                    break
            self._end_round(staged)
        except Exception as error:
            self._fail_round(staged, error)
        return stop

    def _stage(self, batch: list[Item], index: int) -> _Staged:
        conn = self.conn
        transaction = Transaction(conn, self._now(), self.next_log_id)
        entry = _Staged(f"batch{index}", transaction, self.next_log_id)
        conn.execute(f"savepoint {entry.savepoint}")
        for job, future in batch:
            conn.execute("savepoint request")
            mark = transaction.next_log_id
            rows = transaction.changes.mark()
            try:
                result, changes = transaction.apply(job)
            except Exception as error:
                conn.execute("rollback to request")
                transaction.next_log_id = mark
                transaction.changes.truncate(rows)
                entry.outcomes.append((future, error, Changes()))
            else:
                entry.outcomes.append((future, result, changes))
            conn.execute("release request")
        persistence = self.persistence
        if persistence is not None and not transaction.changes.empty:
            try:
                if self.sync:
                    entry.upload = persistence.begin_upload(
                        conn, transaction.changes, lambda: self.queue.put(WAKE)
                    )
                else:
                    persistence.before_commit(conn, transaction.changes, transaction.now_text)
            except StorageUnavailable as error:
                conn.execute(f"rollback to {entry.savepoint}")
                entry.refused = error
                return entry
        self.next_log_id = transaction.next_log_id
        return entry

    def _end_round(self, staged: list[_Staged]) -> None:
        uploads = [entry.upload for entry in staged if entry.upload is not None]
        acknowledged, failure = (
            self.persistence.finish_uploads(uploads)
            if uploads and self.persistence is not None
            else (0, None)
        )
        landed = {id(upload) for upload in uploads[:acknowledged]}
        cut = next(
            (
                index
                for index, entry in enumerate(staged)
                if entry.refused is not None
                or (entry.upload is not None and id(entry.upload) not in landed)
            ),
            len(staged),
        )
        if cut < len(staged):
            self.conn.execute(f"rollback to {staged[cut].savepoint}")
            self.next_log_id = staged[cut].first_log_id
        self.conn.execute("commit")
        for entry in staged[:cut]:
            changes = entry.transaction.changes
            if self.persistence is not None and not self.sync and not changes.empty:
                self.persistence.after_commit(changes)
            self.store._hand_back(entry.outcomes, entry.transaction.now)
        for entry in staged[cut:]:
            error = entry.refused or failure or StorageUnavailable("nothing was acknowledged")
            self.store._hand_back([(f, error, Changes()) for f, _, _ in entry.outcomes], None)

    def _fail_round(self, staged: list[_Staged], error: Exception) -> None:
        """SQLite failed: nothing of the round is kept, and nothing of it acknowledged."""
        conn = self.conn
        if conn.in_transaction:
            conn.execute("rollback")
        uploads = [entry.upload for entry in staged if entry.upload is not None]
        if uploads and self.persistence is not None:
            self.persistence.rolled_back(uploads)
        failure = (
            error
            if isinstance(error, StorageUnavailable)
            else StorageUnavailable(f"the edits store could not commit: {error}")
        )
        for entry in staged:
            self.store._hand_back([(f, failure, Changes()) for f, _, _ in entry.outcomes], None)
        (next_id,) = conn.execute(
            "select coalesce(max(log_id), 0) + 1 from manual_edit_log_ht"
        ).fetchone()
        self.next_log_id = int(next_id)
