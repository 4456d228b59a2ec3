"""The warehouse backend: `serve --target emulator|snowflake`.

Reads answer from ``serving.v_forecast``, the view dbt builds over the
draft and the planning tables, so an acknowledged edit shows in the next
read of any API process; writes go to the planning tables (hybrid tables on
an account, standard tables with the same primary keys on the emulator).
Nothing is held on the API's disk.

Every statement is one of the constants below, chosen by which parameters a
request has, never built from what it says: values are bound server-side
(``qmark``), lists travel as one bound JSON array read with
``flatten(parse_json(?))``, and the principal's tenant is bound into every
statement. On an account the row access policy of
``snowflake/tenant_isolation.sql`` filters the API role's reads too.

Writes go through the process's group commit (``writer.py``). One
transaction per batch reads the stored rows of its keys, plans the batch in
memory (``api/edit_plan.py``) and writes it with a version-guarded UPDATE (``where
version = <the version read>``) and an INSERT of keys that do not exist; an
UPDATE or INSERT that changes fewer rows than planned means another process
wrote a key since it was read: the transaction is rolled back and the batch
planned again. Log ids are the table's highest plus the row's position,
unique by the primary key (a hybrid table enforces it; two processes that
collide retry).

All of this backend's SQL is in this module; the read path is
``warehouse.py``, the planning page's reads ``warehouse_page.py``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from forecast_hub.api.edit_plan import BatchPlan, RowKey, keys_of, plan_batch
from forecast_hub.api.edits import Job, LogEntry, StorageUnavailable, StoredEdit
from forecast_hub.api.stores import Backend, EditKey
from forecast_hub.api.stores.remote import RemoteStore
from forecast_hub.hybrid.tables import TENANT_DEFAULTS_USER
from forecast_hub.snowflake.pool import SnowflakePool, WarehouseUnavailable
from forecast_hub.snowflake.settings import SnowflakeSettings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection
    from snowflake.connector.cursor import SnowflakeCursor

REQUEST_TIMEOUT_S = 30.0
# A read that has not answered by then gets 503: the connector's own retries
# of a warehouse that went away can take half a minute (login and network
# timeouts, with backoff). On an account a statement is cut at 15 s anyway.
READ_DEADLINE_S = 15.0
COMMIT_ATTEMPTS = 6
_BEFORE_ANY_EDIT = dt.datetime(1900, 1, 1)

# -- the SQL of this backend ---------------------------------------------------------


def _from_json(columns: Sequence[tuple[str, str]]) -> str:
    """The rows of one bound JSON array of objects, with their columns typed."""
    selected = ", ".join(f"value:{name}::{kind} as {name}" for name, kind in columns)
    return f"(select {selected} from table(flatten(input => parse_json(?))))"


_KEY_COLUMNS = (("tenant_id", "varchar"), ("sku_id", "varchar"), ("forecast_date", "date"))
_ROW_COLUMNS = (
    *_KEY_COLUMNS,
    ("manual_qty", "float"),
    ("reason", "varchar"),
    ("edited_by", "varchar"),
    ("edited_at", "timestamp_ntz"),
    ("version", "number(19, 0)"),
    ("is_removed", "boolean"),
)
_SAME_KEY = (
    "edits.tenant_id = batch.tenant_id and edits.sku_id = batch.sku_id"
    " and edits.forecast_date = batch.forecast_date"
)
_EDIT_COLUMNS = "manual_qty, reason, edited_by, edited_at, version, is_removed"
SQL_READ_ROWS = (
    "select edits.tenant_id, edits.sku_id, edits.forecast_date, edits.manual_qty,"
    " edits.reason, edits.edited_by, edits.edited_at, edits.version, edits.is_removed"
    " from planning.manual_edits_ht as edits"
    f" inner join {_from_json(_KEY_COLUMNS)} as batch on {_SAME_KEY}"
)
SQL_UPDATE_EDITS = (
    "update planning.manual_edits_ht as edits set manual_qty = batch.manual_qty,"
    " reason = batch.reason, edited_by = batch.edited_by, edited_at = batch.edited_at,"
    " version = batch.version, is_removed = batch.is_removed"
    f" from {_from_json((*_ROW_COLUMNS, ('read_version', 'number(19, 0)')))} as batch"
    f" where {_SAME_KEY} and edits.version = batch.read_version"
)
SQL_INSERT_EDITS = (
    f"insert into planning.manual_edits_ht (tenant_id, sku_id, forecast_date, {_EDIT_COLUMNS})"
    f" select tenant_id, sku_id, forecast_date, {_EDIT_COLUMNS}"
    f" from {_from_json(_ROW_COLUMNS)} as batch"
    " where not exists ("
    f"select 1 as stored from planning.manual_edits_ht as edits where {_SAME_KEY})"
)
_LOG_COLUMNS = (
    ("position", "number(19, 0)"),
    *_KEY_COLUMNS,
    ("action", "varchar"),
    ("old_qty", "float"),
    ("new_qty", "float"),
    ("reason", "varchar"),
    ("edited_by", "varchar"),
    ("edited_at", "timestamp_ntz"),
    ("version", "number(19, 0)"),
)
SQL_INSERT_LOG = (
    "insert into planning.manual_edit_log_ht (log_id, tenant_id, sku_id, forecast_date,"
    " action, old_qty, new_qty, reason, edited_by, edited_at, version)"
    " select stored.last_id + batch.position, batch.tenant_id, batch.sku_id,"
    " batch.forecast_date, batch.action, batch.old_qty, batch.new_qty, batch.reason,"
    " batch.edited_by, batch.edited_at, batch.version"
    f" from {_from_json(_LOG_COLUMNS)} as batch"
    " cross join (select coalesce(max(log_id), 0) as last_id"
    " from planning.manual_edit_log_ht) as stored"
)
_PREF_COLUMNS = (
    ("tenant_id", "varchar"),
    ("user_id", "varchar"),
    ("show_manual", "boolean"),
    ("updated_at", "timestamp_ntz"),
)
SQL_UPDATE_PREFS = (
    "update planning.user_prefs_ht as prefs set show_manual = batch.show_manual,"
    f" updated_at = batch.updated_at from {_from_json(_PREF_COLUMNS)} as batch"
    " where prefs.tenant_id = batch.tenant_id and prefs.user_id = batch.user_id"
)
SQL_INSERT_PREFS = (
    "insert into planning.user_prefs_ht (tenant_id, user_id, show_manual, updated_at)"
    f" select tenant_id, user_id, show_manual, updated_at from {_from_json(_PREF_COLUMNS)}"
    " as batch where not exists (select 1 as stored from planning.user_prefs_ht as prefs"
    " where prefs.tenant_id = batch.tenant_id and prefs.user_id = batch.user_id)"
)
SQL_TENANT_EDITS = (
    f"select sku_id, forecast_date, {_EDIT_COLUMNS} from planning.manual_edits_ht"
    " where tenant_id = ?"
)
SQL_PREFS = (
    "select user_id, show_manual from planning.user_prefs_ht"
    " where tenant_id = ? and user_id in (?, ?)"
)
SQL_LOG = (
    "select log_id, sku_id, forecast_date, action, old_qty, new_qty, reason, edited_by,"
    " edited_at, version from planning.manual_edit_log_ht"
    " where tenant_id = ? and edited_at >= ? and log_id > ? order by log_id limit ?"
)
SQL_PING = "select count(*) from planning.manual_edits_ht where tenant_id = '' limit 1"

# The read path (warehouse.py): one page of serving.v_forecast. The viewer's
# own rows win over the tenant's ('*'); show_manual, when the request gives
# it, is bound over the stored preference.
_SHOWN = "coalesce(cast(? as boolean), show_manual)"
SQL_PAGE_SELECT = (
    "select sku_id, forecast_date, draft_qty, manual_qty,"
    f" iff({_SHOWN} and manual_qty is not null, manual_qty, draft_qty) as forecast_qty,"
    f" {_SHOWN} and manual_qty is not null as is_manual,"
    f" {_SHOWN} as show_manual, method, edited_by, edited_at, built_at,"
    " (select max(edited_at) from planning.manual_edits_ht where tenant_id = ?)"
    " as edits_as_of,"
    " (select count(*) from planning.manual_edits_ht where tenant_id = ?) as edit_rows,"
    " lower_qty, upper_qty"
    " from serving.v_forecast where tenant_id = ? and user_id in (?, '*')"
)
SQL_PAGE_SKUS = " and sku_id in (select value::varchar from table(flatten(input => parse_json(?))))"
SQL_PAGE_START = " and forecast_date >= ?"
SQL_PAGE_END = " and forecast_date <= ?"
SQL_PAGE_AFTER = " and (sku_id > ? or (sku_id = ? and forecast_date > ?))"
SQL_PAGE_ORDER = (
    " qualify row_number() over (partition by sku_id, forecast_date"
    " order by iff(user_id = '*', 1, 0)) = 1"
    " order by sku_id, forecast_date limit ?"
)
SQL_DRAFT_OF = (
    "select sku_id, forecast_date, step, draft_qty, method from serving.v_forecast"
    " where tenant_id = ? and user_id = '*'"
    f"{SQL_PAGE_SKUS} order by sku_id, forecast_date"
)
SQL_DRAFT_INFO = (
    "select count(*) as draft_rows, max(built_at) as built_at"
    " from serving.v_forecast where user_id = '*'"
)

# The planning page's reads (warehouse_page.py): the tables dbt builds in gold
# (and the hot_attributes seed), each statement bound to the caller's tenant.
# A drafted SKU is one of fct_forecast_draft; a known one has a draft or a
# row of dim_sku.
_DRAFTED = (
    "(select sku_id, min(method) as method, min(members) as members,"
    " min(forecast_date) as first_forecast_date, max(forecast_date) as last_forecast_date"
    " from gold.fct_forecast_draft where tenant_id = ? group by sku_id)"
)
SQL_SKUS_SELECT = (
    "select drafted.sku_id, skus.sku_name, skus.category, drafted.method, drafted.members,"
    " accuracy.window_1_wape, drafted.first_forecast_date, drafted.last_forecast_date"
    f" from {_DRAFTED} as drafted"
    " left join gold.dim_sku as skus on skus.tenant_id = ? and drafted.sku_id = skus.sku_id"
    " left join gold.fct_forecast_accuracy as accuracy on accuracy.tenant_id = ?"
    " and drafted.sku_id = accuracy.sku_id and drafted.method = accuracy.method"
    " where true"
)
SQL_SKUS_TEXT = (
    " and (position(? in lower(drafted.sku_id)) > 0"
    " or position(? in lower(coalesce(skus.sku_name, ''))) > 0)"
)
SQL_SKUS_CATEGORY = " and skus.category = ?"
SQL_SKUS_AFTER = " and drafted.sku_id > ?"
SQL_SKUS_ORDER = " order by drafted.sku_id limit ?"
SQL_SKU_ATTRIBUTES = (
    f"select * from gold.dim_sku where tenant_id = ?{SQL_PAGE_SKUS} order by sku_id"
)
# Named and ordered as the hot_attributes() macro makes dim_sku's columns.
SQL_HOT_ATTRIBUTES = (
    "select lower(trim(attribute_name)) from seeds.hot_attributes order by attribute_name"
)
SQL_CATEGORIES = (
    "select distinct skus.category from gold.dim_sku as skus"
    f" inner join {_DRAFTED} as drafted on skus.sku_id = drafted.sku_id"
    " where skus.tenant_id = ? and skus.category is not null order by skus.category"
)
SQL_GRAIN = "select grain from gold.dim_tenant where tenant_id = ?"
SQL_SKU_KNOWN = (
    "select count(*) from (select sku_id from gold.dim_sku where tenant_id = ? and sku_id = ?"
    " union all select sku_id from gold.fct_forecast_draft where tenant_id = ? and sku_id = ?)"
    " as known"
)
SQL_HISTORY_SELECT = (
    "select period_date, qty from gold.fct_series_history where tenant_id = ? and sku_id = ?"
)
SQL_HISTORY_START = " and period_date >= ?"
SQL_HISTORY_END = " and period_date <= ?"
SQL_HISTORY_ORDER = " order by period_date limit ?"
SQL_SERIES_ACCURACY = (
    "select method, wape, mae, bias, window_1_wape, window_1_mae, window_1_bias,"
    " window_count, method_rank, nested_rank, is_member, is_nested_member, is_selected,"
    " window_1_coverage from gold.fct_forecast_accuracy where tenant_id = ? and sku_id = ?"
)
SQL_TENANT_ACCURACY = (
    "select method, series_count, holdout_periods, wape, mae, bias, interval_coverage,"
    " interval_level from gold.fct_forecast_accuracy_by_tenant where tenant_id = ?"
)

# -----------------------------------------------------------------------------------


class _Contended(Exception):
    """Another process wrote a key of the batch since it was read: plan it again."""


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return _timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def bound_rows(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as the one JSON array a ``_from_json`` statement binds."""
    names = [name for name, _ in columns]
    return json.dumps(
        [{n: _json(v) for n, v in zip(names, row, strict=True)} for row in rows],
        allow_nan=False,
    )


def aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _stored(row: Sequence[Any]) -> StoredEdit:
    qty, reason, edited_by, edited_at, version, is_removed = row
    return StoredEdit(qty, reason, edited_by, aware(edited_at), int(version), bool(is_removed))


def _fetch(connection: SnowflakeConnection, sql: str, params: Sequence[Any]) -> list[Any]:
    cursor: SnowflakeCursor = connection.cursor()
    try:
        cursor.execute(sql, list(params))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _changed(connection: SnowflakeConnection, sql: str, params: Sequence[Any]) -> int:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, list(params))
        return int(cursor.rowcount or 0)
    finally:
        cursor.close()


def _is_duplicate_key(error: BaseException) -> bool:
    from snowflake.connector import errors

    text = str(error).lower()
    return isinstance(error, errors.IntegrityError) or "duplicate" in text or "unique" in text


class SnowflakeEditsStore(RemoteStore):
    """The planning tables of the warehouse, written by every API process."""

    request_timeout_s = REQUEST_TIMEOUT_S

    def __init__(self, pool: SnowflakePool) -> None:
        super().__init__()
        self.pool = pool

    async def open(self) -> None:
        self._start_writer()

    async def close(self) -> None:
        await self._stop_writer()
        self.pool.close()

    async def reachable(self) -> bool:
        try:
            await self._read(SQL_PING, ())
        except StorageUnavailable:
            return False
        return True

    # -- writes ----------------------------------------------------------------------

    async def _commit(self, jobs: Sequence[Job], now: dt.datetime) -> BatchPlan:
        for attempt in range(COMMIT_ATTEMPTS):
            try:
                return await self.pool.run(
                    lambda connection: self._write_batch(connection, jobs, now), retry=False
                )
            except _Contended:
                await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
            except WarehouseUnavailable as error:
                raise StorageUnavailable(str(error)) from None
            except Exception as error:
                if not _is_duplicate_key(error):
                    raise StorageUnavailable(f"the warehouse could not commit: {error}") from None
                await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
        raise StorageUnavailable("the edits were contended too often; try again")

    def _write_batch(
        self, connection: SnowflakeConnection, jobs: Sequence[Job], now: dt.datetime
    ) -> BatchPlan:
        connection.cursor().execute("begin")
        try:
            plan = self._plan_and_write(connection, jobs, now)
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
        return plan

    def _plan_and_write(
        self, connection: SnowflakeConnection, jobs: Sequence[Job], now: dt.datetime
    ) -> BatchPlan:
        keys = keys_of(jobs)
        stored: dict[RowKey, StoredEdit] = {}
        if keys:
            for tenant_id, sku_id, date, *rest in _fetch(
                connection, SQL_READ_ROWS, [bound_rows(_KEY_COLUMNS, keys)]
            ):
                stored[(tenant_id, sku_id, date)] = _stored(rest)
        plan = plan_batch(jobs, stored, now)
        new, changed = [], []
        for write in plan.edits.values():
            e = write.edit
            row = (*write.key, e.manual_qty, e.reason, e.edited_by, e.edited_at, e.version)
            if write.read_version is None:
                new.append((*row, e.is_removed))
            else:
                changed.append((*row, e.is_removed, write.read_version))
        columns = (*_ROW_COLUMNS, ("read_version", ""))
        if changed and _changed(
            connection, SQL_UPDATE_EDITS, [bound_rows(columns, changed)]
        ) != len(changed):
            raise _Contended
        if new and _changed(connection, SQL_INSERT_EDITS, [bound_rows(_ROW_COLUMNS, new)]) != len(
            new
        ):
            raise _Contended
        if plan.log:
            rows = [
                (position, *r.key, r.action, r.old_qty, r.new_qty, r.reason, *r.written)
                for position, r in enumerate(plan.log, start=1)
            ]
            _changed(connection, SQL_INSERT_LOG, [bound_rows(_LOG_COLUMNS, rows)])
        if plan.prefs:
            prefs = [(t, u, show, now) for (t, u), show in plan.prefs.items()]
            document = bound_rows(_PREF_COLUMNS, prefs)
            updated = _changed(connection, SQL_UPDATE_PREFS, [document])
            inserted = _changed(connection, SQL_INSERT_PREFS, [document])
            if updated + inserted != len(prefs):
                raise _Contended
        return plan

    # -- reads -----------------------------------------------------------------------

    async def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        try:
            return await self.pool.run(
                lambda connection: _fetch(connection, sql, params), deadline_s=READ_DEADLINE_S
            )
        except WarehouseUnavailable as error:
            raise StorageUnavailable(str(error)) from None
        except Exception as error:
            raise StorageUnavailable(f"the warehouse could not answer: {error}") from None

    async def tenant_edits(self, tenant_id: str) -> Mapping[EditKey, StoredEdit]:
        rows = await self._read(SQL_TENANT_EDITS, [tenant_id])
        return {(sku_id, date): _stored(rest) for sku_id, date, *rest in rows}

    async def _prefs(self, tenant_id: str, user_id: str) -> dict[str, bool | None]:
        rows = await self._read(SQL_PREFS, [tenant_id, user_id, TENANT_DEFAULTS_USER])
        return {user: show for user, show in rows}

    async def read_log(
        self, tenant_id: str, since: dt.datetime | None, after: int, limit: int
    ) -> list[LogEntry]:
        moment = since.astimezone(dt.UTC).replace(tzinfo=None) if since else _BEFORE_ANY_EDIT
        rows = await self._read(SQL_LOG, [tenant_id, moment, after, limit])
        return [
            LogEntry(int(log_id), sku, date, action, old, new, reason, by, aware(at), int(v))
            for log_id, sku, date, action, old, new, reason, by, at, v in rows
        ]


def snowflake_backend(settings: SnowflakeSettings) -> Backend:
    """The store and the read path of one warehouse, over one pool."""
    from forecast_hub.api.stores.warehouse import Warehouse

    pool = SnowflakePool(settings)
    store = SnowflakeEditsStore(pool)
    where = f"127.0.0.1:{settings.port}" if settings.is_emulator else settings.account
    return Backend(
        name=settings.target,
        store=store,
        edits_source=f"{settings.database}.planning@{where}",
        acknowledged_after="commit of the warehouse transaction",
        warehouse=Warehouse(pool, settings, store),
    )
