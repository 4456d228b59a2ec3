"""A real PostgreSQL 15 server for the postgres target's tests, and a fresh database per test."""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from forecast_hub.postgres import PostgresSettings
from forecast_hub.postgres.server import ServerState, running_postgres

_databases = itertools.count(1)


@contextlib.contextmanager
def _reachable_folder() -> Iterator[Path]:
    """A temporary folder the server's OS user can enter (pytest's own are root-only)."""
    with tempfile.TemporaryDirectory(prefix="forecast-hub-postgres-") as name:
        os.chmod(name, 0o755)
        yield Path(name)


@pytest.fixture
def reachable_home() -> Iterator[Path]:
    """A data folder for a test that starts its own server."""
    with _reachable_folder() as home:
        yield home


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[ServerState]:
    """One server for the session, started on first use and always stopped."""
    with _reachable_folder() as home, running_postgres(home / "postgres") as state:
        yield state


@pytest.fixture
def postgres_database(postgres_server: ServerState) -> Iterator[PostgresSettings]:
    """The connection of a database created for one test, dropped after it."""
    connection = postgres_server.connection
    name = f"test_{next(_databases)}"
    with psycopg.connect(**connection.connect_parameters(), autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield replace(connection, database=name)
    finally:
        with psycopg.connect(**connection.connect_parameters(), autocommit=True) as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))
