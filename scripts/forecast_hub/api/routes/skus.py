"""``GET /v1/tenants/{tenant_id}/skus``: the forecast SKUs, searched and paged.

The SKUs come from the build's page tables (embedded, PostgreSQL) or the
warehouse's tables (emulator, snowflake), ``page_data.page_reads``; their
edit counts from the edits store, asked for the page's SKUs only.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from forecast_hub.api import schemas
from forecast_hub.api.auth import Caller, State, tenant_router
from forecast_hub.api.config import DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS
from forecast_hub.api.cursors import decode_cursor, encode_cursor
from forecast_hub.api.page_data import edit_counts, page_reads
from forecast_hub.api.responses import json_response
from forecast_hub.api.routes.params import Cursor, Limit
from forecast_hub.api.stores import edits_for_page, resolved
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
    text = parse_query_text("q", q)
    wanted = parse_query_text("category", category)
    page_size = parse_limit(limit, DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS)
    after = decode_cursor(cursor, 1)[0] if cursor is not None else None
    reads, headers = await page_reads(state, tenant_id)
    found = await resolved(reads.find_skus(tenant_id, text, wanted, after, page_size + 1))
    rows, more = found[:page_size], len(found) > page_size
    page_skus = [sku.sku_id for sku in rows]
    edits = await edits_for_page(state.store, tenant_id, lambda: page_skus, None, None)
    counts = edit_counts(edits, rows)
    return json_response(
        {
            "tenant_id": tenant_id,
            "grain": await resolved(reads.grain(tenant_id)),
            "hot_attributes": list(await resolved(reads.hot_attributes())),
            "categories": await resolved(reads.categories(tenant_id)),
            "rows": [sku.to_json(counts[sku.sku_id]) for sku in rows],
            "next_cursor": encode_cursor(rows[-1].sku_id) if more else None,
        },
        headers=headers,
    )
