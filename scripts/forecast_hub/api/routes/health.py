"""``GET /healthz`` (no auth): liveness and readiness in one document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from forecast_hub.api import schemas
from forecast_hub.api.auth import State
from forecast_hub.api.responses import json_response
from forecast_hub.api.stores import resolved

router = APIRouter()


@router.get("/healthz", response_model=schemas.Health, responses={503: {"model": schemas.Health}})
async def healthz(state: State) -> Response:
    """Liveness and readiness: storage, the draft's age, pending persistence."""
    snapshot = state.snapshot
    reachable = await resolved(state.store.reachable())
    writer = state.store.writer_alive
    draft: dict[str, Any] | None = None
    reason = None
    if state.warehouse is not None:
        draft, reason = await state.warehouse.draft_health()
    elif snapshot is not None:
        built_at = snapshot.publication.built_at
        draft = {
            "build_id": snapshot.build_id,
            "built_at": built_at,
            "age_seconds": round((dt.datetime.now(dt.UTC) - built_at).total_seconds(), 3),
            "rows": snapshot.publication.draft_rows,
        }
    ready = reachable and writer and draft is not None
    payload: dict[str, Any] = {
        "status": "ready" if ready else "not_ready",
        "backend": state.backend.name,
        "storage": {
            "edits_store": "reachable" if reachable else "unreachable",
            "writer": "running" if writer else "stopped",
        },
        "draft": draft,
        "persistence": {
            "pending_requests": state.store.pending,
            "last_commit_at": state.store.last_commit_at,
            "acknowledged_after": state.backend.acknowledged_after,
        },
    }
    if draft is None:
        payload["reason"] = reason or state.snapshot_error or "no forecast draft published yet"
    return json_response(payload, 200 if ready else 503)
