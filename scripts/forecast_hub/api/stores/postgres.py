"""The edits store on PostgreSQL: ``FORECAST_HUB_EDITS_STORE=postgresql://...``.

The exit path for more than one API instance, or more writes than one
process serves: every API process writes the same three tables of schema
``planning`` (``hybrid/postgres.sql``: the same columns and primary keys as
every other backend), and reads them on every request, so an edit one
process acknowledged shows in the next read of any other. The draft still
comes from the published build on the API's disk; ``merge.py`` merges it
with the edits read here, as with the embedded store.

Writes go through the process's group commit (``writer.py``): two
statements per batch, each its own transaction, each one round trip. The
first reads the stored rows of the batch's keys; the batch is planned in
memory (``api/edit_plan.py``); the second is one statement with every write (a
version-guarded UPDATE of the rows read, an INSERT of new keys, the log rows
with ids from a sequence, the preferences), so the edits and their log
commit together or not at all. The batch travels as one JSON document per
statement. Each write's row count is checked inside the statement: a row
another process changed since it was read, or a new key it inserted
meanwhile, shows as fewer rows than planned and fails the statement as a
serialization failure; nothing of it is written, and the batch is planned
again, this time in one transaction that first locks its existing rows
(``select ... for update``, in key order), so a contended batch makes
progress. A statement returns once PostgreSQL has flushed its commit
(``synchronous_commit`` on), so an acknowledged edit survives a killed API,
a killed server and a power cut.

All of this backend's SQL is in this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import psycopg
import psycopg.errors
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from forecast_hub.api.edit_plan import (
    BatchPlan,
    EditWrite,
    LogRow,
    RowKey,
    keys_of,
    plan_batch,
)
from forecast_hub.api.edits import Job, LogEntry, StorageUnavailable, StoredEdit
from forecast_hub.api.stores import EditKey
from forecast_hub.api.stores.remote import RemoteStore
from forecast_hub.hybrid.tables import SCHEMA, TENANT_DEFAULTS_USER
from forecast_hub.postgres.hybrid import migrate_postgres

CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 10_000
POOL_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 15.0
POOL_MIN = 2
POOL_MAX = 8
COMMIT_ATTEMPTS = 8
# Batches committing at once per process: while one waits for its flush to
# disk, the next is planned and sent (PostgreSQL flushes both in one go).
WRITER_CONCURRENCY = 2
LOG_SEQUENCE = "planning.manual_edit_log_ht_log_id_seq"

# -- the SQL of this backend ---------------------------------------------------------

# Serialises the preparation of two processes starting at once.
_PREPARE_LOCK = "select pg_advisory_xact_lock(hashtext('forecast_hub.api.postgres'))"
_CREATE_SEQUENCE = f"create sequence if not exists {LOG_SEQUENCE} as bigint"
# The sequence starts past every log id already stored (rows copied in, or
# written before the sequence existed).
_ALIGN_SEQUENCE = (
    f"select setval('{LOG_SEQUENCE}', greatest("
    f" (select coalesce(max(log_id), 0) from planning.manual_edit_log_ht),"
    f" (select last_value from {LOG_SEQUENCE}), 1))"
)
_EDIT_COLUMNS = "manual_qty, reason, edited_by, edited_at, version, is_removed"
# A batch's keys and writes travel as one JSON document each (``_keys_document``,
# ``_write_document``): one cheap encoding instead of an array per column.
_BATCH_KEYS = (
    "json_to_recordset(%s::json) as batch (tenant_id varchar, sku_id varchar, forecast_date date)"
)
_READ_ROWS = (
    "select edits.tenant_id, edits.sku_id, edits.forecast_date, edits.manual_qty,"
    " edits.reason, edits.edited_by, edits.edited_at, edits.version, edits.is_removed"
    f" from planning.manual_edits_ht as edits inner join {_BATCH_KEYS}"
    " on edits.tenant_id = batch.tenant_id and edits.sku_id = batch.sku_id"
    " and edits.forecast_date = batch.forecast_date"
)
_LOCK_ROWS = (
    _READ_ROWS + " order by edits.tenant_id, edits.sku_id, edits.forecast_date for update of edits"
)
_ROW_COLUMNS = (
    "tenant_id varchar, sku_id varchar, forecast_date date, manual_qty float8, reason varchar,"
    " edited_by varchar, edited_at timestamp, version bigint, is_removed boolean"
)
# A guarded write that changed fewer rows than planned means another process
# wrote a key of the batch since it was read (a row changed or a new key
# inserted meanwhile): it fails the statement, and so the transaction, as a
# serialization failure, and the batch is planned again.
_CREATE_CHECK = """
create or replace function planning.forecast_hub_written(expected bigint, written bigint)
returns bigint language plpgsql as $$
begin
    if written <> expected then
        raise exception 'another process wrote a row of this batch since it was read'
            using errcode = 'serialization_failure';
    end if;
    return written;
end
$$
"""
# Every write of a batch in one statement, from one JSON document: the
# version-guarded UPDATE of the rows read, the INSERT of new keys, the log
# rows in batch order (ids from the sequence), the preferences; each write's
# count is checked against the length of its part of the document.
_WRITE_BATCH = (
    "with batch as (select %s::json as document),"
    " changed as ("
    " update planning.manual_edits_ht as edits set manual_qty = item.manual_qty,"
    " reason = item.reason, edited_by = item.edited_by, edited_at = item.edited_at,"
    " version = item.version, is_removed = item.is_removed"
    " from batch, json_to_recordset(batch.document -> 'changed')"
    f" as item ({_ROW_COLUMNS}, read_version bigint)"
    " where edits.tenant_id = item.tenant_id and edits.sku_id = item.sku_id"
    " and edits.forecast_date = item.forecast_date and edits.version = item.read_version"
    " returning 1),"
    " created as ("
    " insert into planning.manual_edits_ht (tenant_id, sku_id, forecast_date, "
    + _EDIT_COLUMNS
    + ") select item.* from batch,"
    f" json_to_recordset(batch.document -> 'new') as item ({_ROW_COLUMNS})"
    " on conflict do nothing returning 1),"
    " logged as ("
    " insert into planning.manual_edit_log_ht (log_id, tenant_id, sku_id, forecast_date,"
    " action, old_qty, new_qty, reason, edited_by, edited_at, version)"
    f" select nextval('{LOG_SEQUENCE}'), entry.tenant_id, entry.sku_id, entry.forecast_date,"
    " entry.action, entry.old_qty, entry.new_qty, entry.reason, entry.edited_by,"
    " entry.edited_at, entry.version from ("
    " select entry.* from batch, rows from (json_to_recordset(batch.document -> 'log')"
    " as (tenant_id varchar, sku_id varchar, forecast_date date, action varchar,"
    " old_qty float8, new_qty float8, reason varchar, edited_by varchar,"
    " edited_at timestamp, version bigint)) with ordinality"
    " as entry (tenant_id, sku_id, forecast_date, action, old_qty, new_qty, reason,"
    " edited_by, edited_at, version, position)"
    " order by entry.position) as entry returning 1),"
    " prefs as ("
    " insert into planning.user_prefs_ht (tenant_id, user_id, show_manual, updated_at)"
    " select item.* from batch, json_to_recordset(batch.document -> 'prefs')"
    " as item (tenant_id varchar, user_id varchar, show_manual boolean, updated_at timestamp)"
    " on conflict (tenant_id, user_id) do update set"
    " show_manual = excluded.show_manual, updated_at = excluded.updated_at returning 1)"
    " select planning.forecast_hub_written(json_array_length(document -> 'changed'),"
    " (select count(*) from changed))"
    " + planning.forecast_hub_written(json_array_length(document -> 'new'),"
    " (select count(*) from created))"
    " + planning.forecast_hub_written(json_array_length(document -> 'log'),"
    " (select count(*) from logged))"
    " + planning.forecast_hub_written(json_array_length(document -> 'prefs'),"
    " (select count(*) from prefs))"
    " from batch"
)
_SELECT_EDITS = (
    "select sku_id, forecast_date, " + _EDIT_COLUMNS + " from planning.manual_edits_ht"
    " where tenant_id = %s"
)
_SELECT_EDITS_IN = (
    _SELECT_EDITS + " and sku_id = any(%s::varchar[])"
    " and forecast_date between coalesce(%s::date, '-infinity'::date)"
    " and coalesce(%s::date, 'infinity'::date)"
)
_LATEST_EDIT = "select max(edited_at) from planning.manual_edits_ht where tenant_id = %s"
_SELECT_PREFS = (
    "select user_id, show_manual from planning.user_prefs_ht"
    " where tenant_id = %s and user_id in (%s, %s)"
)
_SELECT_LOG = (
    "select log_id, sku_id, forecast_date, action, old_qty, new_qty, reason, edited_by,"
    " edited_at, version from planning.manual_edit_log_ht"
    " where tenant_id = %s and edited_at >= coalesce(%s::timestamp, '-infinity'::timestamp)"
    " and log_id > %s order by log_id limit %s"
)
_PING = "select 1 from planning.manual_edits_ht limit 1"

# -----------------------------------------------------------------------------------

_RETRYABLE = (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _stored(row: Sequence[Any]) -> StoredEdit:
    qty, reason, edited_by, edited_at, version, is_removed = row
    return StoredEdit(qty, reason, edited_by, _aware(edited_at), int(version), bool(is_removed))


class PostgresEditsStore(RemoteStore):
    """The edits store of every API process sharing one PostgreSQL database."""

    request_timeout_s = REQUEST_TIMEOUT_S
    writer_concurrency = WRITER_CONCURRENCY

    def __init__(self, url: str, pool_max: int = POOL_MAX) -> None:
        super().__init__()
        self.url = url
        self._prepared = False
        self._pool = AsyncConnectionPool(
            url,
            min_size=POOL_MIN,
            max_size=pool_max,
            timeout=POOL_TIMEOUT_S,
            open=False,
            kwargs={
                "autocommit": True,
                "connect_timeout": CONNECT_TIMEOUT_S,
                "application_name": "forecast-hub-api",
                "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS} -c timezone=UTC",
            },
        )

    # -- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        """Start the pool and the writer; the tables are prepared on first reach."""
        await self._pool.open(wait=False)
        self._start_writer()
        # Not reachable yet: /healthz says so, requests answer 503 until it is.
        with contextlib.suppress(StorageUnavailable):
            await self._prepare()

    async def close(self) -> None:
        await self._stop_writer()
        await self._pool.close()

    async def reachable(self) -> bool:
        try:
            await self._prepare()
            await self._fetch(_PING, ())
        except StorageUnavailable:
            return False
        return True

    async def _prepare(self) -> None:
        """Migrate the planning tables forward and align the log sequence, once."""
        if self._prepared:
            return
        try:
            await asyncio.to_thread(self._prepare_now)
        except psycopg.Error as error:
            raise StorageUnavailable(f"PostgreSQL is not reachable: {_reason(error)}") from None
        self._prepared = True

    def _prepare_now(self) -> None:
        with (
            psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn,
            conn.transaction(),
        ):
            conn.execute(_PREPARE_LOCK)
            migrate_postgres(conn, SCHEMA)
            conn.execute(_CREATE_SEQUENCE)
            conn.execute(_ALIGN_SEQUENCE)
            conn.execute(_CREATE_CHECK)

    # -- writes ----------------------------------------------------------------------

    async def _commit(self, jobs: Sequence[Job], now: dt.datetime) -> BatchPlan:
        await self._prepare()
        for attempt in range(COMMIT_ATTEMPTS):
            try:
                async with self._pool.connection() as conn:
                    if attempt == 0:
                        return await self._write_unlocked(conn, jobs, now)
                    return await self._write_locked(conn, jobs, now)
            except _RETRYABLE:
                await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))
            except PoolTimeout:
                raise StorageUnavailable("PostgreSQL gave no connection in time") from None
            except psycopg.Error as error:
                raise StorageUnavailable(f"PostgreSQL could not commit: {_reason(error)}") from None
        raise StorageUnavailable("the edits were contended too often; try again")

    async def _write_unlocked(
        self, conn: psycopg.AsyncConnection[Any], jobs: Sequence[Job], now: dt.datetime
    ) -> BatchPlan:
        """Two statements, each its own transaction: read the batch's rows; write them.

        The write is version-guarded and checks its counts, so a row another
        process wrote in between fails it whole (a serialization failure) and
        the batch is planned again, then under row locks."""
        keys = keys_of(jobs)
        stored = await _read_rows(conn, _READ_ROWS, keys)
        plan = plan_batch(jobs, stored, now)
        await conn.execute(_WRITE_BATCH, (_write_document(plan, now),))
        return plan

    async def _write_locked(
        self, conn: psycopg.AsyncConnection[Any], jobs: Sequence[Job], now: dt.datetime
    ) -> BatchPlan:
        """One transaction: lock and read the batch's rows, then write them."""
        async with conn.transaction():
            stored = await _read_rows(conn, _LOCK_ROWS, keys_of(jobs))
            plan = plan_batch(jobs, stored, now)
            await conn.execute(_WRITE_BATCH, (_write_document(plan, now),))
        return plan

    # -- reads -----------------------------------------------------------------------

    async def _fetch(self, query: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        await self._prepare()
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(query, params)
                return await cursor.fetchall()
        except PoolTimeout:
            raise StorageUnavailable("PostgreSQL gave no connection in time") from None
        except psycopg.Error as error:
            raise StorageUnavailable(f"PostgreSQL could not answer: {_reason(error)}") from None

    async def _read_edits(
        self, tenant_id: str, query: str, params: Sequence[Any]
    ) -> Mapping[EditKey, StoredEdit]:
        """Edits of a tenant, and its latest edit time (any process's), in one round trip."""
        await self._prepare()
        try:
            async with self._pool.connection() as conn, conn.pipeline():
                latest_cursor = await conn.execute(_LATEST_EDIT, (tenant_id,))
                edits_cursor = await conn.execute(query, params)
                ((latest,),) = await latest_cursor.fetchall()
                rows = await edits_cursor.fetchall()
        except PoolTimeout:
            raise StorageUnavailable("PostgreSQL gave no connection in time") from None
        except psycopg.Error as error:
            raise StorageUnavailable(f"PostgreSQL could not answer: {_reason(error)}") from None
        if latest is not None:
            self.edits_as_of[tenant_id] = _aware(latest)
        return {(sku_id, date): _stored(rest) for sku_id, date, *rest in rows}

    async def tenant_edits(self, tenant_id: str) -> Mapping[EditKey, StoredEdit]:
        return await self._read_edits(tenant_id, _SELECT_EDITS, (tenant_id,))

    async def edits_in(
        self,
        tenant_id: str,
        sku_ids: Sequence[str],
        start: dt.date | None,
        end: dt.date | None,
    ) -> Mapping[EditKey, StoredEdit]:
        params = (tenant_id, list(sku_ids), start, end)
        return await self._read_edits(tenant_id, _SELECT_EDITS_IN, params)

    async def _prefs(self, tenant_id: str, user_id: str) -> dict[str, bool | None]:
        rows = await self._fetch(_SELECT_PREFS, (tenant_id, user_id, TENANT_DEFAULTS_USER))
        return {user: show for user, show in rows}

    async def read_log(
        self, tenant_id: str, since: dt.datetime | None, after: int, limit: int
    ) -> list[LogEntry]:
        moment = _naive_utc(since) if since else None
        rows = await self._fetch(_SELECT_LOG, (tenant_id, moment, after, limit))
        return [
            LogEntry(int(log_id), sku, date, action, old, new, reason, by, _aware(at), int(version))
            for log_id, sku, date, action, old, new, reason, by, at, version in rows
        ]


async def _read_rows(
    conn: psycopg.AsyncConnection[Any], query: str, keys: Sequence[RowKey]
) -> dict[RowKey, StoredEdit]:
    """The stored rows of the keys (locked, with ``_LOCK_ROWS``)."""
    if not keys:
        return {}
    document = [{"tenant_id": t, "sku_id": s, "forecast_date": d} for t, s, d in keys]
    cursor = await conn.execute(query, (_json(document),))
    return {(t, s, d): _stored(rest) for t, s, d, *rest in await cursor.fetchall()}


def _json(document: Any) -> str:
    """JSON for a ``%s::json`` parameter: dates as YYYY-MM-DD, naive times as UTC."""
    return orjson.dumps(document).decode()


def _edit_row(write: EditWrite) -> dict[str, Any]:
    tenant_id, sku_id, forecast_date = write.key
    edit = write.edit
    return {
        "tenant_id": tenant_id,
        "sku_id": sku_id,
        "forecast_date": forecast_date,
        "manual_qty": edit.manual_qty,
        "reason": edit.reason,
        "edited_by": edit.edited_by,
        "edited_at": _naive_utc(edit.edited_at),
        "version": edit.version,
        "is_removed": edit.is_removed,
        "read_version": write.read_version,
    }


def _log_row(row: LogRow) -> dict[str, Any]:
    tenant_id, sku_id, forecast_date = row.key
    return {
        "tenant_id": tenant_id,
        "sku_id": sku_id,
        "forecast_date": forecast_date,
        "action": row.action,
        "old_qty": row.old_qty,
        "new_qty": row.new_qty,
        "reason": row.reason,
        "edited_by": row.edited_by,
        "edited_at": _naive_utc(row.edited_at),
        "version": row.version,
    }


def _write_document(plan: BatchPlan, now: dt.datetime) -> str:
    """The JSON ``_WRITE_BATCH`` binds: rows read (guarded) and new, the log, preferences."""
    changed: list[dict[str, Any]] = []
    new: list[dict[str, Any]] = []
    for write in plan.edits.values():
        (new if write.read_version is None else changed).append(_edit_row(write))
    updated_at = _naive_utc(now)
    prefs = [
        {"tenant_id": t, "user_id": u, "show_manual": show, "updated_at": updated_at}
        for (t, u), show in plan.prefs.items()
    ]
    log = [_log_row(row) for row in plan.log]
    return _json({"changed": changed, "new": new, "log": log, "prefs": prefs})


def _reason(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
