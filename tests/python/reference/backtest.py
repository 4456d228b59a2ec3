"""Rolling-origin backtest, ranking, the median of the best three and its interval.

One series at a time, straight from the spec: every window is refitted
from scratch with the methods' own recursions, and every score is a plain
sum over the points.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from reference.methods import METHOD_ORDER, SHORT_HISTORY_METHOD, Parameters, method_forecast

MEMBERS = 3
# Ranking compares scores rounded to 9 decimal places: the key is the score
# times 1e9 (a double), rounded half away from zero to a whole number; the
# SQL computes the same key (macro ranking_score_key).
RANKING_SCALE = 1e9


@dataclass(frozen=True)
class Totals:
    """The sums behind a score over a set of backtest points."""

    periods: int = 0
    absolute_error: float = 0.0
    error: float = 0.0
    actual: float = 0.0

    @property
    def wape(self) -> float | None:
        return self.absolute_error / self.actual if self.actual != 0 else None

    @property
    def mae(self) -> float | None:
        return self.absolute_error / self.periods if self.periods else None

    @property
    def bias(self) -> float | None:
        return self.error / self.actual if self.actual != 0 else None

    @property
    def ranking_score(self) -> float:
        """WAPE, or MAE where WAPE is null."""
        score = self.wape if self.wape is not None else self.mae
        assert score is not None
        return score

    def plus(self, other: Totals) -> Totals:
        return Totals(
            self.periods + other.periods,
            self.absolute_error + other.absolute_error,
            self.error + other.error,
            self.actual + other.actual,
        )


def totals_of(actuals: Sequence[float], forecasts: Sequence[float]) -> Totals:
    pairs = list(zip(actuals, forecasts, strict=True))
    return Totals(
        periods=len(pairs),
        absolute_error=sum(abs(a - f) for a, f in pairs),
        error=sum(f - a for a, f in pairs),
        actual=sum(abs(a) for a in actuals),
    )


def pooled(parts: Sequence[Totals]) -> Totals:
    total = Totals()
    for part in parts:
        total = total.plus(part)
    return total


def ranking_key(score: float, method: str) -> tuple[int, int]:
    scaled = Decimal(score * RANKING_SCALE).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(scaled), METHOD_ORDER.index(method)


def quantile(values: Sequence[float], level: float) -> float:
    """The level-quantile with linear interpolation between order statistics."""
    ordered = sorted(values)
    position = level * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def window_count(n: int, p: Parameters) -> int:
    """The windows i = 1..k with N - i*b >= 1."""
    return max(0, min(p.backtest_windows, (n - 1) // p.backtest_periods))


@dataclass(frozen=True)
class Window:
    actuals: list[float]
    # method -> its b forecasts, for the methods eligible in this window
    forecasts: dict[str, list[float]]


@dataclass(frozen=True)
class MethodScore:
    method: str
    overall: Totals
    window_1: Totals
    window_count: int
    rank: int
    nested_rank: int | None

    @property
    def is_member(self) -> bool:
        return self.rank <= MEMBERS


@dataclass
class SeriesForecast:
    """Everything the spec derives from one series."""

    method: str
    draft: list[float]
    members: tuple[str, ...] = ()
    lower: list[float] | None = None
    upper: list[float] | None = None
    window_count: int = 0
    scores: list[MethodScore] = field(default_factory=list)
    # the members' median over every backtest point (the points they were ranked on)
    combined: Totals | None = None
    # the nested members' median on window 1, and how many of its points the
    # nested interval covered; None with fewer than two windows
    nested: Totals | None = None
    nested_covered: int | None = None


def _ranked(methods: Sequence[str], totals: dict[str, Totals]) -> list[str]:
    return sorted(methods, key=lambda m: ranking_key(totals[m].ranking_score, m))


def _median_per_step(forecasts: Sequence[Sequence[float]]) -> list[float]:
    return [statistics.median(values) for values in zip(*forecasts, strict=True)]


def _combined_errors(windows: Sequence[Window], members: Sequence[str]) -> list[float]:
    errors: list[float] = []
    for window in windows:
        combined = _median_per_step([window.forecasts[m] for m in members])
        errors.extend(abs(a - c) for a, c in zip(window.actuals, combined, strict=True))
    return errors


def forecast_series(y: Sequence[float], p: Parameters) -> SeriesForecast:
    n, b, h = len(y), p.backtest_periods, p.horizon_periods
    k = window_count(n, p)
    if k == 0:
        short = method_forecast(SHORT_HISTORY_METHOD, y, h, p)
        assert short is not None
        return SeriesForecast(method=SHORT_HISTORY_METHOD, draft=short)

    windows = []
    for i in range(1, k + 1):
        fit, actuals = list(y[: n - i * b]), list(y[n - i * b : n - (i - 1) * b])
        forecasts = {}
        for method in METHOD_ORDER:
            predicted = method_forecast(method, fit, b, p)
            if predicted is not None:
                forecasts[method] = predicted
        windows.append(Window(actuals, forecasts))
    # A method takes part only if it is eligible in every window.
    taking_part = [m for m in METHOD_ORDER if all(m in w.forecasts for w in windows)]
    per_window = {m: [totals_of(w.actuals, w.forecasts[m]) for w in windows] for m in taking_part}
    overall = {m: pooled(per_window[m]) for m in taking_part}
    ranking = _ranked(taking_part, overall)
    members = tuple(ranking[:MEMBERS])
    nested_ranking: list[str] = []
    if k >= 2:
        earlier = {m: pooled(per_window[m][1:]) for m in taking_part}
        nested_ranking = _ranked(taking_part, earlier)

    finals = []
    for member in members:
        final = method_forecast(member, y, h, p)
        assert final is not None
        finals.append(final)
    draft = _median_per_step(finals)
    width = quantile(_combined_errors(windows, members), p.interval_level)
    result = SeriesForecast(
        method="top3_median",
        draft=draft,
        members=members,
        lower=[max(0.0, value - width) for value in draft],
        upper=[value + width for value in draft],
        window_count=k,
        combined=pooled(
            [
                totals_of(w.actuals, _median_per_step([w.forecasts[m] for m in members]))
                for w in windows
            ]
        ),
    )
    result.scores = [
        MethodScore(
            method=m,
            overall=overall[m],
            window_1=per_window[m][0],
            window_count=k,
            rank=ranking.index(m) + 1,
            nested_rank=nested_ranking.index(m) + 1 if nested_ranking else None,
        )
        for m in taking_part
    ]
    if nested_ranking:
        _score_nested(result, windows, tuple(nested_ranking[:MEMBERS]), p)
    return result


def _score_nested(
    result: SeriesForecast, windows: Sequence[Window], members: tuple[str, ...], p: Parameters
) -> None:
    """Members ranked on windows 2..k, scored on window 1; their interval's coverage."""
    latest = windows[0]
    forecast = _median_per_step([latest.forecasts[m] for m in members])
    width = quantile(_combined_errors(windows[1:], members), p.interval_level)
    result.nested = totals_of(latest.actuals, forecast)
    result.nested_covered = sum(
        1
        for actual, value in zip(latest.actuals, forecast, strict=True)
        if max(0.0, value - width) <= actual <= value + width
    )
