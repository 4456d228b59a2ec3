"""Request bodies and parameters, checked by hand so every problem is named.

A body that is not JSON is a ``400``; JSON of the wrong shape or with wrong
values is a ``422`` whose details list each bad edit by its position, with
every reason at once. Values are only ever bound as query parameters, so a
string shaped like SQL is just an unknown SKU or a reason like any other.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any, Protocol

from starlette.requests import Request

from forecast_hub.api.edits import EditRequest
from forecast_hub.api.errors import bad_request, invalid, too_large

MAX_QTY = 1e9
MAX_REASON_CHARS = 500
MAX_SKU_CHARS = 200
MAX_VERSION = 2**63 - 1
EDIT_FIELDS = frozenset({"sku_id", "forecast_date", "qty", "reason", "expected_version"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class DraftLookup(Protocol):
    """What edits are checked against: the tenant's SKUs and each one's horizon."""

    def knows_sku(self, sku_id: str) -> bool: ...

    def has_date(self, sku_id: str, date: dt.date) -> bool: ...


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


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> Any:
    """Strict JSON: NaN and Infinity literals are malformed, huge numbers are values."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise bad_request(f"the body is not valid JSON: {error}") from None


def _text_problem(value: str) -> str | None:
    """Text SQLite and every client can store: UTF-8 without NUL."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    if "\x00" in value:
        return "contains a NUL character"
    return None


def parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _check_edit(raw: Any, draft: DraftLookup) -> tuple[EditRequest | None, list[dict[str, str]]]:
    """One edit: every problem with it, or the edit if there is none."""
    problems: list[dict[str, str]] = []

    def problem(field: str, code: str, message: str) -> None:
        problems.append({"field": field, "code": code, "message": message})

    if not isinstance(raw, dict):
        problem("edit", "not_an_object", "an edit is an object")
        return None, problems
    for unknown in sorted(set(raw) - EDIT_FIELDS):
        problem(unknown[:50], "unknown_field", "not a field of an edit")

    sku_id = raw.get("sku_id")
    known_sku: str | None = None
    if not isinstance(sku_id, str) or not sku_id:
        problem("sku_id", "required", "sku_id is a non-empty string")
    elif not draft.knows_sku(sku_id):
        problem("sku_id", "unknown_sku", "no such SKU for this tenant")
    else:
        known_sku = sku_id

    date = parse_date(raw.get("forecast_date"))
    if date is None:
        problem("forecast_date", "not_a_date", "forecast_date is a date YYYY-MM-DD")
    elif known_sku is not None and not draft.has_date(known_sku, date):
        problem("forecast_date", "not_in_horizon", "not a date of this SKU's forecast horizon")

    qty = raw.get("qty")
    if isinstance(qty, bool) or not isinstance(qty, int | float):
        problem("qty", "not_a_number", "qty is a number")
    elif isinstance(qty, float) and not math.isfinite(qty):
        problem("qty", "not_finite", "qty is a finite number")
    elif qty < 0:
        problem("qty", "negative", "qty is not negative")
    elif qty > MAX_QTY:
        problem("qty", "too_large", f"qty is at most {MAX_QTY:.0e}")

    reason = raw.get("reason")
    if reason is not None:
        if not isinstance(reason, str):
            problem("reason", "not_a_string", "reason is a string")
        elif len(reason) > MAX_REASON_CHARS:
            problem("reason", "too_long", f"reason is at most {MAX_REASON_CHARS} characters")
        elif text := _text_problem(reason):
            problem("reason", "not_text", f"reason {text}")

    expected = raw.get("expected_version")
    if expected is not None and (
        isinstance(expected, bool)
        or not isinstance(expected, int)
        or not 0 <= expected <= MAX_VERSION
    ):
        problem("expected_version", "not_a_version", "expected_version is an integer >= 0")

    if problems:
        return None, problems
    assert known_sku is not None and date is not None and isinstance(qty, int | float)
    return EditRequest(known_sku, date, float(qty), reason, expected), problems


def parse_edits(body: bytes, max_edits: int, draft: DraftLookup) -> list[EditRequest]:
    """The edits of a PUT, or an ApiError naming every bad one."""
    document = parse_json(body)
    if not isinstance(document, dict) or not isinstance(document.get("edits"), list):
        raise invalid('the body is {"edits": [...]}')
    unknown = sorted(set(document) - {"edits"})
    if unknown:
        raise invalid(f"unknown fields in the body: {', '.join(u[:50] for u in unknown[:5])}")
    raw_edits = document["edits"]
    if not raw_edits:
        raise invalid("at least one edit is required")
    if len(raw_edits) > max_edits:
        raise too_large(f"at most {max_edits} edits per request, got {len(raw_edits)}")

    edits: list[EditRequest] = []
    bad: list[dict[str, Any]] = []
    seen: set[tuple[str, dt.date]] = set()
    for index, raw in enumerate(raw_edits):
        edit, problems = _check_edit(raw, draft)
        if edit is not None:
            key = (edit.sku_id, edit.forecast_date)
            if key in seen:
                problems.append(
                    {
                        "field": "forecast_date",
                        "code": "duplicate",
                        "message": "the same SKU and date twice in one request",
                    }
                )
            seen.add(key)
        if problems:
            entry: dict[str, Any] = {"index": index, "problems": problems}
            if isinstance(raw, dict):
                for name in ("sku_id", "forecast_date"):
                    if isinstance(raw.get(name), str):
                        entry[name] = raw[name][:MAX_SKU_CHARS]
            bad.append(entry)
        elif edit is not None:
            edits.append(edit)
    if bad:
        raise invalid(f"{len(bad)} of {len(raw_edits)} edits are invalid; none was applied", bad)
    return edits


def requested_skus(body: bytes, max_edits: int) -> list[str]:
    """The distinct SKU ids a PUT's edits name, to look their drafts up before checking.

    Only what ``parse_edits`` could accept is named: strings of at most
    MAX_SKU_CHARS, of a body of at most ``max_edits`` edits; anything else is
    left for ``parse_edits`` to refuse with its reasons.
    """
    document = parse_json(body)
    raw_edits = document.get("edits") if isinstance(document, dict) else None
    if not isinstance(raw_edits, list) or len(raw_edits) > max_edits:
        return []
    skus = {
        raw["sku_id"]
        for raw in raw_edits
        if isinstance(raw, dict)
        and isinstance(raw.get("sku_id"), str)
        and 0 < len(raw["sku_id"]) <= MAX_SKU_CHARS
    }
    return sorted(skus)


def parse_prefs(body: bytes) -> bool | None:
    """``{"show_manual": true | false | null}``; null returns to the tenant's default."""
    document = parse_json(body)
    if not isinstance(document, dict):
        raise invalid('the body is {"show_manual": true | false | null}')
    unknown = sorted(set(document) - {"show_manual"})
    problems = [
        {"field": name[:50], "code": "unknown_field", "message": "not a preference"}
        for name in unknown
    ]
    show_manual = document.get("show_manual")
    if "show_manual" not in document:
        problems.append({"field": "show_manual", "code": "required", "message": "missing"})
    elif show_manual is not None and not isinstance(show_manual, bool):
        problems.append(
            {"field": "show_manual", "code": "not_a_boolean", "message": "true, false or null"}
        )
    if problems:
        raise invalid("invalid preferences", problems)
    return show_manual if isinstance(show_manual, bool) else None


def parse_query_date(name: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    date = parse_date(value)
    if date is None:
        raise bad_request(f"{name} is a date YYYY-MM-DD")
    return date


def parse_query_text(name: str, value: str | None) -> str | None:
    """A text parameter: None when absent or empty, 400 when too long or not text."""
    if value is None or value == "":
        return None
    if len(value) > MAX_SKU_CHARS:
        raise bad_request(f"{name} is at most {MAX_SKU_CHARS} characters")
    if problem := _text_problem(value):
        raise bad_request(f"{name} {problem}")
    return value


def parse_query_bool(name: str, value: str | None) -> bool | None:
    if value is None:
        return None
    if value in ("true", "false"):
        return value == "true"
    raise bad_request(f"{name} is true or false")


def parse_limit(value: str | None, default: int, maximum: int) -> int:
    if value is None:
        return default
    if not (value.isascii() and value.isdigit() and len(value) <= 6) or not (
        1 <= int(value) <= maximum
    ):
        raise bad_request(f"limit is an integer from 1 to {maximum}")
    return int(value)


def parse_timestamp_param(name: str, value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{name} is an ISO 8601 timestamp") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def check_path_date(value: str) -> dt.date:
    date = parse_date(value)
    if date is None:
        raise bad_request("forecast_date is a date YYYY-MM-DD")
    return date
