"""``GET /healthz`` (no auth): liveness and readiness in one document."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import APIRouter
from starlette.responses import Response

from forecast_hub.api import schemas
from forecast_hub.api.auth import State
from forecast_hub.api.responses import json_response
from forecast_hub.api.stores import resolved

router = APIRouter()
T = TypeVar("T")

# Each check of a store or warehouse gets this long; both run at once, so
# /healthz answers within it even when a server is gone and its connector
# is still retrying.
CHECK_WITHIN_S = 10.0


async def _within(check: Awaitable[T], otherwise: T) -> T:
    try:
        return await asyncio.wait_for(check, CHECK_WITHIN_S)
    except TimeoutError:
        return otherwise


@router.get("/healthz", response_model=schemas.Health, responses={503: {"model": schemas.Health}})
async def healthz(state: State) -> Response:
    """Liveness and readiness: storage, the draft's age, the cache, pending persistence."""
    generation = state.cache.generation
    late = f"the warehouse did not answer within {CHECK_WITHIN_S:g} s"
    draft: dict[str, Any] | None = None
    reason = None
    if state.warehouse is not None:
        reachable, (draft, reason) = await asyncio.gather(
            _within(resolved(state.store.reachable()), False),
            _within(state.warehouse.draft_health(), (None, late)),
        )
    else:
        reachable = await _within(resolved(state.store.reachable()), False)
    writer = state.store.writer_alive
    # Only the embedded store with an object store can be overtaken.
    fenced = bool(getattr(state.store, "fenced", False))
    if state.warehouse is None and generation is not None:
        built_at = generation.publication.built_at
        draft = {
            "build_id": generation.build_id,
            "built_at": built_at,
            "age_seconds": round((dt.datetime.now(dt.UTC) - built_at).total_seconds(), 3),
            "rows": generation.publication.draft_rows,
        }
    ready = reachable and writer and draft is not None and not fenced
    payload: dict[str, Any] = {
        "status": "ready" if ready else "not_ready",
        "backend": state.backend.name,
        "storage": {
            "edits_store": "reachable" if reachable else "unreachable",
            "writer": "running" if writer else "stopped",
        },
        "draft": draft,
        "cache": state.cache.summary(),
        "persistence": persistence(state),
    }
    if fenced:
        payload["reason"] = "fenced: another instance writes to the object store"
    elif draft is None:
        payload["reason"] = reason or state.cache.error or "no forecast draft published yet"
    return json_response(payload, 200 if ready else 503)


ACKNOWLEDGED_AFTER = {
    "local": "commit with synchronous=FULL",
    "sync": "upload of the commit's change object to object storage",
    "async": "commit with synchronous=FULL; persisted to object storage in batches",
}


def persistence(state: State) -> dict[str, Any]:
    """Pending requests and the last commit; with an object store, its persistence state.

    The embedded store says how it persists (local, sync or async); the other
    backends say when their database acknowledges a write."""
    store = state.store
    object_store = getattr(store, "persistence", None)
    if object_store is None and state.backend.name != "embedded":
        mode, acknowledged_after = state.backend.name, state.backend.acknowledged_after
    else:
        mode = object_store.mode if object_store is not None else "local"
        acknowledged_after = ACKNOWLEDGED_AFTER.get(mode, mode)
    section: dict[str, Any] = {
        "mode": mode,
        "pending_requests": store.pending,
        "last_commit_at": store.last_commit_at,
        "acknowledged_after": acknowledged_after,
    }
    if object_store is not None:
        section.update(object_store.health())
    return section
