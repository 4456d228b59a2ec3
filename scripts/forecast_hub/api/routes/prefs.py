"""``GET`` and ``PUT /v1/tenants/{tenant_id}/prefs``: the caller's preferences."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from forecast_hub.api import schemas
from forecast_hub.api.auth import Caller, State, tenant_router
from forecast_hub.api.edits import SetPrefs
from forecast_hub.api.responses import json_response
from forecast_hub.api.stores import EditsBackend, resolved
from forecast_hub.api.tokens import Principal
from forecast_hub.api.validation import parse_prefs, read_body

router = tenant_router()


async def prefs_body(store: EditsBackend, caller: Principal) -> dict[str, Any]:
    """What is in effect, what the user stored, and the tenant's defaults beneath."""
    tenant_id, user_id = caller.tenant_id, caller.user_id
    return {
        "tenant_id": tenant_id,
        "user_id": user_id,
        "show_manual": await resolved(store.show_manual(tenant_id, user_id)),
        "stored": {"show_manual": await resolved(store.stored_show_manual(tenant_id, user_id))},
        "tenant_defaults": {"show_manual": await resolved(store.tenant_show_manual(tenant_id))},
    }


@router.get("/prefs", response_model=schemas.Prefs)
async def read_prefs(caller: Caller, state: State) -> Response:
    """The calling user's preferences over the tenant's defaults."""
    return json_response(await prefs_body(state.store, caller))


@router.put(
    "/prefs",
    response_model=schemas.Prefs,
    openapi_extra=schemas.request_body(schemas.PrefsBody),
)
async def write_prefs(request: Request, caller: Caller, state: State) -> Response:
    """Store the calling user's preferences; null returns to the tenant's default."""
    body = await read_body(request, state.config.max_body_bytes)
    show_manual = parse_prefs(body)
    await state.store.submit(SetPrefs(caller.tenant_id, caller.user_id, show_manual))
    return json_response(await prefs_body(state.store, caller))
