"""Errors as the API contract shows them: ``{"error": {"code", "message", "details"?}}``.

Every failure a client can cause is an ``ApiError`` with its status, so a
bad request is never answered with a 500, and a message never carries
another tenant's data or a stack trace.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: Any | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def response(self) -> Response:
        return error_response(self.status, self.code, self.message, self.details)


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return Response(
        orjson.dumps({"error": error}, option=orjson.OPT_UTC_Z),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def bad_request(message: str, details: Any | None = None) -> ApiError:
    return ApiError(400, "bad_request", message, details)


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "a valid bearer token is required")


def forbidden() -> ApiError:
    return ApiError(403, "forbidden", "this token does not give access to this tenant")


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def too_large(message: str) -> ApiError:
    return ApiError(413, "payload_too_large", message)


def invalid(message: str, details: Any | None = None) -> ApiError:
    return ApiError(422, "invalid_content", message, details)


def not_ready(message: str) -> ApiError:
    return ApiError(503, "not_ready", message)
