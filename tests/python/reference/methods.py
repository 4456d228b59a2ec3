"""The forecast methods of the spec, each as the recursion it defines.

Plain loops over the whole fit window: no closed forms and no terms left
out, so that the SQL's closed forms (which leave out terms weighing less
than 1e-12) are checked against the definition itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The methods that are backtested and ranked, in the order that breaks ties.
METHOD_ORDER: tuple[str, ...] = (
    "naive",
    "seasonal_naive",
    "window_average",
    "seasonal_window_average",
    "ses",
    "croston_classic",
    "croston_sba",
    "tsb",
)
SHORT_HISTORY_METHOD = "short_history_mean"
COMBINATION_METHOD = "top3_median"
SBA_FACTOR = 0.95


@dataclass(frozen=True)
class Parameters:
    season_length: int
    window_length: int
    seasons: int
    backtest_periods: int
    backtest_windows: int
    horizon_periods: int
    ses_alpha: float = 0.3
    croston_alpha: float = 0.1
    tsb_demand_alpha: float = 0.1
    tsb_probability_alpha: float = 0.1
    interval_level: float = 0.8


def ses_level(values: Sequence[float], alpha: float) -> float:
    """SES_a(x_1..x_n): l_1 = x_1, l_i = a * x_i + (1 - a) * l_(i-1)."""
    level = values[0]
    for value in values[1:]:
        level = alpha * value + (1 - alpha) * level
    return level


def demands_and_intervals(y: Sequence[float]) -> tuple[list[float], list[float]]:
    """z, the non-zero y_t in order, and p_j = t_j - t_(j-1) with t_0 = 0."""
    demands: list[float] = []
    intervals: list[float] = []
    previous = 0
    for position, value in enumerate(y, start=1):
        if value != 0:
            demands.append(value)
            intervals.append(float(position - previous))
            previous = position
    return demands, intervals


def croston_classic(y: Sequence[float], alpha: float) -> float:
    demands, intervals = demands_and_intervals(y)
    if not demands:
        return 0.0
    return ses_level(demands, alpha) / ses_level(intervals, alpha)


def tsb(y: Sequence[float], demand_alpha: float, probability_alpha: float) -> float:
    demands, _ = demands_and_intervals(y)
    if not demands:
        return 0.0
    occurrences = [1.0 if value > 0 else 0.0 for value in y]
    return ses_level(occurrences, probability_alpha) * ses_level(demands, demand_alpha)


def method_forecast(
    method: str, y: Sequence[float], steps: int, p: Parameters
) -> list[float] | None:
    """Forecasts for k = 1..steps after y_1..y_N, or None when the method needs more data.

    Indices follow the spec (1-based y_t), translated to Python lists.
    """
    n = len(y)
    m, w, seasons = p.season_length, p.window_length, p.seasons
    needs = {
        "seasonal_naive": m,
        "window_average": w,
        "seasonal_window_average": m * seasons,
    }
    if n < max(1, needs.get(method, 1)):
        return None

    def at(t: int) -> float:  # y_t, 1-based
        return y[t - 1]

    out: list[float]
    if method == "naive":
        out = [at(n)] * steps
    elif method == "seasonal_naive":
        out = [at(n - m + 1 + ((k - 1) % m)) for k in range(1, steps + 1)]
    elif method == "window_average":
        out = [sum(at(t) for t in range(n - w + 1, n + 1)) / w] * steps
    elif method == "seasonal_window_average":
        out = []
        for k in range(1, steps + 1):
            values = [at(n - m + 1 + ((k - 1) % m) - j * m) for j in range(seasons)]
            out.append(sum(values) / seasons)
    elif method == "ses":
        out = [ses_level(y, p.ses_alpha)] * steps
    elif method == "croston_classic":
        out = [croston_classic(y, p.croston_alpha)] * steps
    elif method == "croston_sba":
        out = [SBA_FACTOR * croston_classic(y, p.croston_alpha)] * steps
    elif method == "tsb":
        out = [tsb(y, p.tsb_demand_alpha, p.tsb_probability_alpha)] * steps
    elif method == SHORT_HISTORY_METHOD:
        out = [sum(y) / n] * steps
    else:
        raise ValueError(f"unknown method {method!r}")
    return [max(0.0, value) for value in out]
