"""The forecast spec, directly: series, methods, backtest, selection, draft."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Grain = Literal["day", "week", "month"]

METHOD_ORDER: tuple[str, ...] = (
    "naive",
    "seasonal_naive",
    "window_average",
    "seasonal_window_average",
    "ses",
)
SHORT_HISTORY_METHOD = "short_history_mean"
SES_ALPHA = 0.3
# Two scores this close (relative above 1) are a tie, decided by METHOD_ORDER:
# floating-point noise between mathematically equal forecasts must not decide.
TIE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Parameters:
    season_length: int
    window_length: int
    seasons: int
    backtest_periods: int
    horizon_periods: int


SPEC_DEFAULTS: dict[str, Parameters] = {
    "day": Parameters(7, 28, 8, 28, 91),
    "week": Parameters(52, 8, 2, 13, 26),
    "month": Parameters(12, 6, 2, 6, 12),
}


@dataclass(frozen=True)
class TenantSettings:
    """One tenant's row of the settings seed; None means the grain's default."""

    grain: Grain = "day"
    season_length: int | None = None
    window_length: int | None = None
    seasons: int | None = None
    backtest_periods: int | None = None
    horizon_periods: int | None = None

    def parameters(self) -> Parameters:
        default = SPEC_DEFAULTS[self.grain]
        return Parameters(
            season_length=self.season_length or default.season_length,
            window_length=self.window_length or default.window_length,
            seasons=self.seasons or default.seasons,
            backtest_periods=self.backtest_periods or default.backtest_periods,
            horizon_periods=self.horizon_periods or default.horizon_periods,
        )


@dataclass(frozen=True)
class SaleVersion:
    """One version of a sales line as landed (every correction is a row)."""

    tenant_id: str
    sku_code: str
    location_code: str
    sale_date: dt.date
    units_sold: Decimal
    updated_at: dt.datetime
    source_file_seq: int
    source_line: int


@dataclass(frozen=True)
class SkuVersion:
    tenant_id: str
    sku_code: str
    is_active: bool | None
    discontinued_on: dt.date | None
    updated_at: dt.datetime
    source_file_seq: int
    source_line: int


@dataclass(frozen=True)
class DraftRow:
    tenant_id: str
    sku_id: str
    forecast_date: dt.date
    step: int
    draft_qty: float
    method: str


@dataclass(frozen=True)
class AccuracyRow:
    tenant_id: str
    sku_id: str
    method: str
    wape: float | None
    mae: float
    bias: float | None
    holdout_periods: int
    is_selected: bool
    absolute_error_total: float
    error_total: float
    actual_total: float


@dataclass
class Result:
    draft: list[DraftRow] = field(default_factory=list)
    accuracy: list[AccuracyRow] = field(default_factory=list)
    # (tenant_id, method or "selected") -> (wape, mae, bias, series count)
    accuracy_by_tenant: dict[tuple[str, str], tuple[float | None, float, float | None, int]] = (
        field(default_factory=dict)
    )
    # tenant_id -> first date of T, the last complete period
    history_end: dict[str, dt.date] = field(default_factory=dict)


# --- calendar ---------------------------------------------------------------


def period_start(grain: Grain, day: dt.date) -> dt.date:
    if grain == "week":
        return day - dt.timedelta(days=day.isoweekday() - 1)
    if grain == "month":
        return day.replace(day=1)
    return day


def shift_period(grain: Grain, start: dt.date, periods: int) -> dt.date:
    """The period `periods` after the one starting on `start`."""
    if grain == "week":
        return start + dt.timedelta(weeks=periods)
    if grain == "month":
        months = start.year * 12 + start.month - 1 + periods
        return dt.date(months // 12, months % 12 + 1, 1)
    return start + dt.timedelta(days=periods)


def period_last_day(grain: Grain, start: dt.date) -> dt.date:
    if grain == "week":
        return start + dt.timedelta(days=6)
    if grain == "month":
        return start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return start


def history_end(grain: Grain, last_sale_date: dt.date) -> dt.date:
    """T: the period holding the last sale if it ends that day, else the one before."""
    start = period_start(grain, last_sale_date)
    if period_last_day(grain, start) == last_sale_date:
        return start
    return shift_period(grain, start, -1)


# --- methods ----------------------------------------------------------------


def method_forecast(
    method: str, y: Sequence[float], steps: int, p: Parameters
) -> list[float] | None:
    """Forecasts for k = 1..steps after y_1..y_N, or None when the method needs more data.

    Indices follow the spec (1-based y_t), translated to Python lists.
    """
    n = len(y)
    m, w, seasons = p.season_length, p.window_length, p.seasons

    def at(t: int) -> float:  # y_t, 1-based
        return y[t - 1]

    out: list[float] = []
    if method == "naive":
        if n < 1:
            return None
        out = [at(n)] * steps
    elif method == "seasonal_naive":
        if n < m:
            return None
        out = [at(n - m + 1 + ((k - 1) % m)) for k in range(1, steps + 1)]
    elif method == "window_average":
        if n < w:
            return None
        window = [at(t) for t in range(n - w + 1, n + 1)]
        out = [sum(window) / w] * steps
    elif method == "seasonal_window_average":
        if n < m * seasons:
            return None
        for k in range(1, steps + 1):
            values = [at(n - m + 1 + ((k - 1) % m) - j * m) for j in range(seasons)]
            out.append(sum(values) / seasons)
    elif method == "ses":
        if n < 1:
            return None
        level = at(1)
        for t in range(2, n + 1):
            level = SES_ALPHA * at(t) + (1 - SES_ALPHA) * level
        out = [level] * steps
    elif method == SHORT_HISTORY_METHOD:
        if n < 1:
            return None
        out = [sum(y) / n] * steps
    else:
        raise ValueError(f"unknown method {method!r}")
    return [max(0.0, value) for value in out]


@dataclass(frozen=True)
class Score:
    method: str
    wape: float | None
    mae: float
    bias: float | None
    holdout_periods: int
    absolute_error_total: float
    error_total: float
    actual_total: float


def backtest(y: Sequence[float], p: Parameters) -> list[Score]:
    b = p.backtest_periods
    if len(y) - b < 1:  # nothing left to fit on: no method can be backtested
        return []
    fit, holdout = list(y[: len(y) - b]), list(y[len(y) - b :])
    scores = []
    for method in METHOD_ORDER:
        predicted = method_forecast(method, fit, b, p)
        if predicted is None:
            continue
        abs_err = sum(abs(a - f) for a, f in zip(holdout, predicted, strict=True))
        err = sum(f - a for a, f in zip(holdout, predicted, strict=True))
        actual = sum(abs(a) for a in holdout)
        scores.append(
            Score(
                method=method,
                wape=abs_err / actual if actual != 0 else None,
                mae=abs_err / b,
                bias=err / actual if actual != 0 else None,
                holdout_periods=b,
                absolute_error_total=abs_err,
                error_total=err,
                actual_total=actual,
            )
        )
    return scores


def _close(value: float, best: float) -> bool:
    return value <= best + TIE_TOLERANCE * max(1.0, best)


def select(scores: Sequence[Score]) -> str:
    """Lowest WAPE (lowest MAE when WAPE is null); ties to the first in METHOD_ORDER."""
    if not scores:
        return SHORT_HISTORY_METHOD
    with_wape = [s for s in scores if s.wape is not None]
    if with_wape:
        best = min(s.wape for s in with_wape)  # type: ignore[type-var]
        candidates = {s.method for s in with_wape if _close(s.wape, best)}  # type: ignore[arg-type]
    else:
        best = min(s.mae for s in scores)
        candidates = {s.method for s in scores if _close(s.mae, best)}
    return next(method for method in METHOD_ORDER if method in candidates)


# --- the whole pipeline -----------------------------------------------------


def _latest(versions: Iterable, key) -> dict:
    """Per natural key, the version with the latest updated_at, then file, then line."""
    winners: dict = {}
    for version in versions:
        k = key(version)
        rank = (version.updated_at, version.source_file_seq, version.source_line)
        current = winners.get(k)
        if current is None or rank > current[0]:
            winners[k] = (rank, version)
    return {k: v for k, (_, v) in winners.items()}


def forecast_all(
    sales: Iterable[SaleVersion],
    skus: Iterable[SkuVersion],
    settings: dict[str, TenantSettings],
) -> Result:
    sales_latest = _latest(sales, lambda s: (s.tenant_id, s.sku_code, s.location_code, s.sale_date))
    sku_latest = _latest(skus, lambda s: (s.tenant_id, s.sku_code))

    daily: dict[str, dict[str, dict[dt.date, Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Decimal))
    )
    for (tenant, sku, _location, day), sale in sales_latest.items():
        daily[tenant][sku][day] += sale.units_sold

    result = Result()
    for tenant in sorted(daily):
        tenant_settings = settings.get(tenant, TenantSettings())
        grain = tenant_settings.grain
        p = tenant_settings.parameters()
        last_sale = max(day for by_day in daily[tenant].values() for day in by_day)
        end = history_end(grain, last_sale)
        end_last_day = period_last_day(grain, end)
        result.history_end[tenant] = end

        for sku in sorted(daily[tenant]):
            master = sku_latest.get((tenant, sku))
            if master is not None:
                if master.is_active is False:
                    continue
                if master.discontinued_on is not None and master.discontinued_on <= end_last_day:
                    continue
            per_period: dict[dt.date, Decimal] = defaultdict(Decimal)
            for day, qty in daily[tenant][sku].items():
                per_period[period_start(grain, day)] += qty
            starts = [s for s in per_period if s <= end]
            if not starts:
                continue
            y: list[float] = []
            current = min(starts)
            while current <= end:
                y.append(float(per_period.get(current, Decimal(0))))
                current = shift_period(grain, current, 1)

            scores = backtest(y, p)
            method = select(scores)
            for score in scores:
                result.accuracy.append(
                    AccuracyRow(
                        tenant_id=tenant,
                        sku_id=sku,
                        method=score.method,
                        wape=score.wape,
                        mae=score.mae,
                        bias=score.bias,
                        holdout_periods=score.holdout_periods,
                        is_selected=score.method == method,
                        absolute_error_total=score.absolute_error_total,
                        error_total=score.error_total,
                        actual_total=score.actual_total,
                    )
                )
            values = method_forecast(method, y, p.horizon_periods, p)
            assert values is not None
            for k, value in enumerate(values, start=1):
                result.draft.append(
                    DraftRow(tenant, sku, shift_period(grain, end, k), k, value, method)
                )

    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0, 0])
    for row in result.accuracy:
        keys = [(row.tenant_id, row.method)]
        if row.is_selected:
            keys.append((row.tenant_id, "selected"))
        for key in keys:
            total = totals[key]
            total[0] += row.absolute_error_total
            total[1] += row.error_total
            total[2] += row.actual_total
            total[3] += row.holdout_periods
            total[4] += 1
    for key, (abs_err, err, actual, periods, count) in totals.items():
        result.accuracy_by_tenant[key] = (
            abs_err / actual if actual else None,
            abs_err / periods,
            err / actual if actual else None,
            int(count),
        )
    return result
