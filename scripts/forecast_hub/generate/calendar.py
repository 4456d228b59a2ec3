"""The generated calendar: day indices, dates and timestamps as text, the days files fall on.

Day 0 is the first day of sales history and ``days - 1`` is ``HISTORY_END``; every
date and timestamp written derives from it, never from the clock. Every feed
has a full file the day before the daily window and delta files in it; the
helpers at the end say which rows such a delta re-sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HISTORY_END = date(2026, 10, 31)
EARLIEST_SALE_DATE = date(2000, 1, 1)
MAX_DAYS = (HISTORY_END - EARLIEST_SALE_DATE).days + 1
DAILY_DROP_DAYS = 14

_EPOCH = date(1970, 1, 1)

TimestampStyle = Literal["utc", "offset", "naive"]


@dataclass(frozen=True)
class Calendar:
    """Day indices: 0 is the first day of sales history, ``days - 1`` is HISTORY_END."""

    days: int

    @property
    def start(self) -> date:
        return HISTORY_END - timedelta(days=self.days - 1)

    @property
    def epoch0(self) -> int:
        return (self.start - _EPOCH).days

    @property
    def window_start(self) -> int:
        """First day whose sales arrive as a daily file."""
        return max(0, self.days - DAILY_DROP_DAYS)

    @property
    def full_day(self) -> int:
        """Day of the first full file of every feed (may be -1, the day before history)."""
        return self.window_start - 1

    @property
    def delta_days(self) -> tuple[int, ...]:
        width = self.days - self.window_start
        days = {self.window_start + width // 4, self.window_start + (width * 5) // 8, self.days - 1}
        return tuple(sorted(days))

    def iso(self, day: int) -> str:
        return (self.start + timedelta(days=day)).isoformat()

    def year_of(self, days: np.ndarray) -> np.ndarray:
        stamps = (days + self.epoch0).astype("datetime64[D]")
        return stamps.astype("datetime64[Y]").astype(np.int64) + 1970


def date_strings(cal: Calendar, days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Day indices as ISO dates; ``null`` marks the ones left empty."""
    epoch = np.where(null, 0, days + cal.epoch0) if null is not None else days + cal.epoch0
    return pc.cast(pa.array(epoch.astype(np.int32), type=pa.date32(), mask=null), pa.string())


def timestamp_suffix(hour: int, minute: int, style: TimestampStyle) -> str:
    """What follows the date in a timestamp written in ``style`` (UTC, +02:00 or naive)."""
    if style == "offset":
        return f"T{hour + 2:02d}:{minute:02d}:00+02:00"
    if style == "naive":
        return f"T{hour:02d}:{minute:02d}:00"
    return f"T{hour:02d}:{minute:02d}:00Z"


def timestamp(cal: Calendar, day: int, style: TimestampStyle = "utc") -> str:
    """The ``updated_at`` of a file sent on ``day``."""
    return cal.iso(day) + timestamp_suffix(5, 30, style)


# --------------------------------------------------------------------------- delta files


def delta_windows(cal: Calendar) -> list[tuple[int, int]]:
    """(previous file day, this file day) for each delta file."""
    return list(zip([cal.full_day, *cal.delta_days[:-1]], cal.delta_days, strict=True))


def between(values: np.ndarray, after: int, until: int) -> np.ndarray:
    """Which of ``values`` (days) fall after one file and on or before the next."""
    return (values > after) & (values <= until)


def changed(rng: np.random.Generator, eligible: np.ndarray, share: float) -> np.ndarray:
    """Sorted indices of about ``share`` of the eligible rows (at least one), to re-send."""
    candidates = np.nonzero(eligible)[0]
    if candidates.size == 0:
        return candidates
    count = min(candidates.size, max(1, round(share * candidates.size)))
    return np.sort(rng.choice(candidates, size=count, replace=False))
