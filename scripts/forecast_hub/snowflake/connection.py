"""Connections to a Snowflake target: the connector for SQL, Snowpark for DataFrames.

Both are built from one ``SnowflakeSettings`` (environment only), so a
key-pair account, a password account and the emulator differ in settings,
never in code.
"""

from __future__ import annotations

import atexit
import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from forecast_hub.errors import UserError
from forecast_hub.snowflake.settings import SnowflakeSettings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection
    from snowflake.snowpark import Session


def connect(settings: SnowflakeSettings) -> SnowflakeConnection:
    """A connector connection with the target's database created if missing and in use."""
    import snowflake.connector

    try:
        connection = snowflake.connector.connect(**settings.connector_parameters())
    except snowflake.connector.errors.Error as error:
        where = f"the emulator on port {settings.port}" if settings.is_emulator else "Snowflake"
        raise UserError(f"cannot connect to {where}: {error}") from error
    if settings.is_emulator:
        # The emulator starts empty; on an account the database is provisioned.
        connection.cursor().execute(f"create database if not exists {settings.database}")
    connection.cursor().execute(f"use database {settings.database}")
    return connection


@contextlib.contextmanager
def snowpark_session(
    settings: SnowflakeSettings, connection: SnowflakeConnection | None = None
) -> Iterator[Session]:
    """A Snowpark session over the target for a block, closed after it.

    It reuses a connector connection when given one (Snowpark then closes
    that connection too), so SQL and DataFrames share one session.
    """
    from snowflake.snowpark import Session

    if connection is None:
        connection = connect(settings)
    session = Session.builder.configs({"connection": connection}).create()
    try:
        yield session
    finally:
        session.close()
        if settings.is_emulator:
            # The emulator's login grants no master token, so the connector
            # cannot log out and the session still looks open. Snowpark would
            # then close it again at interpreter exit, by then against an
            # emulator that may be gone, and wait out the connector's retries.
            atexit.unregister(session._close_at_exit)
