"""The warehouse read path: pages of ``serving.v_forecast``, drafts to check edits against.

A page is one statement (``snowflake.py``): the principal's tenant and user,
the SKUs (one bound JSON array), the dates, the page cursor and the
request's show_manual are bound; the view's row of the user (their stored
preference resolved by the model) wins over the tenant's. The statement
also reads the tenant's latest edit time, so the headers say which edits
the page reflects. Nothing is cached but the draft's build time and size,
for ``/healthz`` and the headers of an empty page. The planning page's
reads are ``warehouse_page.py``'s, over the same pool.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from forecast_hub.api.cursors import decode_cursor, encode_cursor
from forecast_hub.api.errors import ApiError, not_ready
from forecast_hub.api.responses import iso_timestamp
from forecast_hub.api.stores.pages import ForecastPage, PageRequest
from forecast_hub.api.stores.snowflake import (
    READ_DEADLINE_S,
    SQL_DRAFT_INFO,
    SQL_DRAFT_OF,
    SQL_PAGE_AFTER,
    SQL_PAGE_END,
    SQL_PAGE_ORDER,
    SQL_PAGE_SELECT,
    SQL_PAGE_SKUS,
    SQL_PAGE_START,
    SnowflakeEditsStore,
    aware,
)
from forecast_hub.api.stores.warehouse_page import WarehousePageReads
from forecast_hub.api.tenant_rows import SkuSeries
from forecast_hub.api.tokens import Principal
from forecast_hub.api.validation import check_path_date
from forecast_hub.snowflake.pool import SnowflakePool, WarehouseUnavailable
from forecast_hub.snowflake.settings import SnowflakeSettings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

DRAFT_INFO_TTL_S = 5.0
NO_DRAFT_TTL_S = 0.5


@dataclass
class TenantDraft:
    """Some SKUs of a tenant's draft as the warehouse answered: what a PUT is checked against."""

    known_skus: set[str] = field(default_factory=set)
    series: dict[str, SkuSeries] = field(default_factory=dict)

    def knows_sku(self, sku_id: str) -> bool:
        return sku_id in self.known_skus

    def has_date(self, sku_id: str, date: dt.date) -> bool:
        series = self.series.get(sku_id)
        return series is not None and series.has_date(date)


def page_statement(request: PageRequest, after: tuple[str, dt.date] | None) -> str:
    """The page's statement, assembled from constants by which filters the request has."""
    parts = [SQL_PAGE_SELECT]
    if request.sku_ids is not None:
        parts.append(SQL_PAGE_SKUS)
    if request.start is not None:
        parts.append(SQL_PAGE_START)
    if request.end is not None:
        parts.append(SQL_PAGE_END)
    if after is not None:
        parts.append(SQL_PAGE_AFTER)
    parts.append(SQL_PAGE_ORDER)
    return "".join(parts)


def page_parameters(
    principal: Principal, request: PageRequest, after: tuple[str, dt.date] | None
) -> list[Any]:
    tenant_id, user_id = principal.tenant_id, principal.user_id
    shown = request.show_manual
    parameters: list[Any] = [shown, shown, shown, tenant_id, tenant_id, tenant_id, user_id]
    if request.sku_ids is not None:
        parameters.append(json.dumps(sorted(set(request.sku_ids))))
    if request.start is not None:
        parameters.append(request.start)
    if request.end is not None:
        parameters.append(request.end)
    if after is not None:
        parameters += [after[0], after[0], after[1]]
    parameters.append(request.limit + 1)
    return parameters


def _page_row(row: tuple[Any, ...]) -> dict[str, Any]:
    """One row of the page statement as the API answers it."""
    sku_id, forecast_date, draft_qty, manual_qty, forecast_qty, is_manual = row[:6]
    method, edited_by, edited_at = row[7:10]
    lower_qty, upper_qty = row[13:15]
    return {
        "sku_id": sku_id,
        "forecast_date": forecast_date,
        "draft_qty": float(draft_qty),
        "manual_qty": None if manual_qty is None else float(manual_qty),
        "forecast_qty": float(forecast_qty),
        "is_manual": bool(is_manual),
        "method": method,
        "edited_by": edited_by,
        # The emulator sends a null timestamp as 1970-01-01: the edit's author
        # says whether there is one.
        "edited_at": aware(edited_at) if edited_by is not None else None,
        "lower_qty": None if lower_qty is None else float(lower_qty),
        "upper_qty": None if upper_qty is None else float(upper_qty),
    }


def _missing_view(error: BaseException) -> bool:
    text = str(error).lower()
    return "does not exist" in text or "not authorized" in text or "not found" in text


@dataclass
class _DraftRequests:
    """The SKUs asked for while a tenant's previous draft query ran, and their answer."""

    sku_ids: set[str] = field(default_factory=set)
    answer: asyncio.Future[TenantDraft] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class DraftLoader:
    """One draft query in flight per tenant; the PUTs arriving meanwhile share the next.

    Two hundred concurrent PUTs of a tenant are checked with two or three
    queries instead of two hundred, so they do not queue for the pool's
    connections behind each other.
    """

    def __init__(self, fetch: Callable[[str, list[str]], Awaitable[TenantDraft]]) -> None:
        self.fetch = fetch
        self._waiting: dict[str, _DraftRequests] = {}
        self._running: set[str] = set()

    async def load(self, tenant_id: str, sku_ids: Sequence[str]) -> TenantDraft:
        requests = self._waiting.setdefault(tenant_id, _DraftRequests())
        requests.sku_ids.update(sku_ids)
        if tenant_id not in self._running:
            self._running.add(tenant_id)
            asyncio.get_running_loop().create_task(self._run(tenant_id))
        return await asyncio.shield(requests.answer)

    async def _run(self, tenant_id: str) -> None:
        try:
            while (requests := self._waiting.pop(tenant_id, None)) is not None:
                try:
                    draft = await self.fetch(tenant_id, sorted(requests.sku_ids))
                except Exception as error:
                    requests.answer.set_exception(error)
                else:
                    requests.answer.set_result(draft)
        finally:
            self._running.discard(tenant_id)


class Warehouse:
    """Reads of serving.v_forecast for one warehouse, over the store's pool."""

    def __init__(
        self, pool: SnowflakePool, settings: SnowflakeSettings, store: SnowflakeEditsStore
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.store = store
        self._draft_info: tuple[float, dict[str, Any] | None, str | None] | None = None
        self._drafts: DraftLoader | None = None
        self.page = WarehousePageReads(self)

    async def open(self) -> None:
        """Nothing to load: every answer is the warehouse's."""

    async def close(self) -> None:
        """The pool is the store's, closed with it."""

    @property
    def missing_message(self) -> str:
        return (
            "serving.v_forecast is not in the warehouse: run `forecast-hub hybrid --target"
            f" {self.settings.target}` and `dbt build --target {self.settings.target}`"
        )

    async def _query(
        self, sql: str, parameters: Sequence[Any], missing: str | None = None
    ) -> list[tuple[Any, ...]]:
        _, rows = await self.query_described(sql, parameters, missing)
        return rows

    async def query_described(
        self, sql: str, parameters: Sequence[Any], missing: str | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The statement's column names (lower case) and rows; 503 when it cannot answer,
        with ``missing`` (else the draft's message) when an object it reads is missing."""

        def run(connection: SnowflakeConnection) -> tuple[list[str], list[tuple[Any, ...]]]:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, list(parameters))
                names = [str(column[0]).lower() for column in cursor.description or ()]
                return names, [tuple(row) for row in cursor.fetchall()]
            finally:
                cursor.close()

        try:
            return await self.pool.run(run, deadline_s=READ_DEADLINE_S)
        except WarehouseUnavailable as error:
            raise not_ready(str(error)) from None
        except ApiError:
            raise
        except Exception as error:
            if _missing_view(error):
                if missing is not None:
                    raise not_ready(missing) from None
                self._draft_info = None
                raise not_ready(self.missing_message) from None
            raise not_ready(f"the warehouse could not answer: {error}") from None

    async def forecast_page(self, principal: Principal, request: PageRequest) -> ForecastPage:
        after = None
        if request.cursor is not None:
            after_sku, after_text = decode_cursor(request.cursor, 2)
            after = (after_sku, check_path_date(after_text))
        sql = page_statement(request, after)
        found = await self._query(sql, page_parameters(principal, request, after))
        rows = [_page_row(row) for row in found[: request.limit]]
        next_cursor = None
        if len(found) > request.limit:
            last = rows[-1]
            next_cursor = encode_cursor(last["sku_id"], last["forecast_date"].isoformat())
        shown: bool | None
        if found:
            shown = bool(found[0][6])
            built_at = aware(found[0][10])
            edits_as_of = aware(found[0][11]) if found[0][12] else self.store.opened_at
        else:
            shown = request.show_manual
            if shown is None:
                shown = await self.store.show_manual(principal.tenant_id, principal.user_id)
            info, reason = await self.draft_health()
            if info is None:
                raise not_ready(reason or self.missing_message)
            built_at = info["built_at"]
            edits_as_of = self.store.edits_as_of.get(principal.tenant_id, self.store.opened_at)
        assert shown is not None
        return ForecastPage(rows, shown, next_cursor, self.headers(built_at, edits_as_of))

    def headers(
        self, built_at: dt.datetime, edits_as_of: dt.datetime, read: str = "view=serving.v_forecast"
    ) -> dict[str, str]:
        """Freshness headers; ``read`` names what answered (``kind=schema.object``)."""
        kind, _, name = read.partition("=")
        return {
            "X-Forecast-Built-At": iso_timestamp(built_at),
            "X-Edits-As-Of": iso_timestamp(edits_as_of),
            "X-Data-Source": (
                f"{self.settings.target}; {kind}={self.settings.database}.{name};"
                f" built_at={iso_timestamp(built_at)}"
            ),
        }

    async def draft_of(self, tenant_id: str, sku_ids: Sequence[str]) -> TenantDraft:
        """The tenant's draft of (at least) these SKUs: what a PUT's edits are checked against."""
        if not sku_ids:
            return TenantDraft()
        if self._drafts is None:
            self._drafts = DraftLoader(self._fetch_draft)
        return await self._drafts.load(tenant_id, sku_ids)

    async def _fetch_draft(self, tenant_id: str, sku_ids: list[str]) -> TenantDraft:
        draft = TenantDraft()
        found = await self._query(SQL_DRAFT_OF, [tenant_id, json.dumps(sku_ids)])
        by_sku: dict[str, list[tuple[Any, ...]]] = {}
        for row in found:
            by_sku.setdefault(row[0], []).append(row)
        for sku_id, rows in by_sku.items():
            draft.known_skus.add(sku_id)
            draft.series[sku_id] = SkuSeries(
                method=rows[0][4],
                dates=tuple(row[1] for row in rows),
                steps=tuple(int(row[2]) for row in rows),
                draft_qty=tuple(float(row[3]) for row in rows),
            )
        return draft

    async def draft_health(self) -> tuple[dict[str, Any] | None, str | None]:
        """The draft's build time, age and rows (cached for seconds), or why there is none."""
        now = time.monotonic()
        if self._draft_info is not None and self._draft_info[0] > now:
            return self._draft_info[1], self._draft_info[2]
        info: dict[str, Any] | None = None
        reason: str | None = None
        try:
            ((rows, built_at),) = await self._query(SQL_DRAFT_INFO, [])
        except ApiError as error:
            reason = error.message
        else:
            if rows:
                built = aware(built_at)
                info = {
                    "build_id": f"{self.settings.target}:{iso_timestamp(built)}",
                    "built_at": built,
                    "age_seconds": round((dt.datetime.now(dt.UTC) - built).total_seconds(), 3),
                    "rows": int(rows),
                }
            else:
                reason = "serving.v_forecast has no rows: no forecast draft has been built yet"
        ttl = DRAFT_INFO_TTL_S if info is not None else NO_DRAFT_TTL_S
        self._draft_info = (now + ttl, info, reason)
        return info, reason
