"""A cold start of the edits store: the newest snapshot, then every change after it.

The database is rebuilt in a file beside the store's and renamed over it only
when complete, so a start killed midway leaves the old file or the new one.
Change objects are fetched in parallel and applied in sequence order,
skipping the ones another object voids and the ones that only claimed a
number. A replay stops at the first missing number: sync durability
acknowledges a batch only once its object and every earlier one are in the
bucket, so an object after a gap (uploaded while an earlier one failed, the
process killed before it settled them) was never acknowledged. The next
writer fills the gaps and voids those objects (``Restored.holes`` and
``unreplayed``).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from forecast_hub.hybrid.migrate import migrate_sqlite
from forecast_hub.hybrid.tables import SCHEMA, HybridSchema
from forecast_hub.objectstore.changes import (
    CHANGES_PREFIX,
    QUEUE_TABLE,
    SNAPSHOT_NAME,
    STATE_TABLE,
    ChangeObject,
    change_name,
    change_seq,
    ensure_local_tables,
    set_local_seq,
    set_local_snapshot,
)
from forecast_hub.objectstore.client import ObjectStore, ObjectStoreError

log = logging.getLogger("forecast_hub.objectstore")
FETCH_THREADS = 16


class SnapshotMoved(ObjectStoreError):
    """A newer snapshot replaced the change objects while they were read: read again."""


@dataclass(frozen=True)
class Restored:
    path: Path
    seq: int
    snapshot_seq: int
    snapshot_bytes: int
    changes_applied: int
    seconds: float
    holes: tuple[int, ...] = ()
    """Numbers missing between the snapshot's and the newest object's."""
    unreplayed: tuple[int, ...] = ()
    """Objects after the first hole that change something: never acknowledged."""

    def one_line(self) -> str:
        return (
            f"restored the edits store to change {self.seq}: snapshot of change"
            f" {self.snapshot_seq} ({self.snapshot_bytes / 1e6:.1f} MB) and"
            f" {self.changes_applied} change objects in {self.seconds:.2f} s"
        )


def remote_change_seqs(store: ObjectStore) -> list[int]:
    return sorted(
        seq
        for seq in (change_seq(name) for name in store.list_names(CHANGES_PREFIX))
        if seq is not None
    )


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def install_database(built: Path, path: Path) -> None:
    """Put a database built beside ``path`` in its place (no connection may be open)."""
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(built, path)
    descriptor = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def build_from_bucket(store: ObjectStore, path: Path, schema: HybridSchema = SCHEMA) -> Restored:
    """Rebuild the edits database from the bucket into a file beside ``path``.

    Returns where it is; ``install_database`` puts it in place.
    """
    for attempt in range(3):
        try:
            return _build(store, path, schema)
        except SnapshotMoved:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _build(store: ObjectStore, path: Path, schema: HybridSchema) -> Restored:
    started = time.perf_counter()
    path.parent.mkdir(parents=True, exist_ok=True)
    built = path.with_name(path.name + ".restoring")
    remove_database(built)
    snapshot = store.get(SNAPSHOT_NAME, bulk=True)
    snapshot_seq = 0
    if snapshot is not None:
        built.write_bytes(snapshot.body)
        snapshot_seq = int(snapshot.metadata.get("seq", "0"))
    seqs = [seq for seq in remote_change_seqs(store) if seq > snapshot_seq]
    with ThreadPoolExecutor(FETCH_THREADS) as pool:
        bodies = list(pool.map(lambda seq: store.get(change_name(seq)), seqs))
    if any(body is None for body in bodies) or (seqs and seqs[0] != snapshot_seq + 1):
        now = store.head(SNAPSHOT_NAME)
        if any(body is None for body in bodies) or (now and now.etag) != (
            snapshot and snapshot.etag
        ):
            # A newer snapshot replaced the change objects between the reads.
            raise SnapshotMoved(f"{store.where(CHANGES_PREFIX)} changed while it was read")
    objects = [ChangeObject.decode(body.body) for body in bodies if body is not None]
    present = set(seqs)
    holes = tuple(
        seq for seq in range(snapshot_seq + 1, max(seqs, default=0)) if seq not in present
    )
    first_hole = holes[0] if holes else None
    voided = {seq for change in objects for seq in change.void}
    conn = sqlite3.connect(built, isolation_level=None)
    try:
        conn.execute("pragma journal_mode = delete")
        migrate_sqlite(conn, schema)
        conn.execute("begin immediate")
        ensure_local_tables(conn, uuid.uuid4().hex)
        conn.execute(f"delete from {QUEUE_TABLE}")
        # A snapshot carries its writer's origin; this folder gets its own.
        conn.execute(f"update {STATE_TABLE} set origin = ?, seq = 0", (uuid.uuid4().hex,))
        applied = 0
        unreplayed = []
        for change in objects:
            if change.seq in voided or change.aborted:
                continue
            if first_hole is not None and change.seq > first_hole:
                unreplayed.append(change.seq)
                continue
            change.changes.apply(conn)
            applied += 1
        set_local_seq(conn, max([snapshot_seq, *seqs]))
        if snapshot is not None:
            set_local_snapshot(conn, snapshot_seq, snapshot.etag)
        else:
            conn.execute(f"update {STATE_TABLE} set snapshot_seq = 0, snapshot_etag = null")
        conn.execute("commit")
        conn.execute("pragma journal_mode = wal")
    finally:
        conn.close()
    restored = Restored(
        built,
        max([snapshot_seq, *seqs]),
        snapshot_seq,
        len(snapshot.body) if snapshot else 0,
        applied,
        time.perf_counter() - started,
        holes,
        tuple(unreplayed),
    )
    if holes:
        log.warning(
            "change objects %s are missing: the %d after the first were never acknowledged"
            " and are not replayed",
            ", ".join(map(str, holes)),
            len(unreplayed),
        )
    log.info(restored.one_line())
    return restored
