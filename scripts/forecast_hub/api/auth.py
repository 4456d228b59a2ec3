"""Who is calling, as FastAPI dependencies: the one gate of every tenant path.

A route under ``/v1/tenants/{tenant_id}`` is declared on a router from
``tenant_router()``, whose every route runs ``authorize_tenant`` before
anything else: no or an unknown token is a ``401``, a token of another
tenant a ``403``, and in both cases nothing of the tenant has been read or
parsed yet (the route's own parameters and body are looked at only after).
A route that needs the caller takes a ``Caller`` parameter; FastAPI runs
the check once per request either way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from forecast_hub.api import schemas
from forecast_hub.api.errors import forbidden, unauthorized
from forecast_hub.api.state import ApiState
from forecast_hub.api.tokens import Principal

TENANT_PREFIX = "/v1/tenants/{tenant_id}"


async def api_state(request: Request) -> ApiState:
    """The app's shared state (async: a dependency that runs on the event loop)."""
    state = request.app.state.api
    assert isinstance(state, ApiState)
    return state


State = Annotated[ApiState, Depends(api_state)]


async def authorize_tenant(request: Request, tenant_id: str, state: State) -> Principal:
    """The token's principal, if the token is known and belongs to the path's tenant."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized()
    principal = state.tokens.lookup(token.strip())
    if principal is None:
        raise unauthorized()
    if principal.tenant_id != tenant_id:
        raise forbidden()
    return principal


Caller = Annotated[Principal, Depends(authorize_tenant)]


def tenant_router() -> APIRouter:
    """A router of ``/v1/tenants/{tenant_id}/...`` routes, each authorised first."""
    return APIRouter(
        prefix=TENANT_PREFIX, dependencies=[Depends(authorize_tenant)], responses=schemas.ERRORS
    )
