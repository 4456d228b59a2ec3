"""The planning page's reads on `serve --target emulator|snowflake`: the warehouse's tables.

The same questions ``page_data.PublishedPageData`` answers from a published
build, answered by the tables dbt builds in the warehouse:
``gold.fct_forecast_draft`` (which SKUs are drafted, their method and
horizon), ``gold.dim_sku`` and the ``hot_attributes`` seed (names,
categories, attributes), ``gold.dim_tenant`` (the grain),
``gold.fct_series_history`` and the two accuracy models. Every statement is
a constant of ``snowflake.py`` chosen by which filters a request has, with
the caller's tenant and every value bound. Nothing is cached but the seed's
attribute names, for as long as the draft's build time is unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from forecast_hub.api.errors import not_ready
from forecast_hub.api.page_data import (
    SERIES_ACCURACY_FIELDS,
    SKU_FIELDS,
    TENANT_ACCURACY_FIELDS,
    HistoryRow,
    SkuEntry,
    order_series_accuracy,
    order_tenant_accuracy,
)
from forecast_hub.api.stores.snowflake import (
    SQL_CATEGORIES,
    SQL_GRAIN,
    SQL_HISTORY_END,
    SQL_HISTORY_ORDER,
    SQL_HISTORY_SELECT,
    SQL_HISTORY_START,
    SQL_HOT_ATTRIBUTES,
    SQL_SERIES_ACCURACY,
    SQL_SKU_ATTRIBUTES,
    SQL_SKU_KNOWN,
    SQL_SKUS_AFTER,
    SQL_SKUS_CATEGORY,
    SQL_SKUS_ORDER,
    SQL_SKUS_SELECT,
    SQL_SKUS_TEXT,
    SQL_TENANT_ACCURACY,
)

if TYPE_CHECKING:
    from forecast_hub.api.stores.warehouse import Warehouse

# Integer columns of the accuracy rows (a warehouse NUMBER arrives as Decimal).
_COUNTS = {"window_count", "method_rank", "nested_rank", "series_count", "holdout_periods"}


def sku_statement(text: str | None, category: str | None, after: str | None) -> str:
    """The search's statement, assembled from constants by which filters the request has."""
    parts = [SQL_SKUS_SELECT]
    if text:
        parts.append(SQL_SKUS_TEXT)
    if category is not None:
        parts.append(SQL_SKUS_CATEGORY)
    if after is not None:
        parts.append(SQL_SKUS_AFTER)
    parts.append(SQL_SKUS_ORDER)
    return "".join(parts)


def history_statement(start: dt.date | None, end: dt.date | None) -> str:
    parts = [SQL_HISTORY_SELECT]
    if start is not None:
        parts.append(SQL_HISTORY_START)
    if end is not None:
        parts.append(SQL_HISTORY_END)
    parts.append(SQL_HISTORY_ORDER)
    return "".join(parts)


def _plain(name: str, value: Any) -> Any:
    """A warehouse value as the published build's reader gives it."""
    if isinstance(value, Decimal):
        return int(value) if name in _COUNTS else float(value)
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _rows(names: Sequence[str], found: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [
        {name: _plain(name, value) for name, value in zip(names, row, strict=True)} for row in found
    ]


class WarehousePageReads:
    """``page_data.PageReads`` over the warehouse one ``Warehouse`` reads."""

    missing: tuple[str, ...] = ()

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self._hot: tuple[dt.datetime, tuple[str, ...]] | None = None

    @property
    def missing_message(self) -> str:
        target = self.warehouse.settings.target
        return (
            "the planning page's tables (gold.fct_series_history, the accuracy models,"
            " dim_sku, dim_tenant, seeds.hot_attributes) are not in the warehouse or not"
            f" readable by the API's role: run `dbt build --target {target}`"
        )

    async def _query(self, sql: str, parameters: Sequence[Any]) -> list[tuple[Any, ...]]:
        _, found = await self.warehouse.query_described(sql, parameters, self.missing_message)
        return found

    async def headers(self, tenant_id: str) -> dict[str, str]:
        """The freshness headers: 503 while the warehouse has no draft."""
        info, reason = await self.warehouse.draft_health()
        if info is None:
            raise not_ready(reason or self.warehouse.missing_message)
        store = self.warehouse.store
        edits_as_of = store.edits_as_of.get(tenant_id, store.opened_at)
        return self.warehouse.headers(info["built_at"], edits_as_of, "schema=gold")

    async def grain(self, tenant_id: str) -> str | None:
        found = await self._query(SQL_GRAIN, [tenant_id])
        return str(found[0][0]) if found and found[0][0] is not None else None

    async def hot_attributes(self) -> tuple[str, ...]:
        info, _ = await self.warehouse.draft_health()
        built_at = info["built_at"] if info is not None else None
        if self._hot is None or self._hot[0] != built_at:
            found = await self._query(SQL_HOT_ATTRIBUTES, [])
            names = tuple(str(name).lower() for (name,) in found)
            if built_at is None:
                return names
            self._hot = (built_at, names)
        return self._hot[1]

    async def categories(self, tenant_id: str) -> list[str]:
        found = await self._query(SQL_CATEGORIES, [tenant_id, tenant_id])
        return [str(category) for (category,) in found]

    async def find_skus(
        self, tenant_id: str, text: str | None, category: str | None, after: str | None, limit: int
    ) -> list[SkuEntry]:
        parameters: list[Any] = [tenant_id, tenant_id, tenant_id]
        if text:
            parameters += [text.lower(), text.lower()]
        if category is not None:
            parameters.append(category)
        if after is not None:
            parameters.append(after)
        parameters.append(limit)
        found = await self._query(sku_statement(text, category, after), parameters)
        attributes = await self._attributes(tenant_id, [row[0] for row in found])
        return [
            SkuEntry(
                sku_id=sku_id,
                sku_name=name,
                category=category_of,
                attributes=attributes.get(sku_id, {}),
                method=method,
                members=None if members is None else tuple(str(members).split(",")),
                wape=None if wape is None else float(wape),
                first_forecast_date=first,
                last_forecast_date=last,
                search_text=f"{sku_id}\n{name or ''}".casefold(),
            )
            for sku_id, name, category_of, method, members, wape, first, last in found
        ]

    async def _attributes(
        self, tenant_id: str, sku_ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """The hot attribute values of these SKUs, by SKU."""
        hot = await self.hot_attributes()
        if not sku_ids:
            return {}
        names, found = await self.warehouse.query_described(
            SQL_SKU_ATTRIBUTES, [tenant_id, json.dumps(list(sku_ids))], self.missing_message
        )
        described = _rows(names, found)
        return {
            row["sku_id"]: {name: row.get(name) for name in hot if name not in SKU_FIELDS}
            for row in described
        }

    async def is_known(self, tenant_id: str, sku_id: str) -> bool:
        ((count,),) = await self._query(SQL_SKU_KNOWN, [tenant_id, sku_id, tenant_id, sku_id])
        return int(count) > 0

    async def history(
        self, tenant_id: str, sku_id: str, start: dt.date | None, end: dt.date | None, limit: int
    ) -> list[HistoryRow]:
        parameters: list[Any] = [tenant_id, sku_id]
        parameters += [date for date in (start, end) if date is not None]
        found = await self._query(history_statement(start, end), [*parameters, limit])
        return [HistoryRow(_plain("period_date", date), float(qty)) for date, qty in found]

    async def tenant_accuracy(self, tenant_id: str) -> list[dict[str, Any]]:
        found = await self._query(SQL_TENANT_ACCURACY, [tenant_id])
        rows = _rows(TENANT_ACCURACY_FIELDS, found)
        order_tenant_accuracy(rows)
        return rows

    async def series_accuracy(self, tenant_id: str, sku_id: str) -> list[dict[str, Any]]:
        found = await self._query(SQL_SERIES_ACCURACY, [tenant_id, sku_id])
        rows = _rows(SERIES_ACCURACY_FIELDS, found)
        order_series_accuracy(rows)
        return rows
