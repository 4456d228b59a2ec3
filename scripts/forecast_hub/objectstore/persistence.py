"""The embedded edits store kept in object storage: durability sync or async.

sync: inside each group commit's transaction, after the store applied the
batch and before SQLite commits it, the batch's rows go to the bucket as one
change object named by the next sequence number and written only if absent;
while it uploads, the next batches are applied and uploaded
(``sync_uploads.py``). A batch is committed and answered only once its
object and every earlier one are in the bucket. An upload that fails rolls
its batch and every later one back, and their requests get 503, so no edit
that was refused is in SQLite or in memory. Their numbers are settled
before anything else is written: an object is read back (one whose answer
was lost and that landed is acknowledged after all; one that landed behind
a failed one is voided) or its number claimed with an ``aborted`` object,
so a late copy can never land.

async: each group commit also queues its rows in a local table, in the same
transaction; the queue goes to the bucket as one change object after
FORECAST_HUB_PERSIST_EVERY_WRITES writes (before the batch that reaches the
count is answered, so at most that many acknowledged writes are ever only
local while the store answers), after FORECAST_HUB_PERSIST_EVERY_SECONDS,
when the server stops, and on ``forecast-hub edits persist``. Failed
uploads are retried with backoff while writes go on being accepted.

Both: now and then a snapshot of the database (SQLite's backup API) replaces
the bucket's snapshot, on the ETag this instance last saw, and the change
objects it covers are removed. A write whose condition fails (412) means
another instance wrote to the same prefix: this one is fenced, takes no more
writes, and reloads what the bucket holds.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from forecast_hub.api.persistence import Fenced, StorageUnavailable
from forecast_hub.file_lock import exclusive
from forecast_hub.hybrid.store import connect_store
from forecast_hub.hybrid.tables import SCHEMA, HybridSchema
from forecast_hub.objectstore.changes import (
    SNAPSHOT_NAME,
    ChangeObject,
    ChangeSet,
    change_name,
    dequeue,
    enqueue,
    ensure_local_tables,
    queue_summary,
    queued,
    read_local_state,
    set_local_seq,
    set_local_snapshot,
)
from forecast_hub.objectstore.client import ObjectStore, ObjectStoreError, Overtaken, Unreachable
from forecast_hub.objectstore.restore import (
    Restored,
    build_from_bucket,
    install_database,
    remote_change_seqs,
)
from forecast_hub.objectstore.sync_uploads import SyncUploads, Upload

if TYPE_CHECKING:
    from forecast_hub.objectstore.operations import PersistReport

log = logging.getLogger("forecast_hub.objectstore")

Mode = Literal["sync", "async"]
START_SECONDS = 20.0
# A snapshot when the change objects since the last one are many, or weigh a
# quarter of it: a cold start then reads at most about that many objects.
SNAPSHOT_MIN_CHANGES = 50
SNAPSHOT_MAX_CHANGES = 1000
SNAPSHOT_MIN_BYTES = 1 << 20
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class EditsPersistence:
    """One data folder's edits store, persisted to one bucket prefix."""

    def __init__(
        self,
        store: ObjectStore,
        path: Path,
        mode: Mode,
        every_writes: int = 10,
        every_seconds: float = 300.0,
        schema: HybridSchema = SCHEMA,
        uploads_in_flight: int = 1,
    ) -> None:
        self.store = store
        self.path = path
        self.mode: Mode = mode
        self.every_writes = every_writes
        self.every_seconds = every_seconds
        self.schema = schema
        self.uploads_in_flight = max(1, uploads_in_flight)
        """Sync: the most batches of one round (uploaded at once)."""
        self.writer = uuid.uuid4().hex
        self.fenced = False
        self.fenced_at: dt.datetime | None = None
        self.fenced_reason: str | None = None
        self.last_persisted_at: dt.datetime | None = None
        self.last_error: str | None = None
        self.uploads = 0
        self.failures = 0
        self.pending_writes = 0
        self.pending_since: dt.datetime | None = None
        self.seq = 0
        self.snapshot_seq = 0
        self.restored: Restored | None = None
        """What the start restored from the bucket, if it did."""
        self.voids: list[int] = []
        self._since_snapshot = (0, 0)
        self._snapshot_bytes = 0
        self._retry_at = 0.0
        self._backoff = BACKOFF_FIRST_SECONDS
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.request_reload: Callable[[], None] = lambda: None
        self.sync = SyncUploads(self)

    # -- start and stop --------------------------------------------------------------

    def prepare(self) -> None:
        """Before the store opens: make the local database what the bucket holds.

        Async durability first persists what a previous run left queued. Retries
        while the store is unreachable, then ObjectStoreError.
        """
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                self._prepare_once()
                return
            except Unreachable as error:
                if time.monotonic() > deadline:
                    raise ObjectStoreError(
                        f"the object store is unreachable, so the edits store cannot be"
                        f" restored: {error}"
                    ) from error
                time.sleep(0.5)

    def _prepare_once(self) -> None:
        local = self._local_database()
        if local is not None and self.mode == "async":
            self.persist_queue()
        snapshot = self.store.head(SNAPSHOT_NAME)
        if snapshot is None and not remote_change_seqs(self.store):
            if local is not None:  # a store from before the object store: it is the start
                self.snapshot()
            self._close_conn()
            self._load_counters()
            return
        self._close_conn()
        restored = build_from_bucket(self.store, self.path, self.schema)
        install_database(restored.path, self.path)
        self._adopt(restored)
        if restored.holes or restored.unreplayed:
            # A writer killed with uploads in flight: claim what never landed, void what
            # landed behind it, before this one writes anything.
            self.sync.unsettled = list(restored.holes)
            self.voids = list(restored.unreplayed)
            try:
                self.sync.settle(time.monotonic() + START_SECONDS)
            except StorageUnavailable as error:
                log.warning("%s; the first write settles it", error)

    def _local_database(self) -> sqlite3.Connection | None:
        if not self.path.exists():
            return None
        conn = self._connection()
        (tables,) = conn.execute(
            "select count(*) from sqlite_master where name = 'manual_edits_ht'"
        ).fetchone()
        return conn if tables else None

    def _adopt(self, restored: Restored) -> None:
        self.restored = restored
        self.seq = restored.seq
        self.snapshot_seq = restored.snapshot_seq
        self._snapshot_bytes = restored.snapshot_bytes
        self._since_snapshot = (restored.seq - restored.snapshot_seq, 0)

    def _load_counters(self) -> None:
        conn = self._connection()
        state = read_local_state(conn)
        self.seq, self.snapshot_seq = state.seq, state.snapshot_seq
        writes, oldest = queue_summary(conn)
        self.pending_writes = writes
        self.pending_since = _parse(oldest)

    def start(self, request_reload: Callable[[], None]) -> None:
        """Once the store is open: the background persister and snapshots."""
        self.request_reload = request_reload
        self._load_counters()
        self._thread = threading.Thread(target=self._run, name="edits-persister", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """The server stops (SIGTERM, SIGINT): persist what is queued, then a snapshot."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if not self.fenced:
            try:
                report = self.persist_now()
                log.info(report.one_line(self.store.url))
            except (ObjectStoreError, StorageUnavailable) as error:
                log.warning("could not persist the edits store on the way out: %s", error)
        self._close_conn()
        self.sync.close()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect_store(self.path)
            self._conn.execute("begin immediate")
            ensure_local_tables(self._conn, uuid.uuid4().hex)
            self._conn.execute("commit")
        return self._conn

    def _close_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the writer's hooks ------------------------------------------------------------

    def before_commit(self, conn: sqlite3.Connection, changes: ChangeSet, now: str) -> None:
        """Async, in the writer's open transaction: queue the batch's rows."""
        if self.fenced:
            raise Fenced(self.fenced_message())
        enqueue(conn, changes, now)

    def begin_upload(
        self, conn: sqlite3.Connection, changes: ChangeSet, on_done: Callable[[], None]
    ) -> Upload:
        """Sync, in the writer's open transaction: start the batch's upload, or raise.

        Not under ``_lock``: a snapshot holds it while it waits for the writer's
        transaction to end, so the writer must never wait for it inside one.
        """
        return self.sync.begin(conn, changes, on_done)

    def finish_uploads(self, uploads: list[Upload]) -> tuple[int, StorageUnavailable | None]:
        """Sync: how many of a round's batches, in order, are in the bucket; why not more."""
        acknowledged, failure = self.sync.finish(uploads)
        if self._snapshot_due():
            self._wake.set()
        return acknowledged, failure

    def after_commit(self, changes: ChangeSet) -> None:
        """Async: the batch is committed locally; it is answered when this returns."""
        self.pending_writes += changes.writes
        self.pending_since = self.pending_since or _now()
        if self.pending_writes >= self.every_writes and time.monotonic() >= self._retry_at:
            self._persist_logged()

    def rolled_back(self, uploads: list[Upload]) -> None:
        """Sync: a round's transaction was rolled back after its uploads finished."""
        errors = [upload.future.exception() for upload in uploads]
        self.sync.refuse(uploads, errors)

    def _wrote(self, seq: int, voids: tuple[int, ...], size: int) -> None:
        self.seq = max(self.seq, seq)
        self.voids = [v for v in self.voids if v not in voids]
        self.uploads += 1
        self.last_persisted_at = _now()
        self.last_error = None
        count, size_total = self._since_snapshot
        self._since_snapshot = (count + 1, size_total + size)

    # -- sync: numbers taken --------------------------------------------------------------

    def _taken(self, found: ChangeObject) -> None:
        """A number this process took without acknowledging what it holds."""
        self.seq = max(self.seq, found.seq)
        self.voids = [v for v in self.voids if v not in found.void]
        if not found.aborted and not found.changes.empty:
            self.voids.append(found.seq)

    def _read(self, seq: int) -> ChangeObject | None:
        stored = self.store.get(change_name(seq))
        return None if stored is None else ChangeObject.decode(stored.body)

    # -- async: the queue ------------------------------------------------------------------

    def persist_queue(self) -> tuple[int | None, int]:
        """Upload what is queued as one change object; its number and writes (None, 0: none)."""
        with self._lock, exclusive(self._lock_path()):
            conn = self._connection()
            state = read_local_state(conn)
            ids, merged = queued(conn)
            if not ids:
                return None, 0
            seq = state.seq + 1
            while True:
                change = ChangeObject(
                    seq,
                    self.writer,
                    state.origin,
                    uuid.uuid4().hex,
                    merged,
                    (),
                    False,
                    (ids[0], ids[-1]),
                )
                try:
                    self.store.put(change_name(seq), change.encode(), if_absent=True)
                    break
                except Overtaken:
                    found = self._read(seq)
                    if found is None:
                        continue
                    if found.origin != state.origin or found.queue_ids is None:
                        self._fence(f"change {seq} was written by another instance")
                        raise Fenced(self.fenced_message()) from None
                    # An earlier attempt of this folder landed: those rows are persisted.
                    self._dequeue(conn, found.queue_ids[1], seq)
                    ids, merged = queued(conn)
                    if not ids:
                        return seq, found.changes.writes
                    seq += 1
            self._dequeue(conn, ids[-1], seq)
            self._wrote(seq, (), len(change.encode()))
            return seq, merged.writes

    def _dequeue(self, conn: sqlite3.Connection, last_id: int, seq: int) -> None:
        conn.execute("begin immediate")
        dequeue(conn, last_id)
        set_local_seq(conn, seq)
        conn.execute("commit")
        self.seq = max(self.seq, seq)
        writes, oldest = queue_summary(conn)
        self.pending_writes, self.pending_since = writes, _parse(oldest)

    def _persist_logged(self) -> None:
        try:
            seq, writes = self.persist_queue()
        except Unreachable as error:
            self._failed(error)
            self._retry_at = time.monotonic() + self._backoff
            log.warning("persisting edits failed, retrying in %.1f s: %s", self._backoff, error)
            self._backoff = min(self._backoff * 2, BACKOFF_MAX_SECONDS)
            return
        except (ObjectStoreError, Fenced) as error:
            self._failed(error)
            return
        self._backoff = BACKOFF_FIRST_SECONDS
        self._retry_at = 0.0
        if seq is not None:
            log.debug("persisted change %d (%d writes)", seq, writes)
        if self._snapshot_due():
            self._wake.set()

    # -- snapshots --------------------------------------------------------------------------

    def _snapshot_due(self) -> bool:
        count, size = self._since_snapshot
        heavy = size >= self._snapshot_bytes // 4
        return count >= SNAPSHOT_MAX_CHANGES or (
            count > 0 and heavy and (count >= SNAPSHOT_MIN_CHANGES or size >= SNAPSHOT_MIN_BYTES)
        )

    def snapshot(self) -> tuple[int, int, int]:
        """Upload a snapshot; the change it covers, its bytes, the change objects removed."""
        started = time.perf_counter()
        with self._lock, exclusive(self._lock_path()):
            if self.fenced:
                raise Fenced(self.fenced_message())
            conn = self._connection()
            copy = self.path.with_name(self.path.name + ".snapshot")
            copy.unlink(missing_ok=True)
            target = sqlite3.connect(copy, isolation_level=None)
            try:
                conn.backup(target)
                target.execute("pragma journal_mode = delete")
                target.execute("delete from edits_unpersisted")
                covered = read_local_state(target)
            finally:
                target.close()
            body = copy.read_bytes()
            copy.unlink()
            etag = read_local_state(conn).snapshot_etag
            meta = {"seq": str(covered.seq)}
            try:
                if etag is None:
                    new = self.store.put(
                        SNAPSHOT_NAME, body, if_absent=True, metadata=meta, bulk=True
                    )
                else:
                    new = self.store.put(
                        SNAPSHOT_NAME, body, if_match=etag, metadata=meta, bulk=True
                    )
            except Overtaken:
                self._fence("the snapshot was replaced by another instance")
                raise Fenced(self.fenced_message()) from None
            conn.execute("begin immediate")
            set_local_snapshot(conn, covered.seq, new)
            conn.execute("commit")
        stale = [change_name(seq) for seq in remote_change_seqs(self.store) if seq <= covered.seq]
        self.store.delete(stale)
        self.snapshot_seq = covered.seq
        self._snapshot_bytes = len(body)
        self._since_snapshot = (max(0, self.seq - covered.seq), 0)
        self.uploads += 1
        self.last_persisted_at = _now()
        log.info(
            "edits snapshot of change %d: %.1f MB in %.2f s to %s; removed %d change objects",
            covered.seq,
            len(body) / 1e6,
            time.perf_counter() - started,
            self.store.where(SNAPSHOT_NAME),
            len(stale),
        )
        return covered.seq, len(body), len(stale)

    def persist_now(self) -> PersistReport:
        from forecast_hub.objectstore.operations import PersistReport

        """What `edits persist` and a stopping server do: the queue, then a snapshot."""
        seq, writes = self.persist_queue() if self.mode == "async" else (None, 0)
        snapshot_seq, size, removed = self.snapshot()
        return PersistReport(seq, writes, snapshot_seq, size, removed)

    def _lock_path(self) -> Path:
        return self.path.with_name("persist.lock")

    # -- the background thread -----------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(timeout=min(1.0, self.every_seconds / 4))
            self._wake.clear()
            if self._stopping or self.fenced:
                continue
            if self.mode == "async" and self.pending_writes and time.monotonic() >= self._retry_at:
                since = self.pending_since or _now()
                age = (_now() - since).total_seconds()
                if age >= self.every_seconds or self.pending_writes >= self.every_writes:
                    self._persist_logged()
            if self._snapshot_due():
                try:
                    self.snapshot()
                except (ObjectStoreError, Fenced) as error:
                    self._failed(error)

    # -- fencing and health ---------------------------------------------------------------

    def _failed(self, error: BaseException) -> None:
        self.failures += 1
        self.last_error = str(error)

    def _fence(self, reason: str) -> None:
        if self.fenced:
            return
        self.fenced = True
        self.fenced_at = _now()
        self.fenced_reason = reason
        log.warning("fenced: %s; no more writes here, reloading from %s", reason, self.store.url)
        self.request_reload()

    def fenced_message(self) -> str:
        return (
            f"this instance was overtaken ({self.fenced_reason}) and takes no more writes;"
            " send them to the instance that writes to the object store now"
        )

    def rebuild(self) -> Restored:
        """The bucket's edits store in a file beside ours (a fenced reload installs it)."""
        with self._lock:
            self._close_conn()
            return build_from_bucket(self.store, self.path, self.schema)

    def health(self) -> dict[str, Any]:
        last = self.last_persisted_at
        return {
            "mode": self.mode,
            "object_store": self.store.url,
            "fenced": self.fenced,
            "fenced_at": self.fenced_at,
            "fenced_reason": self.fenced_reason,
            "last_persisted_at": last,
            "seconds_since_last_persist": (
                round((_now() - last).total_seconds(), 3) if last else None
            ),
            "writes_pending": self.pending_writes,
            "pending_since": self.pending_since,
            "unsettled_change": self.sync.unsettled[0] if self.sync.unsettled else None,
            "change_seq": self.seq,
            "snapshot_seq": self.snapshot_seq,
            "uploads": self.uploads,
            "upload_failures": self.failures,
            "last_error": self.last_error,
        }


def _parse(stored: str | None) -> dt.datetime | None:
    from forecast_hub.hybrid.store import parse_timestamp

    return parse_timestamp(stored) if stored else None
