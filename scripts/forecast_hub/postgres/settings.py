"""Typed settings of the postgres target, from the environment.

The same variables feed dbt's profiles/profiles.yml (target ``postgres``),
so `land`, `hybrid` and dbt always reach the same database. A variable left
unset falls back to the server `forecast-hub postgres start` runs for the
data folder, when one runs and ``FORECAST_HUB_POSTGRES_HOST`` is unset;
otherwise to the defaults below, which are also the profile's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from forecast_hub.errors import UserError
from forecast_hub.settings import DATA_DIR_ENV

HOST_ENV = "FORECAST_HUB_POSTGRES_HOST"
PORT_ENV = "FORECAST_HUB_POSTGRES_PORT"
USER_ENV = "FORECAST_HUB_POSTGRES_USER"
PASSWORD_ENV = "FORECAST_HUB_POSTGRES_PASSWORD"
DATABASE_ENV = "FORECAST_HUB_POSTGRES_DATABASE"
EDITS_STORE_ENV = "FORECAST_HUB_EDITS_STORE"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5432
DEFAULT_USER = "forecast_hub"
DEFAULT_DATABASE = "forecast_hub"
CONNECT_TIMEOUT_S = 10


@dataclass(frozen=True)
class PostgresSettings:
    """Where the postgres target's database is and who connects to it."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    user: str = DEFAULT_USER
    password: str | None = None
    database: str = DEFAULT_DATABASE

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PostgresSettings:
        values = os.environ if env is None else env
        local = None if values.get(HOST_ENV) else _local_server(values)
        fallback = local or cls()
        port_text = values.get(PORT_ENV)
        return cls(
            host=values.get(HOST_ENV) or fallback.host,
            port=_port(port_text) if port_text else fallback.port,
            user=values.get(USER_ENV) or fallback.user,
            password=values.get(PASSWORD_ENV) or fallback.password,
            database=values.get(DATABASE_ENV) or fallback.database,
        )

    def url(self, *, with_password: bool = True) -> str:
        """A ``postgresql://`` URL (libpq's form); without the password for messages."""
        credentials = quote(self.user, safe="")
        if with_password and self.password:
            credentials += ":" + quote(self.password, safe="")
        database = quote(self.database, safe="")
        return f"postgresql://{credentials}@{self.host}:{self.port}/{database}"

    def connect_parameters(self) -> dict[str, Any]:
        """Keyword arguments of ``psycopg.connect``."""
        parameters: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.database,
            "connect_timeout": CONNECT_TIMEOUT_S,
            "application_name": "forecast-hub",
        }
        if self.password:
            parameters["password"] = self.password
        return parameters

    def env_lines(self) -> list[str]:
        """What `forecast-hub postgres start` prints: the profile's variables and the store URL."""
        lines = [
            f"{HOST_ENV}={self.host}",
            f"{PORT_ENV}={self.port}",
            f"{USER_ENV}={self.user}",
        ]
        if self.password:
            lines.append(f"{PASSWORD_ENV}={self.password}")
        lines += [f"{DATABASE_ENV}={self.database}", f"{EDITS_STORE_ENV}={self.url()}"]
        return lines


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise UserError(f"{PORT_ENV} must be a port number (1-65535), not {text!r}")
    return int(text)


def _local_server(env: Mapping[str, str]) -> PostgresSettings | None:
    """The connection of the server `forecast-hub postgres start` runs for the data folder."""
    from forecast_hub.postgres.server import read_state, server_root

    state = read_state(server_root(Path(env.get(DATA_DIR_ENV, "data"))))
    return None if state is None else state.connection
