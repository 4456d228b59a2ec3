"""Edits bodies: every bad edit named with every reason, and the right status."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from forecast_hub.api.errors import ApiError
from forecast_hub.api.tenant_rows import encode_tenant
from forecast_hub.api.validation import parse_edits, parse_limit, parse_prefs

DATES = [dt.date(2025, 3, 3) + dt.timedelta(days=7 * k) for k in range(4)]
DRAFT = encode_tenant(
    "t",
    pa.table(
        {
            "sku_id": ["a"] * 4,
            "forecast_date": DATES,
            "step": pa.array([1, 2, 3, 4], pa.int32()),
            "draft_qty": [1.0, 2.0, 3.0, 4.0],
            "method": ["naive"] * 4,
            "built_at": [dt.datetime(2025, 3, 1, 6, 0)] * 4,
        }
    ),
    known={"a", "gone"},
)


def _parse(body: object | bytes, max_edits: int = 100):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_edits(raw, max_edits, DRAFT)


def _problems(body: object | bytes) -> dict[int, set[str]]:
    with pytest.raises(ApiError) as caught:
        _parse(body)
    assert caught.value.status == 422
    return {
        entry["index"]: {p["code"] for p in entry["problems"]} for entry in caught.value.details
    }


def test_a_valid_body_becomes_edits() -> None:
    edits = _parse(
        {
            "edits": [
                {"sku_id": "a", "forecast_date": "2025-03-03", "qty": 5},
                {"sku_id": "a", "forecast_date": "2025-03-10", "qty": 0.5, "reason": "promo"},
                {"sku_id": "a", "forecast_date": "2025-03-17", "qty": 1e9, "expected_version": 0},
            ]
        }
    )
    assert [(e.sku_id, e.forecast_date, e.qty, e.reason, e.expected_version) for e in edits] == [
        ("a", dt.date(2025, 3, 3), 5.0, None, None),
        ("a", dt.date(2025, 3, 10), 0.5, "promo", None),
        ("a", dt.date(2025, 3, 17), 1e9, None, 0),
    ]


def test_every_bad_edit_is_named_with_every_reason() -> None:
    ok = {"sku_id": "a", "forecast_date": "2025-03-03", "qty": 1}
    problems = _problems(
        {
            "edits": [
                ok,
                {"sku_id": "zz", "forecast_date": "2025-03-03", "qty": -1},
                {"sku_id": "gone", "forecast_date": "2025-03-03", "qty": 1},
                {"sku_id": "a", "forecast_date": "2030-01-01", "qty": 1},
                {"sku_id": "a", "forecast_date": "2025-03-10", "qty": 1e9 + 1},
                {"sku_id": "a", "forecast_date": "2025-03-10", "qty": 10**400},
                {"sku_id": "a", "forecast_date": "2025-03-10", "qty": "5"},
                {"sku_id": "a", "forecast_date": "2025-03-10", "qty": True},
                {"sku_id": "a", "forecast_date": "2025-03-10", "qty": 1, "reason": "x" * 501},
                {"sku_id": 7, "forecast_date": "03/10/2025", "qty": None, "reason": 3},
                {**ok, "expected_version": -1},
                {**ok, "expected_version": 1.5},
                {**ok, "expected_version": 2**64},
                {**ok, "quantity": 3},
                ["not", "an", "object"],
                ok,
                {"sku_id": "a", "forecast_date": "2025-02-30", "qty": 1},
                {"sku_id": "a", "forecast_date": "2025-03-10", "qty": 1, "reason": "\x00"},
            ]
        }
    )
    assert problems == {
        1: {"unknown_sku", "negative"},
        2: {"not_in_horizon"},
        3: {"not_in_horizon"},
        4: {"too_large"},
        5: {"too_large"},
        6: {"not_a_number"},
        7: {"not_a_number"},
        8: {"too_long"},
        9: {"required", "not_a_date", "not_a_number", "not_a_string"},
        10: {"not_a_version"},
        11: {"not_a_version"},
        12: {"not_a_version"},
        13: {"unknown_field"},
        14: {"not_an_object"},
        15: {"duplicate"},
        16: {"not_a_date"},
        17: {"not_text"},
    }


def test_a_number_too_big_for_a_double_is_not_finite() -> None:
    body = b'{"edits": [{"sku_id": "a", "forecast_date": "2025-03-03", "qty": 1e999}]}'
    assert _problems(body) == {0: {"not_finite"}}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b'{"edits": [{"qty": NaN}]}',
        b'{"edits": [{"qty": Infinity}]}',
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["empty", "truncated", "nan", "infinity", "not-utf8", "deeply-nested"],
)
def test_a_body_that_is_not_json_is_a_400(body: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        _parse(body)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "body",
    [[], {"edits": []}, {"edits": {}}, {"edit": []}, {"edits": [], "more": 1}, "edits"],
)
def test_a_body_of_the_wrong_shape_is_a_422(body: object) -> None:
    with pytest.raises(ApiError) as caught:
        _parse(body)
    assert caught.value.status == 422


def test_more_edits_than_allowed_is_a_413() -> None:
    edit = {"sku_id": "a", "forecast_date": "2025-03-03", "qty": 1}
    with pytest.raises(ApiError) as caught:
        _parse({"edits": [edit] * 101}, max_edits=100)
    assert caught.value.status == 413


def test_prefs_take_a_boolean_or_null_only() -> None:
    assert parse_prefs(b'{"show_manual": false}') is False
    assert parse_prefs(b'{"show_manual": null}') is None
    for body in (b'{"show_manual": "no"}', b"{}", b'{"show_manual": true, "x": 1}', b"[]"):
        with pytest.raises(ApiError) as caught:
            parse_prefs(body)
        assert caught.value.status == 422


@pytest.mark.parametrize("value", ["0", "10001", "-1", "1.5", "abc", "9" * 5000, "١٢"])
def test_a_limit_out_of_range_is_a_400(value: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_limit(value, 1000, 10_000)
    assert caught.value.status == 400
