"""The forecast API of api.md: an ASGI app over the published draft and the edits store."""

from forecast_hub.api.app import create_app
from forecast_hub.api.config import ApiConfig
from forecast_hub.api.server import serve
from forecast_hub.api.tokens import add_token

__all__ = ["ApiConfig", "add_token", "create_app", "serve"]
