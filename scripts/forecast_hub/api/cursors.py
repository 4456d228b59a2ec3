"""Opaque page cursors: the last key of a page, base64url JSON without padding.

A cursor is only ever decoded into the number of strings its endpoint
expects; anything else is a ``400``, never an error deeper down.
"""

from __future__ import annotations

import base64
import binascii

import orjson

from forecast_hub.api.errors import bad_request


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
