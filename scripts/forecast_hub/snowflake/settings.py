"""Typed settings of the Snowflake targets: the connection, from the environment only.

The credentials and the account (``SNOWFLAKE_*``) are secrets, read here
from the environment and nowhere else; the project's own choices
(``FORECAST_HUB_HYBRID_TABLES``, ``FORECAST_HUB_SNOWFLAKE_ACCOUNT_ONLY_DDL``,
``FORECAST_HUB_EMULATOR_PORT``) come from the one settings object,
``forecast_hub.settings.Settings``. The same variables feed dbt's
profiles/profiles.yml, so the lander, the DDL command and dbt always talk
to the same account, database and role.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from forecast_hub.errors import UserError
from forecast_hub.settings import EMULATOR_PORT_ENV, HybridTableKind, Settings

SnowflakeTarget = Literal["emulator", "snowflake"]

EMULATOR_HOST = "127.0.0.1"
EMULATOR_DATABASE = "FORECAST_HUB"
_REQUIRED = ("SNOWFLAKE_ACCOUNT", "SNOWFLAKE_USER", "SNOWFLAKE_DATABASE", "SNOWFLAKE_WAREHOUSE")

# The emulator answers a statement it cannot run with HTTP 500, which the
# connector retries until network_timeout: forever, by default. On the
# emulator every retry is bounded, so such a statement fails in seconds. A
# statement that merely runs long is not cut short (the emulator ignores the
# cancel the connector sends at network_timeout), and the socket waits long
# enough for its answer that the connector never sends it a second time.
EMULATOR_TIMEOUTS = {"login_timeout": 30, "network_timeout": 10, "socket_timeout": 600}
# Snowpark cancels a session's queries when it closes it; the emulator has no
# such function, so there the statement does nothing (fakesnow's nop_regexes).
EMULATOR_NO_OPS = [r"^select system\$cancel_all_queries\("]


@dataclass(frozen=True)
class SnowflakeSettings:
    """Where and how to connect, and which statements the target can run.

    ``account_only_ddl`` gates what the emulator rejects (hybrid tables,
    pipes, row access policies, roles and grants); ``include_metadata`` says
    whether COPY may fill ``silver_file`` and ``loaded_at`` itself
    (INCLUDE_METADATA), which the emulator does not parse.
    """

    target: SnowflakeTarget
    account: str
    user: str
    database: str
    warehouse: str | None = None
    role: str | None = None
    password: str | None = None
    private_key_path: Path | None = None
    private_key_passphrase: str | None = None
    host: str | None = None
    port: int | None = None
    protocol: str = "https"
    hybrid_tables: HybridTableKind = "hybrid"
    account_only_ddl: bool = True

    @property
    def is_emulator(self) -> bool:
        return self.target == "emulator"

    @property
    def include_metadata(self) -> bool:
        return not self.is_emulator

    @classmethod
    def emulator(
        cls, port: int, env: Mapping[str, str] | None = None, settings: Settings | None = None
    ) -> SnowflakeSettings:
        """The local emulator: any account and password, plain HTTP on 127.0.0.1.

        The project's settings are ``settings``, else read from ``env`` (default:
        the process environment).
        """
        chosen = settings or Settings.from_env(env)
        return cls(
            target="emulator",
            account="local-emulator",
            user="forecast_hub",
            password="emulator",
            database=EMULATOR_DATABASE,
            warehouse="emulator",
            role="sysadmin",
            host=EMULATOR_HOST,
            port=port,
            protocol="http",
            hybrid_tables=chosen.hybrid_tables or "standard",
            account_only_ddl=_or(chosen.snowflake_account_only_ddl, False),
        )

    @classmethod
    def from_env(
        cls,
        target: SnowflakeTarget,
        env: Mapping[str, str] | None = None,
        settings: Settings | None = None,
    ) -> SnowflakeSettings:
        """Settings of a target: SNOWFLAKE_* from ``env`` (default: the process
        environment), the project's settings from ``settings``, else from ``env`` too.
        The emulator's port is FORECAST_HUB_EMULATOR_PORT, else its state file's."""
        values = os.environ if env is None else env
        chosen = settings or Settings.from_env(values)
        if target == "emulator":
            return cls.emulator(_emulator_port(chosen), settings=chosen)
        missing = [name for name in _REQUIRED if not values.get(name)]
        key_path = values.get("SNOWFLAKE_PRIVATE_KEY_PATH")
        if not key_path and not values.get("SNOWFLAKE_PASSWORD"):
            missing.append("SNOWFLAKE_PRIVATE_KEY_PATH or SNOWFLAKE_PASSWORD")
        if missing:
            raise UserError(
                "the snowflake target reads its connection from the environment; set "
                + ", ".join(missing)
            )
        return cls(
            target="snowflake",
            account=values["SNOWFLAKE_ACCOUNT"],
            user=values["SNOWFLAKE_USER"],
            database=values["SNOWFLAKE_DATABASE"],
            warehouse=values["SNOWFLAKE_WAREHOUSE"],
            role=values.get("SNOWFLAKE_ROLE") or None,
            password=None if key_path else values.get("SNOWFLAKE_PASSWORD"),
            private_key_path=Path(key_path) if key_path else None,
            private_key_passphrase=values.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE") or None,
            hybrid_tables=chosen.hybrid_tables or "hybrid",
            account_only_ddl=_or(chosen.snowflake_account_only_ddl, True),
        )

    def connector_parameters(self) -> dict[str, Any]:
        """Keyword arguments of snowflake.connector.connect and of Snowpark's builder."""
        parameters: dict[str, Any] = {
            "account": self.account,
            "user": self.user,
            "database": self.database,
        }
        optional = {
            "warehouse": self.warehouse,
            "role": self.role,
            "password": self.password,
            "private_key_file": str(self.private_key_path) if self.private_key_path else None,
            "private_key_file_pwd": self.private_key_passphrase,
            "host": self.host,
            "port": self.port,
        }
        parameters.update({key: value for key, value in optional.items() if value is not None})
        if self.is_emulator:
            parameters["protocol"] = self.protocol
            parameters.update(EMULATOR_TIMEOUTS)
            parameters["session_parameters"] = {"TIMEZONE": "UTC", "nop_regexes": EMULATOR_NO_OPS}
        else:
            parameters["session_parameters"] = {"TIMEZONE": "UTC", "QUERY_TAG": "forecast-hub"}
        return parameters


def _or(value: bool | None, default: bool) -> bool:
    return default if value is None else value


def _emulator_port(settings: Settings) -> int:
    from forecast_hub.snowflake.emulator import read_state

    if settings.emulator_port is not None:
        return settings.emulator_port
    state = read_state(settings.data_dir)
    if state is None:
        raise UserError(
            f"no emulator is running for {settings.data_dir}: run `forecast-hub emulator start` "
            f"or set {EMULATOR_PORT_ENV}"
        )
    return state.port
