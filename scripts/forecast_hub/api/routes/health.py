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
    """Liveness and readiness: storage, the draft's age, pending persistence."""
    snapshot = state.snapshot
    reachable = state.store.reachable()
    writer = state.store.writer_alive
    fenced = state.store.fenced
    ready = reachable and writer and snapshot is not None and not fenced
    draft: dict[str, Any] | None = None
    if snapshot is not None:
        built_at = snapshot.publication.built_at
        draft = {
            "build_id": snapshot.build_id,
            "built_at": built_at,
            "age_seconds": round((dt.datetime.now(dt.UTC) - built_at).total_seconds(), 3),
            "rows": snapshot.publication.draft_rows,
        }
    payload: dict[str, Any] = {
        "status": "ready" if ready else "not_ready",
        "storage": {
            "edits_store": "reachable" if reachable else "unreachable",
            "writer": "running" if writer else "stopped",
        },
        "draft": draft,
        "persistence": persistence(state),
    }
    if fenced:
        payload["reason"] = "fenced: another instance writes to the object store"
    elif snapshot is None:
        payload["reason"] = state.snapshot_error or "no forecast draft published yet"
    return json_response(payload, 200 if ready else 503)


ACKNOWLEDGED_AFTER = {
    "local": "commit with synchronous=FULL",
    "sync": "upload of the commit's change object to object storage",
    "async": "commit with synchronous=FULL; persisted to object storage in batches",
}


def persistence(state: State) -> dict[str, Any]:
    """Pending requests and the last commit; with an object store, its persistence state."""
    store = state.store
    mode = store.persistence.mode if store.persistence is not None else "local"
    section: dict[str, Any] = {
        "mode": mode,
        "pending_requests": store.pending,
        "last_commit_at": store.last_commit_at,
        "acknowledged_after": ACKNOWLEDGED_AFTER.get(mode, mode),
    }
    if store.persistence is not None:
        section.update(store.persistence.health())
    return section
