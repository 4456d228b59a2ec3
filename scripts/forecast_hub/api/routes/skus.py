"""``GET /v1/tenants/{tenant_id}/skus``: the forecast SKUs, searched and paged."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from forecast_hub.api import schemas
from forecast_hub.api.auth import Caller, State, tenant_router
from forecast_hub.api.config import DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS
from forecast_hub.api.cursors import decode_cursor, encode_cursor
from forecast_hub.api.page_data import edit_counts
from forecast_hub.api.responses import json_response
from forecast_hub.api.routes.params import Cursor, Limit
from forecast_hub.api.validation import parse_limit, parse_query_text

router = tenant_router()


@router.get("/skus", response_model=schemas.SkuPage)
async def search_skus(
    caller: Caller,
    state: State,
    q: Annotated[
        str | None, Query(description="Case-insensitive part of the SKU id or name.")
    ] = None,
    category: Annotated[str | None, Query(description="Only this category.")] = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Response:
    """The tenant's forecast SKUs in id order: names, attributes, method, accuracy, edits."""
    tenant_id = caller.tenant_id
    snapshot = state.require_snapshot()
    text = parse_query_text("q", q)
    wanted = parse_query_text("category", category)
    page_size = parse_limit(limit, DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS)
    after = decode_cursor(cursor, 1)[0] if cursor is not None else None
    reads = await state.page_data.for_build(snapshot.build_id)
    found = reads.find_skus(tenant_id, text, wanted, after, page_size + 1)
    rows, more = found[:page_size], len(found) > page_size
    counts = edit_counts(state.store.tenant_edits(tenant_id), rows)
    return json_response(
        {
            "tenant_id": tenant_id,
            "grain": reads.grain(tenant_id),
            "hot_attributes": list(reads.hot_attributes()),
            "categories": reads.categories(tenant_id),
            "rows": [sku.to_json(counts[sku.sku_id]) for sku in rows],
            "next_cursor": encode_cursor(rows[-1].sku_id) if more else None,
        },
        headers=state.freshness_headers(snapshot, tenant_id),
    )
