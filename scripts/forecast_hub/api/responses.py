"""Answers as the API writes them: JSON by orjson, timestamps in UTC with a Z."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from starlette.responses import Response

JSON_OPTIONS = orjson.OPT_UTC_Z


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(payload, option=JSON_OPTIONS),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def iso_timestamp(moment: dt.datetime) -> str:
    """Microseconds and a Z, as the freshness headers carry them."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
