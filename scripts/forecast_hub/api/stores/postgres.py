"""The edits store on PostgreSQL: ``FORECAST_HUB_EDITS_STORE=postgresql://...``.

The exit path for more than one API instance, or more writes than one
process serves: every API process writes the same three tables of schema
``planning`` (``hybrid/postgres.sql``: the same columns and primary keys as
every other backend), and reads them on every request, so an edit one
process acknowledged shows in the next read of any other. The draft still
comes from the published build on the API's disk; ``merge.py`` merges it
with the edits read here, as with the embedded store.

Writes go through the process's group commit (``writer.py``): one
transaction per batch, in two round trips. The first begins it and takes
row locks on every existing key of the batch (``select ... for update``, in
key order); the batch is planned in memory (``batch.py``); the second sends
one statement with every write (a version-guarded UPDATE of the rows read,
an INSERT of new keys, the log rows with ids from a sequence, the
preferences) and the commit. Each write's row count is checked inside the
statement: a concurrent insert of the same new key by another process shows
as fewer rows than planned, fails the transaction as a serialization
failure, and the batch is planned again over the rows as they now are. The
commit returns once PostgreSQL has flushed it (``synchronous_commit`` on),
so an acknowledged edit survives a killed API, a killed server and a power
cut.

All of this backend's SQL is in this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
import psycopg.errors
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from forecast_hub.api.edits import Job, LogEntry, StorageUnavailable, StoredEdit
from forecast_hub.api.stores import EditKey
from forecast_hub.api.stores.batch import BatchPlan, LogRow, RowKey, keys_of, plan_batch
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
_LOCK_ROWS = (
    "select edits.tenant_id, edits.sku_id, edits.forecast_date, edits.manual_qty,"
    " edits.reason, edits.edited_by, edits.edited_at, edits.version, edits.is_removed"
    " from planning.manual_edits_ht as edits"
    " inner join unnest(%s::varchar[], %s::varchar[], %s::date[])"
    "     as batch (tenant_id, sku_id, forecast_date)"
    "     on edits.tenant_id = batch.tenant_id and edits.sku_id = batch.sku_id"
    "     and edits.forecast_date = batch.forecast_date"
    " order by edits.tenant_id, edits.sku_id, edits.forecast_date"
    " for update of edits"
)
_ROW_ARRAYS = (
    "%s::varchar[], %s::varchar[], %s::date[], %s::float8[], %s::varchar[],"
    " %s::varchar[], %s::timestamp[], %s::bigint[], %s::boolean[]"
)
# A guarded write that changed fewer rows than planned means another process
# wrote a key of the batch since it was read (a new key inserted meanwhile):
# it fails the statement, and so the transaction, as a serialization failure,
# and the batch is planned again.
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
# Every write of a batch in one statement: the version-guarded UPDATE of the
# rows read (and locked), the INSERT of new keys, the log rows in batch order
# (ids from the sequence), the preferences; each write's count is checked.
_WRITE_BATCH = (
    "with changed as ("
    " update planning.manual_edits_ht as edits set manual_qty = batch.manual_qty,"
    " reason = batch.reason, edited_by = batch.edited_by, edited_at = batch.edited_at,"
    " version = batch.version, is_removed = batch.is_removed"
    f" from unnest({_ROW_ARRAYS}, %s::bigint[]) as batch (tenant_id, sku_id, forecast_date,"
    " manual_qty, reason, edited_by, edited_at, version, is_removed, read_version)"
    " where edits.tenant_id = batch.tenant_id and edits.sku_id = batch.sku_id"
    " and edits.forecast_date = batch.forecast_date and edits.version = batch.read_version"
    " returning 1),"
    " created as ("
    " insert into planning.manual_edits_ht (tenant_id, sku_id, forecast_date, "
    + _EDIT_COLUMNS
    + f") select * from unnest({_ROW_ARRAYS}) on conflict do nothing returning 1),"
    " logged as ("
    " insert into planning.manual_edit_log_ht (log_id, tenant_id, sku_id, forecast_date,"
    " action, old_qty, new_qty, reason, edited_by, edited_at, version)"
    f" select nextval('{LOG_SEQUENCE}'), entry.tenant_id, entry.sku_id, entry.forecast_date,"
    " entry.action, entry.old_qty, entry.new_qty, entry.reason, entry.edited_by,"
    " entry.edited_at, entry.version from ("
    " select * from unnest(%s::varchar[], %s::varchar[], %s::date[], %s::varchar[],"
    " %s::float8[], %s::float8[], %s::varchar[], %s::varchar[], %s::timestamp[],"
    " %s::bigint[]) with ordinality as entry (tenant_id, sku_id, forecast_date, action,"
    " old_qty, new_qty, reason, edited_by, edited_at, version, position)"
    " order by entry.position) as entry returning 1),"
    " prefs as ("
    " insert into planning.user_prefs_ht (tenant_id, user_id, show_manual, updated_at)"
    " select * from unnest(%s::varchar[], %s::varchar[], %s::boolean[], %s::timestamp[])"
    " on conflict (tenant_id, user_id) do update set"
    " show_manual = excluded.show_manual, updated_at = excluded.updated_at returning 1)"
    " select planning.forecast_hub_written(%s, (select count(*) from changed))"
    " + planning.forecast_hub_written(%s, (select count(*) from created))"
    " + planning.forecast_hub_written(%s, (select count(*) from logged))"
    " + planning.forecast_hub_written(%s, (select count(*) from prefs))"
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


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows as one list per column: the arrays ``unnest`` takes."""
    return [[row[index] for row in rows] for index in range(width)]


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
                    return await self._write_batch(conn, jobs, now)
            except _RETRYABLE:
                await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))
            except PoolTimeout:
                raise StorageUnavailable("PostgreSQL gave no connection in time") from None
            except psycopg.Error as error:
                raise StorageUnavailable(f"PostgreSQL could not commit: {_reason(error)}") from None
        raise StorageUnavailable("the edits were contended too often; try again")

    async def _write_batch(
        self, conn: psycopg.AsyncConnection[Any], jobs: Sequence[Job], now: dt.datetime
    ) -> BatchPlan:
        """Two round trips: begin and lock the batch's rows; write them and commit."""
        keys = keys_of(jobs)
        stored: dict[RowKey, StoredEdit] = {}
        async with conn.pipeline(), conn.transaction():
            if keys:
                cursor = await conn.execute(_LOCK_ROWS, _columns(keys, 3))
                for tenant_id, sku_id, date, *rest in await cursor.fetchall():
                    stored[(tenant_id, sku_id, date)] = _stored(rest)
            plan = plan_batch(jobs, stored, now)
            await conn.execute(_WRITE_BATCH, _write_parameters(plan, now))
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


def _written(row: LogRow) -> tuple[dt.datetime, int]:
    return (_naive_utc(row.edited_at), row.version)


def _write_parameters(plan: BatchPlan, now: dt.datetime) -> list[Any]:
    """The arrays ``_WRITE_BATCH`` binds, then the count each write must reach."""
    new, changed = [], []
    for write in plan.edits.values():
        edit = write.edit
        row = (
            *write.key,
            edit.manual_qty,
            edit.reason,
            edit.edited_by,
            _naive_utc(edit.edited_at),
            edit.version,
            edit.is_removed,
        )
        if write.read_version is None:
            new.append(row)
        else:
            changed.append((*row, write.read_version))
    log = [
        (*r.key, r.action, r.old_qty, r.new_qty, r.reason, r.edited_by, *_written(r))
        for r in plan.log
    ]
    prefs = [(t, u, show, _naive_utc(now)) for (t, u), show in plan.prefs.items()]
    return [
        *_columns(changed, 10),
        *_columns(new, 9),
        *_columns(log, 10),
        *_columns(prefs, 4),
        len(changed),
        len(new),
        len(log),
        len(prefs),
    ]


def _reason(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__
