"""Connection settings: a statement the emulator cannot run fails instead of hanging."""

from __future__ import annotations

import re

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
