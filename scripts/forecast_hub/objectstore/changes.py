"""What the edits store writes, as rows, and the local bookkeeping of its persistence.

A ``ChangeSet`` holds the rows one group commit (or, in async durability,
several) wrote, in the shape the store's own statements take them, so
replaying one is running the same upserts again: an edit row or a
preference row carries its whole new value, a log row its id. Replaying a
change set twice, or one already contained in a snapshot, changes nothing.

A change object in the bucket is one change set, JSON, named by its
sequence number: ``edits/changes/000000000042.json``. Besides the rows it
carries who wrote it (``writer``, one id per running process, and
``origin``, one id per data folder) and ``void``: sequence numbers of
earlier objects of the same writer whose edits were never acknowledged
(their upload's answer was lost and they landed all the same), which a
replay skips. ``aborted`` marks an object written only to claim a number.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import orjson

CHANGES_PREFIX = "edits/changes/"
SNAPSHOT_NAME = "edits/snapshot.sqlite"
FORMAT = 1

UPSERT_EDIT = (
    "insert into manual_edits_ht (tenant_id, sku_id, forecast_date, manual_qty, reason,"
    " edited_by, edited_at, version, is_removed) values (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " on conflict (tenant_id, sku_id, forecast_date) do update set"
    " manual_qty = excluded.manual_qty, reason = excluded.reason,"
    " edited_by = excluded.edited_by, edited_at = excluded.edited_at,"
    " version = excluded.version, is_removed = excluded.is_removed"
)
INSERT_LOG = (
    "insert into manual_edit_log_ht (log_id, tenant_id, sku_id, forecast_date, action,"
    " old_qty, new_qty, reason, edited_by, edited_at, version)"
    " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
UPSERT_PREFS = (
    "insert into user_prefs_ht (tenant_id, user_id, show_manual, updated_at)"
    " values (?, ?, ?, ?) on conflict (tenant_id, user_id) do update set"
    " show_manual = excluded.show_manual, updated_at = excluded.updated_at"
)
_REPLAY_LOG = INSERT_LOG + " on conflict (log_id) do nothing"

STATE_TABLE = "edits_persistence"
QUEUE_TABLE = "edits_unpersisted"
_LOCAL_TABLES = (
    f"create table if not exists {STATE_TABLE} (id integer primary key check (id = 1),"
    " seq integer not null, snapshot_seq integer not null, snapshot_etag text,"
    " origin text not null)",
    f"create table if not exists {QUEUE_TABLE} (queue_id integer primary key autoincrement,"
    " writes integer not null, payload blob not null, committed_at text not null)",
)


@dataclass
class ChangeSet:
    """Rows written, in order: edit rows, log rows and preference rows."""

    edits: list[tuple[Any, ...]] = field(default_factory=list)
    log: list[tuple[Any, ...]] = field(default_factory=list)
    prefs: list[tuple[Any, ...]] = field(default_factory=list)
    writes: int = 0
    """Write requests that changed something (an edit request counts once)."""

    def mark(self) -> tuple[int, int, int, int]:
        return len(self.edits), len(self.log), len(self.prefs), self.writes

    def truncate(self, mark: tuple[int, int, int, int]) -> None:
        """Forget what was added since ``mark`` (a request rolled back to its savepoint)."""
        del self.edits[mark[0] :], self.log[mark[1] :], self.prefs[mark[2] :]
        self.writes = mark[3]

    def extend(self, other: ChangeSet) -> None:
        self.edits.extend(other.edits)
        self.log.extend(other.log)
        self.prefs.extend(other.prefs)
        self.writes += other.writes

    @property
    def empty(self) -> bool:
        return not (self.edits or self.log or self.prefs)

    def to_json(self) -> dict[str, Any]:
        return {"edits": self.edits, "log": self.log, "prefs": self.prefs, "writes": self.writes}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChangeSet:
        return cls(
            [tuple(row) for row in data.get("edits", [])],
            [tuple(row) for row in data.get("log", [])],
            [tuple(row) for row in data.get("prefs", [])],
            int(data.get("writes", 0)),
        )

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())

    def apply(self, conn: sqlite3.Connection) -> None:
        """Run the rows' upserts on ``conn`` (inside the caller's transaction)."""
        conn.executemany(UPSERT_EDIT, self.edits)
        conn.executemany(_REPLAY_LOG, self.log)
        conn.executemany(UPSERT_PREFS, self.prefs)


@dataclass(frozen=True)
class ChangeObject:
    """One change object of the bucket."""

    seq: int
    writer: str
    origin: str
    batch: str
    changes: ChangeSet
    void: tuple[int, ...] = ()
    aborted: bool = False
    queue_ids: tuple[int, int] | None = None
    """Async durability: the first and last local queue rows the object holds."""
    after: str | None = None
    """Sync durability: the batch its writer had at the number before (None: unknown).
    An object whose ``after`` is not what holds that number was uploaded behind one
    of its writer's that never landed: it was never acknowledged."""

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "format": FORMAT,
                "seq": self.seq,
                "writer": self.writer,
                "origin": self.origin,
                "batch": self.batch,
                "void": list(self.void),
                "aborted": self.aborted,
                "queue_ids": list(self.queue_ids) if self.queue_ids else None,
                "after": self.after,
                "changes": self.changes.to_json(),
            }
        )

    @classmethod
    def decode(cls, body: bytes) -> ChangeObject:
        data = orjson.loads(body)
        if data.get("format") != FORMAT:
            raise ValueError(f"change object of format {data.get('format')!r}, not {FORMAT}")
        queue_ids = data.get("queue_ids")
        return cls(
            seq=int(data["seq"]),
            writer=str(data["writer"]),
            origin=str(data["origin"]),
            batch=str(data["batch"]),
            changes=ChangeSet.from_json(data["changes"]),
            void=tuple(int(seq) for seq in data.get("void", [])),
            aborted=bool(data.get("aborted")),
            queue_ids=(int(queue_ids[0]), int(queue_ids[1])) if queue_ids else None,
            after=None if data.get("after") is None else str(data["after"]),
        )


def change_name(seq: int) -> str:
    return f"{CHANGES_PREFIX}{seq:012d}.json"


def change_seq(name: str) -> int | None:
    """The sequence number of a change object's name, None for anything else."""
    stem = name.removeprefix(CHANGES_PREFIX).removesuffix(".json")
    return int(stem) if stem.isdigit() and name.endswith(".json") else None


@dataclass(frozen=True)
class LocalState:
    seq: int
    """The newest change object this database reflects (0: none)."""
    snapshot_seq: int
    snapshot_etag: str | None
    origin: str


def ensure_local_tables(conn: sqlite3.Connection, origin: str) -> None:
    for statement in _LOCAL_TABLES:
        conn.execute(statement)
    conn.execute(
        f"insert into {STATE_TABLE} (id, seq, snapshot_seq, snapshot_etag, origin)"
        " values (1, 0, 0, null, ?) on conflict (id) do nothing",
        (origin,),
    )


def read_local_state(conn: sqlite3.Connection) -> LocalState:
    seq, snapshot_seq, etag, origin = conn.execute(
        f"select seq, snapshot_seq, snapshot_etag, origin from {STATE_TABLE}"
    ).fetchone()
    return LocalState(int(seq), int(snapshot_seq), etag, str(origin))


def set_local_seq(conn: sqlite3.Connection, seq: int) -> None:
    conn.execute(f"update {STATE_TABLE} set seq = ? where seq < ?", (seq, seq))


def set_local_snapshot(conn: sqlite3.Connection, seq: int, etag: str) -> None:
    conn.execute(f"update {STATE_TABLE} set snapshot_seq = ?, snapshot_etag = ?", (seq, etag))


def enqueue(conn: sqlite3.Connection, changes: ChangeSet, committed_at: str) -> None:
    """Async durability: keep a committed batch's rows until they are persisted."""
    conn.execute(
        f"insert into {QUEUE_TABLE} (writes, payload, committed_at) values (?, ?, ?)",
        (changes.writes, changes.encode(), committed_at),
    )


def queued(conn: sqlite3.Connection) -> tuple[list[int], ChangeSet]:
    """The queue's row ids and their change sets merged, oldest first."""
    ids: list[int] = []
    merged = ChangeSet()
    for queue_id, payload in conn.execute(
        f"select queue_id, payload from {QUEUE_TABLE} order by queue_id"
    ):
        ids.append(int(queue_id))
        merged.extend(ChangeSet.from_json(orjson.loads(payload)))
    return ids, merged


def queue_summary(conn: sqlite3.Connection) -> tuple[int, str | None]:
    """Writes not yet persisted and when the oldest of them was committed."""
    writes, oldest = conn.execute(
        f"select coalesce(sum(writes), 0), min(committed_at) from {QUEUE_TABLE}"
    ).fetchone()
    return int(writes), oldest


def dequeue(conn: sqlite3.Connection, last_id: int) -> None:
    conn.execute(f"delete from {QUEUE_TABLE} where queue_id <= ?", (last_id,))
