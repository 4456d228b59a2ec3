"""One SKU's edit log, read from the whole log in bounded steps."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from forecast_hub.api.edits import LogEntry
from forecast_hub.api.routes import edits as routes

AT = dt.datetime(2025, 3, 2, tzinfo=dt.UTC)


def sku_log(*args: object) -> tuple[list[LogEntry], int | None]:
    return asyncio.run(routes.sku_log(*args))  # type: ignore[arg-type]


class Log:
    """A store's read_log over a list of entries, counting what was read."""

    def __init__(self, skus: list[str]) -> None:
        self.entries = [
            LogEntry(n, sku, dt.date(2025, 3, 3), "upsert", None, 1.0, None, "ann", AT, 1)
            for n, sku in enumerate(skus, start=1)
        ]
        self.read = 0

    def read_log(
        self, tenant_id: str, since: dt.datetime | None, after: int, limit: int
    ) -> list[LogEntry]:
        found = [e for e in self.entries if e.log_id > after][:limit]
        self.read += len(found)
        return found


def test_a_page_stops_at_limit_entries_of_the_sku() -> None:
    log = Log(["a", "b", "a", "b", "a", "a"])
    kept, resume = sku_log(log, "t", "a", None, 0, 2)
    assert ([e.log_id for e in kept], resume) == ([1, 3], 3)
    kept, resume = sku_log(log, "t", "a", None, 3, 2)
    assert ([e.log_id for e in kept], resume) == ([5, 6], 6)
    kept, resume = sku_log(log, "t", "a", None, 6, 2)
    assert (kept, resume) == ([], None)


def test_a_long_stretch_of_other_skus_ends_a_page_early_with_a_cursor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routes, "LOG_SCAN_ROWS", 10)
    log = Log(["b"] * 25 + ["a"])
    kept, resume = sku_log(log, "t", "a", None, 0, 5)
    assert (kept, resume, log.read) == ([], 10, 10)
    kept, resume = sku_log(log, "t", "a", None, 20, 5)
    assert ([e.log_id for e in kept], resume) == ([26], None)
