"""A page of ``GET .../forecast`` as the warehouse read path asks and answers it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PageRequest:
    """The page's question, checked: SKUs (None: all), dates, override, size, cursor."""

    sku_ids: list[str] | None
    start: dt.date | None
    end: dt.date | None
    show_manual: bool | None
    limit: int
    cursor: str | None


@dataclass(frozen=True)
class ForecastPage:
    """The rows of a page, the preference applied, the next cursor and the headers."""

    rows: list[dict[str, Any]]
    show_manual: bool
    next_cursor: str | None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, tenant_id: str) -> dict[str, Any]:
        return {
            "tenant_id": tenant_id,
            "show_manual": self.show_manual,
            "rows": self.rows,
            "next_cursor": self.next_cursor,
        }
