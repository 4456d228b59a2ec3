"""``GET /v1/tenants/{tenant_id}/accuracy``: backtest scores, of the tenant or of one series.

Without ``sku_id``: the tenant's roll-up, one row per method and one for
top3_median with its interval coverage and level. With ``sku_id``: that
series' rows, top3_median first, then each method by rank, with whether it
is a member. At most nine rows either way, so there is no cursor. Read
from the build's page tables or the warehouse's accuracy models
(``page_data.page_reads``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from forecast_hub.api import schemas
from forecast_hub.api.auth import Caller, State, tenant_router
from forecast_hub.api.errors import not_found
from forecast_hub.api.page_data import page_reads
from forecast_hub.api.responses import json_response
from forecast_hub.api.routes.history import NO_SUCH_SKU
from forecast_hub.api.stores import resolved
from forecast_hub.api.validation import parse_query_text

router = tenant_router()


@router.get("/accuracy", response_model=schemas.AccuracyPage, responses=NO_SUCH_SKU)
async def read_accuracy(
    caller: Caller,
    state: State,
    sku_id: Annotated[str | None, Query(description="One series; absent = the tenant.")] = None,
) -> Response:
    """Per-method backtest scores: the tenant's roll-up, or one series' with ranks."""
    tenant_id = caller.tenant_id
    sku = parse_query_text("sku_id", sku_id)
    reads, headers = await page_reads(state, tenant_id)
    if sku is None:
        rows = await resolved(reads.tenant_accuracy(tenant_id))
    elif await resolved(reads.is_known(tenant_id, sku)):
        rows = await resolved(reads.series_accuracy(tenant_id, sku))
    else:
        raise not_found("no such SKU for this tenant")
    return json_response(
        {"tenant_id": tenant_id, "sku_id": sku, "rows": rows},
        headers=headers,
    )
