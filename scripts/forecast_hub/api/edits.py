"""The edits store as the API uses it: durable group commit and a live cache.

One writer thread owns the SQLite write connection. Requests queue their
changes; the writer takes every change waiting, applies them in one
transaction (the edit, its new version and its log row together, each
request all or nothing inside a savepoint) and commits once, so one fsync
acknowledges many edits. Only after the commit returns are the changes put
into the in-memory cache, on the event loop's thread, together with the
answers: a read that starts after an acknowledgement sees the edit, and a
read never sees half of a request.

With a ``Persistence`` (an object store, ``forecast_hub.objectstore``), each
batch's rows are handed to it inside the transaction, before the commit: in
sync durability it uploads them there, and a batch it cannot make durable
is rolled back and refused, so it is neither visible nor stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import queue
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from forecast_hub.api.edit_jobs import Applied as Applied
from forecast_hub.api.edit_jobs import Conflict as Conflict
from forecast_hub.api.edit_jobs import EditRequest as EditRequest
from forecast_hub.api.edit_jobs import Job as Job
from forecast_hub.api.edit_jobs import LogEntry as LogEntry
from forecast_hub.api.edit_jobs import NothingToRemove as NothingToRemove
from forecast_hub.api.edit_jobs import PrefsSaved as PrefsSaved
from forecast_hub.api.edit_jobs import PutEdits as PutEdits
from forecast_hub.api.edit_jobs import Removed as Removed
from forecast_hub.api.edit_jobs import RemoveEdit as RemoveEdit
from forecast_hub.api.edit_jobs import Result as Result
from forecast_hub.api.edit_jobs import SetPrefs as SetPrefs
from forecast_hub.api.edit_jobs import StoredEdit as StoredEdit
from forecast_hub.api.edits_cache import EditsCache, UnloadedTenant, open_cache, read_tenant
from forecast_hub.api.edits_cache import load_cache as load_cache
from forecast_hub.api.edits_writer import RELOAD, STOP, Changes, GroupCommit
from forecast_hub.api.persistence import Fenced as Fenced
from forecast_hub.api.persistence import Persistence, reload_from_object_store
from forecast_hub.api.persistence import StorageUnavailable as StorageUnavailable
from forecast_hub.hybrid.migrate import migrate_sqlite
from forecast_hub.hybrid.store import connect_store, format_timestamp, parse_timestamp
from forecast_hub.hybrid.tables import SCHEMA, TENANT_DEFAULTS_USER, HybridSchema


class EditsStore:
    """Edits, preferences and the log: written by one thread, read from memory."""

    def __init__(
        self, path: Path, schema: HybridSchema = SCHEMA, persistence: Persistence | None = None
    ) -> None:
        self.path = path
        self.schema = schema
        self.persistence = persistence
        self.cache = EditsCache()
        self.opened_at = dt.datetime.now(dt.UTC)
        self.last_commit_at: dt.datetime | None = None
        self.pending = 0
        self.failure: BaseException | None = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader: sqlite3.Connection | None = None

    # -- lifecycle -----------------------------------------------------------------

    def open(self) -> None:
        """Restore from the object store if there is one, migrate the store forward, load
        the cache and start the writer (on the loop)."""
        self._loop = asyncio.get_running_loop()
        if self.persistence is not None:
            self.persistence.prepare()
        writer = self._connect()
        migrate_sqlite(writer, self.schema)
        self._reader = self._connect()
        self.cache = open_cache(self._reader)
        self._start_loader(self.cache)
        if self.persistence is not None:
            self.persistence.start(lambda: self._queue.put(RELOAD))
        self._thread = threading.Thread(
            target=self._run, args=(writer,), name="edits-writer", daemon=True
        )
        self._thread.start()

    def _start_loader(self, cache: EditsCache) -> None:
        """Read each unloaded tenant in a thread of its own; the loop installs them."""
        tenants = sorted(cache.unloaded)
        loop = self._loop
        assert loop is not None

        def load() -> None:
            with contextlib.closing(self._connect()) as conn:
                for tenant_id in tenants:
                    if self.cache is not cache:  # reloaded meanwhile
                        return
                    read = read_tenant(conn, tenant_id)
                    loop.call_soon_threadsafe(cache.install, tenant_id, read)

        if tenants:
            threading.Thread(target=load, name="edits-cache-loader", daemon=True).start()

    @property
    def edits_as_of(self) -> dict[str, dt.datetime]:
        return self.cache.edits_as_of

    @property
    def prefs(self) -> dict[tuple[str, str], bool | None]:
        return self.cache.prefs

    @property
    def edits(self) -> dict[str, dict[tuple[str, dt.date], StoredEdit]]:
        """The tenants whose edits are in memory."""
        return self.cache.edits

    def _connect(self) -> sqlite3.Connection:
        conn = connect_store(self.path)
        if self.persistence is not None and self.persistence.mode == "sync":
            # Durable once in the bucket: a commit lost here is restored from there.
            conn.execute("pragma synchronous = normal")
        return conn

    def close(self) -> None:
        """Finish every queued change, stop the writer, then persist what it left."""
        if self._thread is not None:
            self._queue.put(STOP)
            self._thread.join()
            self._thread = None
        if self.persistence is not None:
            self.persistence.close()
        self.close_reader()

    def open_reader(self) -> None:
        self._reader = self._connect()

    def close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    @property
    def fenced(self) -> bool:
        return self.persistence is not None and self.persistence.fenced

    @property
    def writer_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self.failure is None

    def reachable(self) -> bool:
        try:
            assert self._reader is not None
            self._reader.execute("select 1 from manual_edits_ht limit 1").fetchall()
        except (sqlite3.Error, AssertionError):
            return False
        return True

    # -- writes ----------------------------------------------------------------------

    async def submit(self, job: Job) -> Result:
        """Queue a change and wait until it is committed (or refused)."""
        if self.persistence is not None and self.persistence.fenced:
            raise Fenced("this instance was overtaken by another on the object store")
        if not self.writer_alive:
            raise StorageUnavailable("the edits store's writer is not running")
        assert self._loop is not None
        future: asyncio.Future[Result] = self._loop.create_future()
        self.pending += 1
        try:
            self._queue.put((job, future))
            return await future
        finally:
            self.pending -= 1

    def _run(self, conn: sqlite3.Connection) -> None:
        try:
            GroupCommit(self, conn).serve()
        except BaseException as error:
            self.failure = error
            self._fail_queued(StorageUnavailable(f"the edits store's writer stopped: {error}"))
            raise
        finally:
            conn.close()

    def _fail_queued(self, failure: StorageUnavailable) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not STOP and item is not RELOAD:
                self._hand_back([(item[1], failure, Changes())], None)

    def _reload(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """Fenced: the database and the cache become what the object store holds."""
        conn.close()
        reload_from_object_store(self)
        return self._connect()

    def _hand_back(
        self,
        outcomes: list[tuple[asyncio.Future[Result], Result | BaseException, Changes]],
        committed_at: dt.datetime | None,
    ) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(functools.partial(self._publish, outcomes, committed_at))

    def _publish(
        self,
        outcomes: list[tuple[asyncio.Future[Result], Result | BaseException, Changes]],
        committed_at: dt.datetime | None,
    ) -> None:
        """On the loop: update the cache for the whole batch, then answer every request."""
        cache = self.cache
        for _, _, changes in outcomes:
            for tenant_id, sku_id, date, stored in changes.edits:
                cache.put(tenant_id, (sku_id, date), stored)
            for tenant_id, user_id, show_manual in changes.prefs:
                cache.prefs[(tenant_id, user_id)] = show_manual
        if committed_at is not None:
            self.last_commit_at = committed_at
        for future, outcome, _ in outcomes:
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    # -- reads -----------------------------------------------------------------------

    def tenant_edits(self, tenant_id: str) -> Mapping[tuple[str, dt.date], StoredEdit]:
        """Every stored edit of a tenant: from memory, or until the tenant is loaded, a
        view that looks each edit up in SQLite (and loads the tenant to list them)."""
        cache = self.cache
        if tenant_id in cache.unloaded:
            assert self._reader is not None
            return UnloadedTenant(cache, self._reader, tenant_id)
        return cache.edits.get(tenant_id, {})

    def stored_show_manual(self, tenant_id: str, user_id: str) -> bool | None:
        return self.cache.prefs.get((tenant_id, user_id))

    def tenant_show_manual(self, tenant_id: str) -> bool:
        default = self.cache.prefs.get((tenant_id, TENANT_DEFAULTS_USER))
        return True if default is None else default

    def show_manual(self, tenant_id: str, user_id: str) -> bool:
        """The user's stored preference, over the tenant's default, over true."""
        stored = self.stored_show_manual(tenant_id, user_id)
        return self.tenant_show_manual(tenant_id) if stored is None else stored

    def read_log(
        self, tenant_id: str, since: dt.datetime | None, after: int, limit: int
    ) -> list[LogEntry]:
        assert self._reader is not None
        rows = self._reader.execute(
            "select log_id, sku_id, forecast_date, action, old_qty, new_qty, reason,"
            " edited_by, edited_at, version from manual_edit_log_ht"
            " where tenant_id = ? and edited_at >= ? and log_id > ?"
            " order by log_id limit ?",
            (tenant_id, format_timestamp(since) if since else "", after, limit),
        ).fetchall()
        return [_log_entry(row) for row in rows]


def _log_entry(row: tuple[Any, ...]) -> LogEntry:
    log_id, sku_id, date, action, old_qty, new_qty, reason, edited_by, edited_at, version = row
    return LogEntry(
        log_id,
        sku_id,
        dt.date.fromisoformat(date),
        action,
        old_qty,
        new_qty,
        reason,
        edited_by,
        parse_timestamp(edited_at),
        version,
    )
