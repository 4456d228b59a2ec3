"""Connection settings: a statement the emulator cannot run fails instead of hanging."""

from __future__ import annotations

import re

import pytest

from forecast_hub.settings import Settings, SettingsError
from forecast_hub.snowflake.settings import SnowflakeSettings

ACCOUNT_ENV = {
    "SNOWFLAKE_ACCOUNT": "xy12345",
    "SNOWFLAKE_USER": "loader",
    "SNOWFLAKE_PASSWORD": "secret",
    "SNOWFLAKE_DATABASE": "forecast_hub",
    "SNOWFLAKE_WAREHOUSE": "transforming",
}


def test_every_emulator_request_has_a_bounded_retry_budget() -> None:
    """The connector retries an HTTP 500 until network_timeout, which is unbounded by default."""
    parameters = SnowflakeSettings.emulator(4100, env={}).connector_parameters()
    assert 0 < parameters["network_timeout"] <= 60
    assert 0 < parameters["login_timeout"] <= 60
    # A long statement is waited for, never sent a second time by a read timeout.
    assert parameters["socket_timeout"] >= 300


def test_snowpark_cancelling_its_queries_is_a_no_op_on_the_emulator() -> None:
    parameters = SnowflakeSettings.emulator(4100, env={}).connector_parameters()
    (pattern,) = parameters["session_parameters"]["nop_regexes"]
    assert re.match(pattern, "select system$cancel_all_queries(None)", re.IGNORECASE)
    assert not re.match(pattern, "select * from raw.sales", re.IGNORECASE)


def test_an_account_keeps_the_connector_defaults() -> None:
    """A real account's queries run async and may take long: no client-side timeout."""
    parameters = SnowflakeSettings.from_env("snowflake", env=ACCOUNT_ENV).connector_parameters()
    assert not {"network_timeout", "login_timeout", "socket_timeout"} & set(parameters)
    assert "nop_regexes" not in parameters["session_parameters"]


def test_the_project_choices_come_from_the_one_settings_object() -> None:
    """FORECAST_HUB_* values are the settings', checked there; SNOWFLAKE_* stay in env."""
    chosen = Settings(hybrid_tables="standard", snowflake_account_only_ddl=False)
    account = SnowflakeSettings.from_env("snowflake", env=ACCOUNT_ENV, settings=chosen)
    assert (account.hybrid_tables, account.account_only_ddl) == ("standard", False)
    default = SnowflakeSettings.from_env("snowflake", env=ACCOUNT_ENV)
    assert (default.hybrid_tables, default.account_only_ddl) == ("hybrid", True)
    emulator = SnowflakeSettings.from_env("emulator", settings=Settings(emulator_port=4100))
    assert (emulator.port, emulator.hybrid_tables, emulator.account_only_ddl) == (
        4100,
        "standard",
        False,
    )
    with pytest.raises(SettingsError, match="FORECAST_HUB_HYBRID_TABLES must be hybrid or"):
        SnowflakeSettings.from_env(
            "snowflake", env={**ACCOUNT_ENV, "FORECAST_HUB_HYBRID_TABLES": "temp"}
        )
