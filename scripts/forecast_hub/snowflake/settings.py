"""Typed settings of the Snowflake targets, from the environment only.

The same variables feed dbt's profiles/profiles.yml, so the lander, the DDL
command and dbt always talk to the same account, database and role.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from forecast_hub.errors import UserError

SnowflakeTarget = Literal["emulator", "snowflake"]
HybridTableKind = Literal["hybrid", "standard"]

EMULATOR_PORT_ENV = "FORECAST_HUB_EMULATOR_PORT"
EMULATOR_HOST = "127.0.0.1"
EMULATOR_DATABASE = "FORECAST_HUB"
HYBRID_TABLES_ENV = "FORECAST_HUB_HYBRID_TABLES"
ACCOUNT_ONLY_DDL_ENV = "FORECAST_HUB_SNOWFLAKE_ACCOUNT_ONLY_DDL"
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
    def emulator(cls, port: int, env: Mapping[str, str] | None = None) -> SnowflakeSettings:
        """The local emulator: any account and password, plain HTTP on 127.0.0.1."""
        values = os.environ if env is None else env
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
            hybrid_tables=_hybrid_kind(values.get(HYBRID_TABLES_ENV, "standard")),
            account_only_ddl=_flag(values.get(ACCOUNT_ONLY_DDL_ENV, "false")),
        )

    @classmethod
    def from_env(
        cls, target: SnowflakeTarget, env: Mapping[str, str] | None = None
    ) -> SnowflakeSettings:
        """Settings of a target; the emulator's port comes from its state file or env."""
        values = os.environ if env is None else env
        if target == "emulator":
            return cls.emulator(_emulator_port(values), values)
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
            hybrid_tables=_hybrid_kind(values.get(HYBRID_TABLES_ENV, "hybrid")),
            account_only_ddl=_flag(values.get(ACCOUNT_ONLY_DDL_ENV, "true")),
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


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise UserError(f"{ACCOUNT_ONLY_DDL_ENV} must be true or false, not {value!r}")


def _hybrid_kind(value: str) -> HybridTableKind:
    if value not in ("hybrid", "standard"):
        raise UserError(f"{HYBRID_TABLES_ENV} must be hybrid or standard, not {value!r}")
    return value  # type: ignore[return-value]


def _emulator_port(env: Mapping[str, str]) -> int:
    from forecast_hub.snowflake.emulator import read_state

    if env.get(EMULATOR_PORT_ENV):
        return int(env[EMULATOR_PORT_ENV])
    data_dir = Path(env.get("FORECAST_HUB_DATA_DIR", "data"))
    state = read_state(data_dir)
    if state is None:
        raise UserError(
            f"no emulator is running for {data_dir}: run `forecast-hub emulator start` "
            f"or set {EMULATOR_PORT_ENV}"
        )
    return state.port
