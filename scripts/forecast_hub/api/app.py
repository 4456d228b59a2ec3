"""The ASGI app of api.md: the merged forecast, edits, the edit log, preferences.

Reads come from memory: the published draft (``snapshot.py``) merged with
the edits cache (``edits.py``). Writes go through the store's group commit
and are acknowledged only once durable. The app never opens the warehouse
file, so a dbt build can run at any time; a new published build is picked
up by polling the CURRENT pointer.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import bisect
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from forecast_hub.api import schemas
from forecast_hub.api.config import DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS, ApiConfig
from forecast_hub.api.edits import (
    Applied,
    Conflict,
    EditsStore,
    NothingToRemove,
    PutEdits,
    RemoveEdit,
    Result,
    SetPrefs,
    StorageUnavailable,
)
from forecast_hub.api.errors import (
    ApiError,
    bad_request,
    error_response,
    forbidden,
    not_found,
    not_ready,
    too_large,
    unauthorized,
)
from forecast_hub.api.merge import merge_series
from forecast_hub.api.snapshot import DraftSnapshot, current_build_id, load_snapshot
from forecast_hub.api.tokens import Principal, TokenRegistry
from forecast_hub.api.validation import (
    MAX_SKU_CHARS,
    check_path_date,
    parse_edits,
    parse_limit,
    parse_prefs,
    parse_query_bool,
    parse_query_date,
    parse_timestamp_param,
)

log = logging.getLogger("forecast_hub.api")
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


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ApiState:
    """Everything a request needs: tokens, the current draft, the edits store."""

    def __init__(self, config: ApiConfig) -> None:
        self.config = config
        self.tokens = TokenRegistry(config.tokens_file)
        self.store = EditsStore(config.edits_store)
        self.snapshot: DraftSnapshot | None = None
        self.snapshot_error: str | None = None

    def authorize(self, request: Request, tenant_id: str) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized()
        principal = self.tokens.lookup(token.strip())
        if principal is None:
            raise unauthorized()
        if principal.tenant_id != tenant_id:
            raise forbidden()
        return principal

    def require_snapshot(self) -> DraftSnapshot:
        if self.snapshot is None:
            raise not_ready(
                "no forecast draft has been published yet: run `dbt build` on this data folder"
            )
        return self.snapshot

    def refresh_snapshot(self) -> bool:
        """Load the build CURRENT points at, if it is not the one served; True if switched."""
        build_id = current_build_id(self.config.serving_dir)
        if build_id is None or (self.snapshot and self.snapshot.build_id == build_id):
            return False
        try:
            snapshot = load_snapshot(self.config.serving_dir, build_id)
        except (OSError, ValueError, KeyError) as error:
            self.snapshot_error = f"could not load build {build_id}: {error}"
            log.warning(self.snapshot_error)
            return False
        self.snapshot = snapshot
        self.snapshot_error = None
        log.info("serving forecast draft %s", build_id)
        return True

    async def watch_snapshots(self) -> None:
        while True:
            await asyncio.sleep(self.config.snapshot_poll_seconds)
            build_id = current_build_id(self.config.serving_dir)
            if build_id and (self.snapshot is None or self.snapshot.build_id != build_id):
                await asyncio.to_thread(self.refresh_snapshot)

    def freshness_headers(self, snapshot: DraftSnapshot, tenant_id: str) -> dict[str, str]:
        edits_as_of = self.store.edits_as_of.get(tenant_id, self.store.opened_at)
        return {
            "X-Forecast-Built-At": _iso(snapshot.publication.built_at),
            "X-Edits-As-Of": _iso(edits_as_of),
            "X-Data-Source": f"draft=serving/{snapshot.build_id}; edits=edits/edits.sqlite",
        }

    async def submit(self, job: PutEdits | RemoveEdit | SetPrefs) -> Result:
        try:
            return await self.store.submit(job)
        except StorageUnavailable as error:
            raise not_ready(str(error)) from None


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed the limit."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise bad_request("Content-Length is not a number")
        if int(declared) > limit:
            raise too_large(f"the body is larger than {limit} bytes")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def encode_cursor(*key: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    try:
        key = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise bad_request("cursor is not one this API gave") from None
    if not isinstance(key, list) or len(key) != parts or not all(isinstance(k, str) for k in key):
        raise bad_request("cursor is not one this API gave")
    return key


def _forecast_page(
    state: ApiState,
    snapshot: DraftSnapshot,
    tenant_id: str,
    sku_ids: list[str] | None,
    start: dt.date | None,
    end: dt.date | None,
    show_manual: bool,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    draft = snapshot.tenant(tenant_id)
    edits = state.store.tenant_edits(tenant_id)
    if sku_ids is None:
        order = draft.sku_order
    else:
        order = sorted({sku for sku in sku_ids if sku in draft.series})
    after_sku, after_date = None, None
    if cursor is not None:
        after_sku, after_text = decode_cursor(cursor, 2)
        after_date = check_path_date(after_text)
    if after_sku is not None:
        order = order[bisect.bisect_left(order, after_sku) :]
    rows: list[dict[str, Any]] = []
    for sku_id in order:
        series = draft.series[sku_id]
        low = start
        if sku_id == after_sku and after_date is not None:
            following = after_date + dt.timedelta(days=1)
            low = following if low is None or low < following else low
        take = series.span(low, end)[: limit + 1 - len(rows)]
        rows.extend(merge_series(sku_id, series, edits, show_manual, take))
        if len(rows) > limit:
            break
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        return rows, encode_cursor(last["sku_id"], last["forecast_date"].isoformat())
    return rows, None


def _prefs_body(state: ApiState, principal: Principal) -> dict[str, Any]:
    store = state.store
    stored = store.stored_show_manual(principal.tenant_id, principal.user_id)
    return {
        "tenant_id": principal.tenant_id,
        "user_id": principal.user_id,
        "show_manual": store.show_manual(principal.tenant_id, principal.user_id),
        "stored": {"show_manual": stored},
        "tenant_defaults": {"show_manual": store.tenant_show_manual(principal.tenant_id)},
    }


def create_app(config: ApiConfig) -> FastAPI:
    """The app over one data folder; the edits store opens when the server starts."""
    state = ApiState(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.store.open()
        state.refresh_snapshot()
        watcher = asyncio.create_task(state.watch_snapshots())
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            state.store.close()

    app = FastAPI(
        title="forecast-hub API",
        version="1",
        summary="The merged forecast (draft and planners' edits), edits, their log, preferences.",
        lifespan=lifespan,
    )
    app.state.api = state
    _install_error_handlers(app)
    _install_openapi(app)
    errors = schemas.ERRORS

    @app.get("/healthz", response_model=schemas.Health, responses={503: {"model": schemas.Health}})
    async def healthz() -> Response:
        """Liveness and readiness: storage, the draft's age, pending persistence."""
        snapshot = state.snapshot
        reachable = state.store.reachable()
        writer = state.store.writer_alive
        ready = reachable and writer and snapshot is not None
        draft: dict[str, Any] | None = None
        if snapshot is not None:
            built_at = snapshot.publication.built_at
            draft = {
                "build_id": snapshot.build_id,
                "built_at": built_at,
                "age_seconds": round((dt.datetime.now(dt.UTC) - built_at).total_seconds(), 3),
                "rows": snapshot.publication.draft_rows,
            }
        payload = {
            "status": "ready" if ready else "not_ready",
            "storage": {
                "edits_store": "reachable" if reachable else "unreachable",
                "writer": "running" if writer else "stopped",
            },
            "draft": draft,
            "persistence": {
                "pending_requests": state.store.pending,
                "last_commit_at": state.store.last_commit_at,
                "acknowledged_after": "commit with synchronous=FULL",
            },
        }
        if snapshot is None:
            payload["reason"] = state.snapshot_error or "no forecast draft published yet"
        return json_response(payload, 200 if ready else 503)

    @app.get(
        "/v1/tenants/{tenant_id}/forecast",
        response_model=schemas.ForecastPage,
        responses=errors,
    )
    async def read_forecast(
        request: Request,
        tenant_id: str,
        sku_id: Annotated[
            list[str] | None, Query(description="Repeatable; none = all SKUs.")
        ] = None,
        start: Annotated[str | None, Query(description="First period date (inclusive).")] = None,
        end: Annotated[str | None, Query(description="Last period date (inclusive).")] = None,
        show_manual: Annotated[
            str | None, Query(description="true or false; absent = the user's stored preference.")
        ] = None,
        limit: Annotated[
            str | None, Query(description="Rows per page, 1 to 10000 (default 1000).")
        ] = None,
        cursor: Annotated[
            str | None, Query(description="next_cursor of the previous page.")
        ] = None,
    ) -> Response:
        """The merged forecast: the draft with the planners' edits."""
        principal = state.authorize(request, tenant_id)
        snapshot = state.require_snapshot()
        first = parse_query_date("start", start)
        last = parse_query_date("end", end)
        if first and last and first > last:
            raise bad_request("start is after end")
        override = parse_query_bool("show_manual", show_manual)
        page_size = parse_limit(limit, DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS)
        shown = (
            override
            if override is not None
            else state.store.show_manual(tenant_id, principal.user_id)
        )
        rows, next_cursor = _forecast_page(
            state, snapshot, tenant_id, sku_id, first, last, shown, page_size, cursor
        )
        return json_response(
            {
                "tenant_id": tenant_id,
                "show_manual": shown,
                "rows": rows,
                "next_cursor": next_cursor,
            },
            headers=state.freshness_headers(snapshot, tenant_id),
        )

    @app.put(
        "/v1/tenants/{tenant_id}/edits",
        response_model=schemas.EditsApplied,
        responses={**errors, 409: {"model": schemas.ErrorBody, "description": "Version conflict."}},
        openapi_extra=schemas.request_body(schemas.EditsBody),
    )
    async def put_edits(request: Request, tenant_id: str) -> Response:
        """Upsert 1 to 10000 edits, all or nothing; each answer carries its new version."""
        principal = state.authorize(request, tenant_id)
        snapshot = state.require_snapshot()
        body = await read_body(request, config.max_body_bytes)
        edits = parse_edits(body, config.max_edits, snapshot.tenant(tenant_id))
        result = await state.submit(PutEdits(tenant_id, principal.user_id, tuple(edits)))
        if isinstance(result, Conflict):
            conflicts = [
                {
                    "index": index,
                    "sku_id": edit.sku_id,
                    "forecast_date": edit.forecast_date,
                    "expected_version": edit.expected_version,
                    "current": current.to_json() if current else None,
                }
                for index, edit, current in result.conflicts
            ]
            raise ApiError(
                409,
                "version_conflict",
                f"{len(conflicts)} edits do not match the stored version; none was applied",
                {"conflicts": conflicts},
            )
        assert isinstance(result, Applied)
        return json_response(
            {
                "edits": [
                    {
                        "sku_id": edit.sku_id,
                        "forecast_date": edit.forecast_date,
                        "qty": stored.manual_qty,
                        "version": stored.version,
                        "edited_at": stored.edited_at,
                    }
                    for edit, stored in result.edits
                ]
            }
        )

    @app.delete(
        "/v1/tenants/{tenant_id}/edits/{sku_id}/{forecast_date}",
        status_code=204,
        responses={**errors, 404: {"model": schemas.ErrorBody, "description": "No such edit."}},
    )
    async def remove_edit(
        request: Request, tenant_id: str, sku_id: str, forecast_date: str
    ) -> Response:
        """Remove an edit: the draft shows again."""
        principal = state.authorize(request, tenant_id)
        date = check_path_date(forecast_date)
        if len(sku_id) > MAX_SKU_CHARS:
            raise not_found("there is no edit for this SKU and date")
        result = await state.submit(RemoveEdit(tenant_id, principal.user_id, sku_id, date))
        if isinstance(result, NothingToRemove):
            raise not_found("there is no edit for this SKU and date")
        return Response(status_code=204)

    @app.get(
        "/v1/tenants/{tenant_id}/edits/log",
        response_model=schemas.LogPage,
        responses=errors,
    )
    async def read_log(
        request: Request,
        tenant_id: str,
        since: Annotated[str | None, Query(description="ISO 8601; entries at or after it.")] = None,
        limit: Annotated[str | None, Query(description="Entries per page, 1 to 10000.")] = None,
        cursor: Annotated[
            str | None, Query(description="next_cursor of the previous page.")
        ] = None,
    ) -> Response:
        """The append-only history of edits and removals: who, when, old and new, why."""
        state.authorize(request, tenant_id)
        moment = parse_timestamp_param("since", since)
        page_size = parse_limit(limit, DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS)
        after = 0
        if cursor is not None:
            (after_text,) = decode_cursor(cursor, 1)
            if not after_text.isdigit() or len(after_text) > 18:
                raise bad_request("cursor is not one this API gave")
            after = int(after_text)
        entries = state.store.read_log(tenant_id, moment, after, page_size)
        next_cursor = encode_cursor(str(entries[-1].log_id)) if len(entries) == page_size else None
        return json_response(
            {"entries": [entry.to_json() for entry in entries], "next_cursor": next_cursor}
        )

    @app.get("/v1/tenants/{tenant_id}/prefs", response_model=schemas.Prefs, responses=errors)
    async def read_prefs(request: Request, tenant_id: str) -> Response:
        """The calling user's preferences over the tenant's defaults."""
        principal = state.authorize(request, tenant_id)
        return json_response(_prefs_body(state, principal))

    @app.put(
        "/v1/tenants/{tenant_id}/prefs",
        response_model=schemas.Prefs,
        responses=errors,
        openapi_extra=schemas.request_body(schemas.PrefsBody),
    )
    async def write_prefs(request: Request, tenant_id: str) -> Response:
        """Store the calling user's preferences; null returns to the tenant's default."""
        principal = state.authorize(request, tenant_id)
        body = await read_body(request, config.max_body_bytes)
        show_manual = parse_prefs(body)
        await state.submit(SetPrefs(tenant_id, principal.user_id, show_manual))
        return json_response(_prefs_body(state, principal))

    return app


def _install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        return error.response()

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        codes = {404: "not_found", 405: "method_not_allowed"}
        message = "no such resource" if error.status_code == 404 else str(error.detail)
        return error_response(
            error.status_code,
            codes.get(error.status_code, "http_error"),
            message,
            headers=getattr(error, "headers", None),
        )

    async def validation_error(request: Request, error: Exception) -> Response:
        return error_response(400, "bad_request", "malformed request parameters")

    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal", "internal error")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected)


def _install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            document.setdefault("components", {}).setdefault("schemas", {}).update(
                schemas.body_components()
            )
            document["components"]["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            document["security"] = [{"bearer": []}]
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
