"""Errors as the API contract shows them: ``{"error": {"code", "message", "details"?}}``.

Every failure a client can cause is an ``ApiError`` with its status, so a
bad request is never answered with a 500, and a message never carries
another tenant's data or a stack trace. ``install_error_handlers`` is the
one place that turns an exception into an answer: the routes only raise.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from forecast_hub.api.persistence import Fenced, StorageUnavailable

log = logging.getLogger("forecast_hub.api")


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


async def _api_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ApiError)
    return error.response()


async def _storage_unavailable(request: Request, error: Exception) -> Response:
    """The store could not commit: nothing of the request was applied, try again later."""
    return not_ready(str(error)).response()


async def _fenced(request: Request, error: Exception) -> Response:
    """Another instance writes to the object store now: this one takes no writes."""
    return error_response(503, "fenced", str(error))


async def _http_error(request: Request, error: Exception) -> Response:
    """Starlette's own answers (no such route, method not allowed) in the contract's shape."""
    assert isinstance(error, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    message = "no such resource" if error.status_code == 404 else str(error.detail)
    return error_response(
        error.status_code,
        codes.get(error.status_code, "http_error"),
        message,
        headers=getattr(error, "headers", None),
    )


async def _validation_error(request: Request, error: Exception) -> Response:
    return error_response(400, "bad_request", "malformed request parameters")


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal", "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StorageUnavailable, _storage_unavailable)
    app.add_exception_handler(Fenced, _fenced)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
