"""``GET /v1/tenants/{tenant_id}/history``: one series' actual demand at the tenant's grain.

Read from the build's page tables or the warehouse's ``fct_series_history``
(``page_data.page_reads``).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Query
from starlette.responses import Response

from forecast_hub.api import schemas
from forecast_hub.api.auth import Caller, State, tenant_router
from forecast_hub.api.config import DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS
from forecast_hub.api.cursors import decode_cursor, encode_cursor
from forecast_hub.api.errors import bad_request, not_found
from forecast_hub.api.page_data import page_reads
from forecast_hub.api.responses import json_response
from forecast_hub.api.routes.params import Cursor, Limit, SkuId
from forecast_hub.api.stores import resolved
from forecast_hub.api.validation import (
    check_path_date,
    parse_limit,
    parse_query_date,
    parse_query_text,
)

router = tenant_router()
NO_SUCH_SKU: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorBody, "description": "No such SKU for this tenant."}
}


@router.get("/history", response_model=schemas.HistoryPage, responses=NO_SUCH_SKU)
async def read_history(
    caller: Caller,
    state: State,
    sku_id: SkuId = None,
    start: Annotated[str | None, Query(description="First period date (inclusive).")] = None,
    end: Annotated[str | None, Query(description="Last period date (inclusive).")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    """The zero-filled periods the draft was fitted on, in date order."""
    tenant_id = caller.tenant_id
    sku = parse_query_text("sku_id", sku_id)
    if sku is None:
        raise bad_request("sku_id is required: the SKU whose history to read")
    first = parse_query_date("start", start)
    last = parse_query_date("end", end)
    if first and last and first > last:
        raise bad_request("start is after end")
    page_size = parse_limit(limit, DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS)
    if cursor is not None:
        following = check_path_date(decode_cursor(cursor, 1)[0]) + dt.timedelta(days=1)
        first = following if first is None or first < following else first
    reads, headers = await page_reads(state, tenant_id)
    if not await resolved(reads.is_known(tenant_id, sku)):
        raise not_found("no such SKU for this tenant")
    found = await resolved(reads.history(tenant_id, sku, first, last, page_size + 1))
    rows, more = found[:page_size], len(found) > page_size
    return json_response(
        {
            "tenant_id": tenant_id,
            "sku_id": sku,
            "grain": await resolved(reads.grain(tenant_id)),
            "rows": [row.to_json() for row in rows],
            "next_cursor": encode_cursor(rows[-1].period_date.isoformat()) if more else None,
        },
        headers=headers,
    )
