"""The forecast API of api.md: an ASGI app over the published draft and the edits store.

The names below are imported on first use, so the parts that need no web
framework (the edits store, publishing from a dbt build) start quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forecast_hub.api.app import create_app
    from forecast_hub.api.config import ApiConfig
    from forecast_hub.api.server import serve
    from forecast_hub.api.tokens import add_token

_WHERE = {
    "create_app": "forecast_hub.api.app",
    "ApiConfig": "forecast_hub.api.config",
    "serve": "forecast_hub.api.server",
    "add_token": "forecast_hub.api.tokens",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ApiConfig", "add_token", "create_app", "serve"]
