"""The shapes of api.md, for the OpenAPI document served at /docs.

Requests are checked by ``validation.py`` (so each bad edit is named with
every reason), and responses are written directly as JSON; these models
only describe them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field


class ErrorDetail(BaseModel):
    code: str = Field(examples=["invalid_content"])
    message: str
    details: Any | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class ForecastRow(BaseModel):
    sku_id: str
    forecast_date: dt.date
    draft_qty: float
    manual_qty: float | None = Field(description="Null where not edited.")
    forecast_qty: float = Field(
        description="The manual value where one exists and manual edits are shown, else the draft."
    )
    is_manual: bool = Field(description="forecast_qty is the planner's value.")
    method: str
    edited_by: str | None
    edited_at: dt.datetime | None
    lower_qty: float | None = Field(
        default=None,
        description="The draft's prediction interval, low end; null where it has none.",
    )
    upper_qty: float | None = Field(
        default=None,
        description="The draft's prediction interval, high end; null where it has none.",
    )


class ForecastPage(BaseModel):
    tenant_id: str
    show_manual: bool = Field(description="The preference applied to forecast_qty.")
    rows: list[ForecastRow]
    next_cursor: str | None = Field(
        description="Pass as cursor for the next page; null at the end."
    )


class EditIn(BaseModel):
    sku_id: str
    forecast_date: dt.date
    qty: float = Field(ge=0, le=1e9)
    reason: str | None = Field(default=None, max_length=500)
    expected_version: int | None = Field(
        default=None,
        ge=0,
        description="Apply only if the stored version is this one (0: no edit yet).",
    )


class EditsBody(BaseModel):
    edits: list[EditIn] = Field(min_length=1, max_length=10_000)


class EditOut(BaseModel):
    sku_id: str
    forecast_date: dt.date
    qty: float
    version: int
    edited_at: dt.datetime


class EditsApplied(BaseModel):
    edits: list[EditOut]


class LogEntryOut(BaseModel):
    log_id: int
    sku_id: str
    forecast_date: dt.date
    action: Literal["upsert", "remove"]
    old_qty: float | None
    new_qty: float | None
    reason: str | None
    edited_by: str
    edited_at: dt.datetime
    version: int


class LogPage(BaseModel):
    entries: list[LogEntryOut]
    next_cursor: str | None


class SkuRow(BaseModel):
    """A forecast SKU; the tenant's hot attribute columns come beside these fields."""

    model_config = ConfigDict(extra="allow")

    sku_id: str
    sku_name: str | None
    category: str | None
    method: Literal["top3_median", "short_history_mean"]
    members: list[str] | None = Field(
        description="The three methods top3_median combines, in rank order; null otherwise."
    )
    wape: float | None = Field(
        description="The draft method's nested window-1 WAPE; null where not scored."
    )
    edit_count: int = Field(description="Live edits inside the SKU's forecast horizon.")


class SkuPage(BaseModel):
    tenant_id: str
    grain: str | None = Field(description="The tenant's period: day, week or month.")
    hot_attributes: list[str] = Field(description="The attribute columns each row carries.")
    categories: list[str] = Field(description="Every category among the forecast SKUs.")
    rows: list[SkuRow]
    next_cursor: str | None


class HistoryRow(BaseModel):
    period_date: dt.date = Field(description="First date of the period.")
    qty: float = Field(description="Units sold in the period; 0 where none.")


class HistoryPage(BaseModel):
    tenant_id: str
    sku_id: str
    grain: str | None
    rows: list[HistoryRow]
    next_cursor: str | None


class AccuracyRow(BaseModel):
    """Scores of one method: the tenant's roll-up, or one series' with its ranks."""

    model_config = ConfigDict(extra="allow")

    method: str
    wape: float | None
    mae: float | None
    bias: float | None


class AccuracyPage(BaseModel):
    tenant_id: str
    sku_id: str | None = Field(description="The series asked for; null for the roll-up.")
    rows: list[AccuracyRow]


class PrefsBody(BaseModel):
    show_manual: bool | None = Field(description="null returns to the tenant's default.")


class StoredPrefs(BaseModel):
    show_manual: bool | None


class Prefs(BaseModel):
    tenant_id: str
    user_id: str
    show_manual: bool = Field(description="In effect: the user's, else the tenant's, else true.")
    stored: StoredPrefs = Field(description="What the user set; null inherits.")
    tenant_defaults: StoredPrefs


class Health(BaseModel):
    status: Literal["ready", "not_ready"]
    backend: Literal["embedded", "postgresql", "emulator", "snowflake"]
    storage: dict[str, Any]
    draft: dict[str, Any] | None
    cache: dict[str, Any] = Field(
        description="mode, generation, build_id, tenants_held, rows, bytes, budget_bytes,"
        " hit_rate, error."
    )
    persistence: dict[str, Any]


BODY_MODELS: tuple[type[BaseModel], ...] = (EditsBody, PrefsBody)


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    """The request body of a route that reads its body itself, by reference."""
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": reference}}}
    }


def body_components() -> dict[str, Any]:
    """Component schemas of the request bodies, for the OpenAPI document."""
    components: dict[str, Any] = {}
    for model in BODY_MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    return components


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Malformed request.",
        401: "No or unknown token.",
        403: "The token belongs to another tenant.",
        413: "Body too large.",
        422: "Invalid content; details name each bad edit.",
        503: "Not ready.",
    }.items()
}


def install_openapi(app: FastAPI) -> None:
    """Serve the document with the request bodies the routes read themselves, and bearer auth."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            document.setdefault("components", {}).setdefault("schemas", {}).update(
                body_components()
            )
            document["components"]["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            document["security"] = [{"bearer": []}]
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
