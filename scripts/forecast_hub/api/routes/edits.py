"""The planners' edits: ``PUT .../edits``, ``DELETE .../edits/{sku}/{date}``, ``GET .../edits/log``.

Writes go through the store's group commit and are acknowledged only once
durable; a store that cannot commit is a ``503`` (``errors.py``). On the
duckdb target edits are checked against one generation of the forecast
cache; a tenant not held is loaded only when an edit names one of its SKUs
(an unknown SKU is a ``422`` from the directory alone). On emulator and
snowflake they are checked against the warehouse's draft of their SKUs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Query, Request
from starlette.responses import Response

from forecast_hub.api import schemas
from forecast_hub.api.auth import Caller, GatedRoute, State, tenant_router
from forecast_hub.api.cache import DirectoryView, DraftNeeded, UnknownTenant
from forecast_hub.api.config import DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS
from forecast_hub.api.cursors import decode_cursor, encode_cursor
from forecast_hub.api.edits import (
    Applied,
    Conflict,
    EditRequest,
    LogEntry,
    NothingToRemove,
    PutEdits,
    RemoveEdit,
)
from forecast_hub.api.errors import ApiError, bad_request, not_found
from forecast_hub.api.generation import Generation
from forecast_hub.api.responses import json_response
from forecast_hub.api.state import ApiState
from forecast_hub.api.stores import EditsBackend, resolved
from forecast_hub.api.validation import (
    MAX_SKU_CHARS,
    DraftLookup,
    check_path_date,
    parse_edits,
    parse_limit,
    parse_query_text,
    parse_timestamp_param,
    read_body,
    requested_skus,
)

router = tenant_router()
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": schemas.ErrorBody, "description": "Version conflict."}
}
NO_SUCH_EDIT: dict[int | str, dict[str, Any]] = {
    404: {"model": schemas.ErrorBody, "description": "No such edit."}
}
# Log entries one request reads at most when it keeps those of one SKU.
LOG_SCAN_ROWS = 10_000


def conflict_error(result: Conflict) -> ApiError:
    """409 with each conflicting edit's stored values; nothing was applied."""
    conflicts = [
        {
            "index": index,
            "sku_id": edit.sku_id,
            "forecast_date": edit.forecast_date,
            "expected_version": edit.expected_version,
            "current": current.to_json() if current else None,
        }
        for index, edit, current in result.conflicts
    ]
    return ApiError(
        409,
        "version_conflict",
        f"{len(conflicts)} edits do not match the stored version; none was applied",
        {"conflicts": conflicts},
    )


def applied_body(result: Applied) -> dict[str, Any]:
    return {
        "edits": [
            {
                "sku_id": edit.sku_id,
                "forecast_date": edit.forecast_date,
                "qty": stored.manual_qty,
                "version": stored.version,
                "edited_at": stored.edited_at,
            }
            for edit, stored in result.edits
        ]
    }


async def checked_against_cache(
    state: ApiState, generation: Generation, tenant_id: str, body: bytes
) -> list[EditRequest]:
    """The PUT's edits checked against one generation of the cache: the tenant's rows
    if held, else its directory, loading the rows only when a known SKU needs its dates."""
    view = state.cache.edit_view(generation, tenant_id)
    try:
        return parse_edits(body, state.config.max_edits, view)
    except DraftNeeded:
        rows = await state.cache.tenant(generation, tenant_id)
        return parse_edits(body, state.config.max_edits, rows or UnknownTenant())
    except ApiError as error:
        if isinstance(view, DirectoryView) and error.status == 422:
            state.cache.stats.count("negative_hits")  # refused without a load
        raise


async def put_edits(request: Request, caller: Caller, state: State) -> Response:
    """Upsert 1 to 10000 edits, all or nothing; each answer carries its new version."""
    generation = state.cache.current() if state.warehouse is None else None
    body = await read_body(request, state.config.max_body_bytes)
    if generation is None:
        assert state.warehouse is not None
        skus = requested_skus(body, state.config.max_edits)
        draft: DraftLookup = await state.warehouse.draft_of(caller.tenant_id, skus)
        edits = parse_edits(body, state.config.max_edits, draft)
    else:
        edits = await checked_against_cache(state, generation, caller.tenant_id, body)
    result = await state.store.submit(PutEdits(caller.tenant_id, caller.user_id, tuple(edits)))
    if isinstance(result, Conflict):
        raise conflict_error(result)
    assert isinstance(result, Applied)
    state.metrics.edits.labels("put").inc(len(result.edits))
    return json_response(applied_body(result))


# The hot path: the gate run directly (``GatedRoute``), the same checks and document.
router.add_api_route(
    "/edits",
    put_edits,
    methods=["PUT"],
    response_model=schemas.EditsApplied,
    responses=CONFLICT,
    openapi_extra=schemas.request_body(schemas.EditsBody),
    route_class_override=GatedRoute,
)


@router.delete("/edits/{sku_id}/{forecast_date}", status_code=204, responses=NO_SUCH_EDIT)
async def remove_edit(caller: Caller, state: State, sku_id: str, forecast_date: str) -> Response:
    """Remove an edit: the draft shows again."""
    date = check_path_date(forecast_date)
    if len(sku_id) > MAX_SKU_CHARS:
        raise not_found("there is no edit for this SKU and date")
    result = await state.store.submit(RemoveEdit(caller.tenant_id, caller.user_id, sku_id, date))
    if isinstance(result, NothingToRemove):
        raise not_found("there is no edit for this SKU and date")
    state.metrics.edits.labels("remove").inc()
    return Response(status_code=204)


def log_position(cursor: str | None) -> int:
    """The log id a page starts after: 0, or the last id of the previous page."""
    if cursor is None:
        return 0
    (after_text,) = decode_cursor(cursor, 1)
    if not after_text.isdigit() or len(after_text) > 18:
        raise bad_request("cursor is not one this API gave")
    return int(after_text)


async def sku_log(
    store: EditsBackend,
    tenant_id: str,
    sku_id: str,
    since: dt.datetime | None,
    after: int,
    limit: int,
) -> tuple[list[LogEntry], int | None]:
    """One SKU's entries after log id ``after``, and the log id to go on from (None: the end).

    The log is read in order and the SKU's entries kept, up to LOG_SCAN_ROWS
    read per request, so a page can hold fewer than ``limit`` entries and
    still have a next one.
    """
    kept: list[LogEntry] = []
    scanned = 0
    while scanned < LOG_SCAN_ROWS:
        chunk = await resolved(store.read_log(tenant_id, since, after, limit))
        scanned += len(chunk)
        for entry in chunk:
            if entry.sku_id == sku_id:
                kept.append(entry)
                if len(kept) == limit:
                    return kept, entry.log_id
        if len(chunk) < limit:
            return kept, None
        after = chunk[-1].log_id
    return kept, after


@router.get("/edits/log", response_model=schemas.LogPage)
async def read_log(
    caller: Caller,
    state: State,
    since: Annotated[str | None, Query(description="ISO 8601; entries at or after it.")] = None,
    sku_id: Annotated[str | None, Query(description="Only this SKU's entries.")] = None,
    limit: Annotated[str | None, Query(description="Entries per page, 1 to 10000.")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> Response:
    """The append-only history of edits and removals: who, when, old and new, why."""
    moment = parse_timestamp_param("since", since)
    sku = parse_query_text("sku_id", sku_id)
    page_size = parse_limit(limit, DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS)
    after = log_position(cursor)
    if sku is None:
        entries = await resolved(state.store.read_log(caller.tenant_id, moment, after, page_size))
        resume = entries[-1].log_id if len(entries) == page_size else None
    else:
        entries, resume = await sku_log(
            state.store, caller.tenant_id, sku, moment, after, page_size
        )
    next_cursor = encode_cursor(str(resume)) if resume is not None else None
    return json_response(
        {"entries": [entry.to_json() for entry in entries], "next_cursor": next_cursor}
    )
