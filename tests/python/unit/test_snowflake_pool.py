"""The API's warehouse pool: a read past its deadline gets an answer, not a wait."""

from __future__ import annotations

import asyncio
import time

import pytest

from forecast_hub.snowflake.pool import SnowflakePool, WarehouseUnavailable
from forecast_hub.snowflake.settings import SnowflakeSettings


class _Connection:
    """Stands in for a connector connection the pool already holds."""

    closed = False

    def close(self) -> None:
        self.closed = True


def test_a_call_past_its_deadline_is_refused_and_the_warehouse_marked_down() -> None:
    pool = SnowflakePool(SnowflakeSettings.emulator(port=1, env={}), size=2)
    pool._idle.put(_Connection())

    async def scenario() -> None:
        started = time.monotonic()
        with pytest.raises(WarehouseUnavailable, match=r"did not answer within 0\.2s"):
            await pool.run(lambda connection: time.sleep(1.0), deadline_s=0.2)
        assert time.monotonic() - started < 0.9
        # Marked down: while the first call still holds the only connection, the next
        # one is refused at once instead of trying to connect.
        started = time.monotonic()
        with pytest.raises(WarehouseUnavailable, match=r"did not answer within 0\.2s"):
            await pool.run(lambda connection: "answered")
        assert time.monotonic() - started < 0.5

    asyncio.run(scenario())
    pool.close()


def test_a_call_within_its_deadline_answers() -> None:
    pool = SnowflakePool(SnowflakeSettings.emulator(port=1, env={}), size=1)
    pool._idle.put(_Connection())

    async def scenario() -> str:
        return await pool.run(lambda connection: "answered", deadline_s=5)

    assert asyncio.run(scenario()) == "answered"
    pool.close()
