"""The Snowflake side: the emulator, connections and Snowpark sessions, DDL, landing.

Production runs on a Snowflake account; CI has none, so the same code runs
against a local Snowflake emulator (fakesnow) and whatever the emulator
cannot run is gated by ``SnowflakeSettings.account_only_ddl`` and linted.
"""

from forecast_hub.snowflake.settings import SnowflakeSettings, SnowflakeTarget

__all__ = ["SnowflakeSettings", "SnowflakeTarget"]
