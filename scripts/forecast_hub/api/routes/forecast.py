"""``GET /v1/tenants/{tenant_id}/forecast``: the draft merged with the planners' edits.

On the duckdb target the page is answered from one generation of the
forecast cache, taken once, merged here with the edits of the page
(``merge.py``); on emulator and snowflake the warehouse's
``serving.v_forecast`` answers the same page (``stores/snowflake.py``).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Query
from starlette.responses import Response

from forecast_hub.api import schemas
from forecast_hub.api.auth import Caller, State, tenant_router
from forecast_hub.api.config import DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS
from forecast_hub.api.cursors import decode_cursor, encode_cursor
from forecast_hub.api.edits import StoredEdit
from forecast_hub.api.errors import bad_request
from forecast_hub.api.merge import merge_series
from forecast_hub.api.responses import json_response
from forecast_hub.api.stores import edits_for_page, resolved
from forecast_hub.api.stores.pages import PageRequest
from forecast_hub.api.tenant_rows import TenantRows
from forecast_hub.api.validation import (
    check_path_date,
    parse_limit,
    parse_query_bool,
    parse_query_date,
)

router = tenant_router()


@dataclass(frozen=True)
class ForecastQuery:
    """One page's question, checked: which SKUs and dates, from where, how many."""

    sku_ids: list[str] | None
    start: dt.date | None
    end: dt.date | None
    show_manual: bool
    limit: int
    cursor: str | None


def forecast_page(
    draft: TenantRows | None,
    edits: Mapping[tuple[str, dt.date], StoredEdit],
    query: ForecastQuery,
) -> tuple[list[dict[str, Any]], str | None]:
    """The page's merged rows in (SKU, date) order, and the cursor of the next page."""
    if draft is None:
        return [], None
    if query.sku_ids is None:
        order = draft.sku_order
    else:
        order = sorted({sku for sku in query.sku_ids if draft.codes.get(sku, -1) >= 0})
    after_sku, after_date = None, None
    if query.cursor is not None:
        after_sku, after_text = decode_cursor(query.cursor, 2)
        after_date = check_path_date(after_text)
    if after_sku is not None:
        order = order[bisect.bisect_left(order, after_sku) :]
    limit = query.limit
    rows: list[dict[str, Any]] = []
    for sku_id in order:
        low = query.start
        if sku_id == after_sku and after_date is not None:
            following = after_date + dt.timedelta(days=1)
            low = following if low is None or low < following else low
        series = draft.series(sku_id, low, query.end, limit + 1 - len(rows))
        assert series is not None
        window = range(len(series.dates))
        rows.extend(merge_series(sku_id, series, edits, query.show_manual, window))
        if len(rows) > limit:
            break
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        return rows, encode_cursor(last["sku_id"], last["forecast_date"].isoformat())
    return rows, None


def page_skus(draft: TenantRows | None, query: ForecastQuery) -> list[str]:
    """The SKUs a page shows: which edits a store across the network is asked for."""
    rows, _ = forecast_page(draft, {}, query)
    return sorted({row["sku_id"] for row in rows})


@router.get("/forecast", response_model=schemas.ForecastPage)
async def read_forecast(
    caller: Caller,
    state: State,
    sku_id: Annotated[list[str] | None, Query(description="Repeatable; none = all SKUs.")] = None,
    start: Annotated[str | None, Query(description="First period date (inclusive).")] = None,
    end: Annotated[str | None, Query(description="Last period date (inclusive).")] = None,
    show_manual: Annotated[
        str | None, Query(description="true or false; absent = the user's stored preference.")
    ] = None,
    limit: Annotated[
        str | None, Query(description="Rows per page, 1 to 10000 (default 1000).")
    ] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> Response:
    """The merged forecast: the draft with the planners' edits."""
    tenant_id = caller.tenant_id
    generation = state.cache.current() if state.warehouse is None else None
    first = parse_query_date("start", start)
    last = parse_query_date("end", end)
    if first and last and first > last:
        raise bad_request("start is after end")
    override = parse_query_bool("show_manual", show_manual)
    page_size = parse_limit(limit, DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS)
    if state.warehouse is not None:
        request = PageRequest(sku_id, first, last, override, page_size, cursor)
        page = await state.warehouse.forecast_page(caller, request)
        return json_response(page.body(tenant_id), headers=page.headers)
    assert generation is not None
    shown = (
        override
        if override is not None
        else await resolved(state.store.show_manual(tenant_id, caller.user_id))
    )
    query = ForecastQuery(
        sku_ids=sku_id,
        start=first,
        end=last,
        show_manual=shown,
        limit=page_size,
        cursor=cursor,
    )
    draft = await state.cache.tenant(generation, tenant_id, sku_id)
    edits = await edits_for_page(
        state.store, tenant_id, lambda: page_skus(draft, query), first, last
    )
    rows, next_cursor = forecast_page(draft, edits, query)
    return json_response(
        {"tenant_id": tenant_id, "show_manual": shown, "rows": rows, "next_cursor": next_cursor},
        headers=state.freshness_headers(generation, tenant_id),
    )
