"""The ingestion manifest: which bronze bytes were ingested, and what became of them.

A file is recorded last, after its silver and quarantine files are published,
in one SQLite transaction. A run that dies before that leaves no record, so the
next run ingests the file again and overwrites the same output paths: the end
state is that of one clean run. Landing reads only recorded files.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
create table if not exists ingested_files (
    file_seq integer primary key,
    tenant_id text not null,
    feed text not null,
    path text not null,
    size_bytes integer not null,
    mtime_ns integer not null,
    sha256 text not null,
    status text not null check (status in ('ingested', 'rejected', 'duplicate')),
    reason_code text,
    reason text,
    rows_in integer,
    rows_silver integer,
    rows_quarantined integer,
    silver_files text not null default '[]',
    quarantine_file text,
    run_id text not null,
    ingested_at text not null
);
create index if not exists ingested_files_by_content
    on ingested_files (tenant_id, feed, sha256);
create index if not exists ingested_files_by_path on ingested_files (path);
"""


@dataclass(frozen=True)
class ManifestEntry:
    file_seq: int
    tenant_id: str
    feed: str
    path: str
    size_bytes: int
    mtime_ns: int
    sha256: str
    status: str
    reason_code: str | None
    reason: str | None
    rows_in: int | None
    rows_silver: int | None
    rows_quarantined: int | None
    silver_files: tuple[str, ...]
    quarantine_file: str | None
    run_id: str
    ingested_at: str


class Manifest:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("pragma journal_mode = wal")
        self._db.execute("pragma synchronous = full")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("begin immediate")
        try:
            yield self._db
        except BaseException:
            self._db.execute("rollback")
            raise
        self._db.execute("commit")

    def next_file_seq(self) -> int:
        (value,) = self._db.execute(
            "select coalesce(max(file_seq), 0) + 1 from ingested_files"
        ).fetchone()
        return int(value)

    def seen_unchanged(self, path: str, size_bytes: int, mtime_ns: int) -> bool:
        """True when this path was recorded with the same size and modification time."""
        row = self._db.execute(
            "select 1 from ingested_files where path = ? and size_bytes = ? and mtime_ns = ?",
            (path, size_bytes, mtime_ns),
        ).fetchone()
        return row is not None

    def has_size(self, tenant_id: str, feed: str, size_bytes: int) -> bool:
        """True when bytes of this size were recorded for this tenant and feed."""
        row = self._db.execute(
            "select 1 from ingested_files where tenant_id = ? and feed = ? and size_bytes = ? "
            "limit 1",
            (tenant_id, feed, size_bytes),
        ).fetchone()
        return row is not None

    def find_content(self, tenant_id: str, feed: str, sha256: str) -> ManifestEntry | None:
        """The first record of these bytes for this tenant and feed, if any."""
        row = self._db.execute(
            "select * from ingested_files where tenant_id = ? and feed = ? and sha256 = ? "
            "and status != 'duplicate' order by file_seq limit 1",
            (tenant_id, feed, sha256),
        ).fetchone()
        return self._entry(row) if row else None

    def record(self, entry: ManifestEntry) -> None:
        with self._transaction() as db:
            db.execute(
                "insert into ingested_files values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.file_seq,
                    entry.tenant_id,
                    entry.feed,
                    entry.path,
                    entry.size_bytes,
                    entry.mtime_ns,
                    entry.sha256,
                    entry.status,
                    entry.reason_code,
                    entry.reason,
                    entry.rows_in,
                    entry.rows_silver,
                    entry.rows_quarantined,
                    json.dumps(list(entry.silver_files)),
                    entry.quarantine_file,
                    entry.run_id,
                    entry.ingested_at,
                ),
            )

    def entries(self, status: str | None = None) -> list[ManifestEntry]:
        query = "select * from ingested_files"
        params: tuple[str, ...] = ()
        if status is not None:
            query += " where status = ?"
            params = (status,)
        rows = self._db.execute(query + " order by file_seq", params).fetchall()
        return [self._entry(row) for row in rows]

    @staticmethod
    def _entry(row: tuple[Any, ...]) -> ManifestEntry:
        values = list(row)
        values[13] = tuple(json.loads(values[13]))
        return ManifestEntry(*values)
