"""Connections to the postgres target's database, with a clear error when there is none."""

from __future__ import annotations

import psycopg

from forecast_hub.errors import UserError
from forecast_hub.postgres.settings import PostgresSettings


def connect(postgres: PostgresSettings) -> psycopg.Connection:
    """An autocommit connection (callers open their own transactions), or a clear error."""
    try:
        return psycopg.connect(**postgres.connect_parameters(), autocommit=True)
    except psycopg.OperationalError as error:
        lines = [line for line in str(error).splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else "no answer"
        raise UserError(
            f"cannot connect to PostgreSQL at {postgres.url(with_password=False)} ({reason}):"
            " start one with `forecast-hub postgres start` or set FORECAST_HUB_POSTGRES_*"
        ) from error
