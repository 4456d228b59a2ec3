"""``GET /metrics`` (no auth): the Prometheus text format; bind it to a private interface."""

from __future__ import annotations

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from forecast_hub.api.auth import State

router = APIRouter()


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(state: State) -> Response:
    """Request counts and latencies per route and status, and the forecast cache's statistics."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
