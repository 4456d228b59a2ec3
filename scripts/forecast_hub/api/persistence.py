"""What the embedded edits store expects of its persistence, and its errors.

``edits.py`` hands every batch to a ``Persistence`` when there is one; the
object-storage implementation is ``forecast_hub.objectstore.persistence``.
Without one the store is today's: durable on local disk alone.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from forecast_hub.hybrid.store import connect_store
from forecast_hub.objectstore.changes import ChangeSet
from forecast_hub.objectstore.restore import Restored, install_database

if TYPE_CHECKING:
    from forecast_hub.api.edits import EditsStore

log = logging.getLogger("forecast_hub.api")


class StorageUnavailable(Exception):
    """The store could not commit; nothing of the request was applied."""


class Fenced(StorageUnavailable):
    """Another instance writes to the object store now: this one takes no more writes."""


class Persistence(Protocol):
    """Where the store's batches go besides SQLite."""

    @property
    def fenced(self) -> bool:
        """Overtaken by another instance: no more writes."""

    @property
    def mode(self) -> str:
        """The durability: sync or async."""

    @property
    def uploads_in_flight(self) -> int:
        """Sync: the most batches uploaded at once."""

    def prepare(self) -> None:
        """Before the store opens its connections: bring the database up to date."""

    def start(self, request_reload: Callable[[], None]) -> None:
        """Once the store is open; ``request_reload`` asks the writer to reload."""

    def before_commit(self, conn: sqlite3.Connection, changes: ChangeSet, now: str) -> None:
        """Async, inside the batch's transaction; raises StorageUnavailable to refuse it."""

    def after_commit(self, changes: ChangeSet) -> None:
        """Async: the batch is committed; it is answered once this returns."""

    def begin_upload(
        self, conn: sqlite3.Connection, changes: ChangeSet, on_done: Callable[[], None]
    ) -> Any:
        """Sync, inside the batch's transaction: start its upload (``on_done`` is called
        from another thread when it ends); raises StorageUnavailable to refuse it."""

    def finish_uploads(self, uploads: list[Any]) -> tuple[int, StorageUnavailable | None]:
        """Sync: wait for the uploads of a round; how many of them, in order, are
        acknowledged, and the error the others get."""

    def rolled_back(self, uploads: list[Any]) -> None:
        """Sync: the round's transaction was rolled back after its uploads finished."""

    def rebuild(self) -> Restored:
        """A fresh database from the object store, beside the store's."""

    def close(self) -> None:
        """The writer has stopped."""

    def health(self) -> dict[str, Any]:
        """What /healthz shows of persistence."""


def reload_from_object_store(store: EditsStore) -> None:
    """In the writer thread, its connection closed: swap in the object store's database.

    The new database is built and its cache loaded first; the swap itself runs
    on the event loop in one callback, so no request sees half of it.
    """
    from forecast_hub.api.edits import load_cache

    assert store.persistence is not None and store._loop is not None
    try:
        restored = store.persistence.rebuild()
    except Exception as error:
        log.warning("could not reload the edits store from the object store: %s", error)
        return
    with contextlib.closing(connect_store(restored.path)) as built:
        loaded = load_cache(built)
    swapped = threading.Event()

    def swap() -> None:
        try:
            store.close_reader()
            install_database(restored.path, store.path)
            store.open_reader()
            store.cache = loaded
        finally:
            swapped.set()

    store._loop.call_soon_threadsafe(swap)
    swapped.wait(timeout=30)
    log.info("reloaded the edits store from the object store (change %d)", restored.seq)
