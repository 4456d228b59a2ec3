"""``GET /healthz`` (no auth): liveness and readiness in one document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from forecast_hub.api import schemas
from forecast_hub.api.auth import State
from forecast_hub.api.responses import json_response

router = APIRouter()


@router.get("/healthz", response_model=schemas.Health, responses={503: {"model": schemas.Health}})
async def healthz(state: State) -> Response:
    """Liveness and readiness: storage, the draft's age, the cache, pending persistence."""
    generation = state.cache.generation
    reachable = state.store.reachable()
    writer = state.store.writer_alive
    ready = reachable and writer and generation is not None
    draft: dict[str, Any] | None = None
    if generation is not None:
        built_at = generation.publication.built_at
        draft = {
            "build_id": generation.build_id,
            "built_at": built_at,
            "age_seconds": round((dt.datetime.now(dt.UTC) - built_at).total_seconds(), 3),
            "rows": generation.publication.draft_rows,
        }
    payload: dict[str, Any] = {
        "status": "ready" if ready else "not_ready",
        "storage": {
            "edits_store": "reachable" if reachable else "unreachable",
            "writer": "running" if writer else "stopped",
        },
        "draft": draft,
        "cache": state.cache.summary(),
        "persistence": {
            "pending_requests": state.store.pending,
            "last_commit_at": state.store.last_commit_at,
            "acknowledged_after": "commit with synchronous=FULL",
        },
    }
    if generation is None:
        payload["reason"] = state.cache.error or "no forecast draft published yet"
    return json_response(payload, 200 if ready else 503)
