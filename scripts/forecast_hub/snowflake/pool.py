"""A pool of connector connections for the API: bounded in size, time and retries.

The Snowflake connector is synchronous, so each call runs on a worker
thread of the pool's own executor, with a connection of its own: at most
``size`` statements are in flight, and a request that finds every
connection busy for ``acquire_timeout_s`` is refused (``WarehouseUnavailable``,
a 503) instead of queueing without end. Every connection uses server-side
binding (``qmark``): values travel apart from the statement text.

Timeouts are bounded for serving (login, network and socket), unlike the
build's, which wait for long statements; on an account the session also
bounds each statement and each lock wait. A failed connect marks the
warehouse down for ``DOWN_FOR_S``: requests in that window are refused at
once instead of each waiting for its own connect to fail. A read that
fails because its connection broke is retried once on a new connection;
a write is never retried past its first statement (its outcome is unknown
once sent), only when its connection could not be made. A broken
connection also retires every idle one (they reach the same warehouse) and
marks the warehouse down, so the next requests fail fast instead of each
waiting for a dead connection to time out.

A call may also be given a deadline (reads are): past it the caller gets
``WarehouseUnavailable`` and the warehouse is marked down, whatever the
connector's own retries would still wait. The connector's call cannot be
interrupted, so its thread finishes in the background and its answer is
dropped; a write has no deadline here, since its outcome would be unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from forecast_hub.snowflake.settings import SnowflakeSettings

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection

T = TypeVar("T")

SERVING_TIMEOUTS = {"login_timeout": 5, "network_timeout": 10, "socket_timeout": 15}
# On an account: no statement of the API runs longer, no lock is waited on longer.
ACCOUNT_SESSION = {"STATEMENT_TIMEOUT_IN_SECONDS": 15, "LOCK_TIMEOUT": 10}
DOWN_FOR_S = 2.0
# Connector error numbers that mean the connection, not the statement, failed.
CONNECTION_ERRNOS = frozenset({250001, 250002, 250003, 250005, 290500, 290503, 390114})


class WarehouseUnavailable(Exception):
    """The warehouse could not be reached or did not answer in time."""


def serving_parameters(settings: SnowflakeSettings) -> dict[str, Any]:
    """The connector's keyword arguments for the API: bounded timeouts, server binding."""
    parameters = settings.connector_parameters()
    parameters.update(SERVING_TIMEOUTS)
    parameters["paramstyle"] = "qmark"
    if not settings.is_emulator:
        parameters["session_parameters"] = {
            **parameters["session_parameters"],
            **ACCOUNT_SESSION,
        }
    return parameters


def is_connection_error(error: BaseException) -> bool:
    from snowflake.connector import errors

    if isinstance(error, errors.OperationalError | errors.InterfaceError | errors.HttpError):
        return True
    return getattr(error, "errno", None) in CONNECTION_ERRNOS


class SnowflakePool:
    """Connections to one warehouse, lent to one call at a time."""

    def __init__(
        self, settings: SnowflakeSettings, size: int = 4, acquire_timeout_s: float = 5.0
    ) -> None:
        # The connector logs every connect at INFO; the API's log keeps to its own.
        logging.getLogger("snowflake.connector").setLevel(logging.WARNING)
        self.settings = settings
        self.size = size
        self.acquire_timeout_s = acquire_timeout_s
        self._idle: queue.LifoQueue[SnowflakeConnection] = queue.LifoQueue()
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="snowflake")
        self._slots: asyncio.Semaphore | None = None
        self._down_until = 0.0
        self._lock = threading.Lock()
        self.last_error: str | None = None

    def _mark_down(self, message: str) -> None:
        with self._lock:
            self._down_until = time.monotonic() + DOWN_FOR_S
            self.last_error = message
        while True:
            try:
                self._discard(self._idle.get_nowait())
            except queue.Empty:
                return

    def _connect(self) -> SnowflakeConnection:
        import snowflake.connector

        if time.monotonic() < self._down_until:
            raise WarehouseUnavailable(self.last_error or "the warehouse is not reachable")
        try:
            connection = snowflake.connector.connect(**serving_parameters(self.settings))
            connection.cursor().execute(f"use database {self.settings.database}")
        except snowflake.connector.errors.Error as error:
            self._mark_down(f"the warehouse is not reachable: {_first_line(error)}")
            raise WarehouseUnavailable(self.last_error) from None
        self.last_error = None
        return connection

    def _borrow(self) -> SnowflakeConnection:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            return self._connect()

    def _discard(self, connection: SnowflakeConnection) -> None:
        with contextlib.suppress(Exception):
            connection.close()

    def _call(self, work: Callable[[SnowflakeConnection], T], retry: bool) -> T:
        connection = self._borrow()
        for attempt in (1, 2):
            try:
                result = work(connection)
            except BaseException as error:
                if not is_connection_error(error):
                    self._idle.put(connection)
                    raise
                self._discard(connection)
                message = f"the warehouse did not answer: {_first_line(error)}"
                if not retry or attempt == 2:
                    self._mark_down(message)
                    raise WarehouseUnavailable(message) from None
                connection = self._connect()
            else:
                self._idle.put(connection)
                return result
        raise AssertionError("unreachable")

    async def run(
        self,
        work: Callable[[SnowflakeConnection], T],
        *,
        retry: bool = True,
        deadline_s: float | None = None,
    ) -> T:
        """Run ``work(connection)`` on a pool thread; WarehouseUnavailable if it cannot,
        or if it has not answered within ``deadline_s``."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.size)
        try:
            await asyncio.wait_for(self._slots.acquire(), self.acquire_timeout_s)
        except TimeoutError:
            raise WarehouseUnavailable(
                f"every warehouse connection stayed busy for {self.acquire_timeout_s:g}s"
            ) from None
        try:
            loop = asyncio.get_running_loop()
            call = loop.run_in_executor(self._executor, self._call, work, retry)
            if deadline_s is None:
                return await call
            try:
                return await asyncio.wait_for(call, deadline_s)
            except TimeoutError:
                self._mark_down(f"the warehouse did not answer within {deadline_s:g}s")
                raise WarehouseUnavailable(self.last_error) from None
        finally:
            self._slots.release()

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        while True:
            try:
                self._discard(self._idle.get_nowait())
            except queue.Empty:
                return


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:300] if text else type(error).__name__
