"""Who is calling, as FastAPI dependencies: the one gate of every tenant path.

A route under ``/v1/tenants/{tenant_id}`` is declared on a router from
``tenant_router()``, whose every route runs ``authorize_tenant`` before
anything else: no or an unknown token is a ``401``, a token of another
tenant a ``403``, and in both cases nothing of the tenant has been read or
parsed yet (the route's own parameters and body are looked at only after).
A route that needs the caller takes a ``Caller`` parameter; FastAPI runs
the check once per request either way.

A hot route whose endpoint takes exactly ``(request, caller, state)`` (the
edits PUT) is declared with ``route_class_override=GatedRoute``: the same
checks in the same order, the same errors and the same OpenAPI operation,
called directly instead of through FastAPI's dependency resolution.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

import fastapi.routing
from fastapi import APIRouter, Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.responses import Response

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


class GatedRoute(APIRoute):
    """A tenant route whose endpoint is ``(request, caller, state) -> Response``, run
    without FastAPI's per-request dependency resolution.

    It is refused at declaration unless the route's dependencies are exactly
    the gate's (``api_state`` and ``authorize_tenant``) and it takes no other
    parameter, so what it skips resolves to the same values: the tenant from
    the path, the state, the principal. The OpenAPI operation is FastAPI's own.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # Included in an app, the route is served with the inclusion's dependencies
        # too (FastAPI passes them as the effective route context): checked the same.
        context = fastapi.routing._effective_route_context_var.get()
        if context is not None and context.original_route is self:
            dependant = context.dependant
        else:
            dependant = self.dependant
        assert isinstance(dependant, Dependant)
        names = {sub.call: sub.name for sub in dependant.dependencies if sub.name}
        own = [
            *dependant.path_params,
            *dependant.query_params,
            *dependant.header_params,
            *dependant.cookie_params,
            *dependant.body_params,
        ]
        request_name = dependant.request_param_name
        calls = {sub.call for sub in dependant.dependencies}
        if calls != {api_state, authorize_tenant} or len(names) != 2 or own or not request_name:
            raise TypeError(f"{self.path}: a GatedRoute takes (request, caller, state) only")
        caller_name, state_name = names[authorize_tenant], names[api_state]
        endpoint: Callable[..., Awaitable[Response]] = self.endpoint

        async def handler(request: Request) -> Response:
            state = await api_state(request)
            caller = await authorize_tenant(request, request.path_params["tenant_id"], state)
            return await endpoint(**{request_name: request, caller_name: caller, state_name: state})

        return handler
