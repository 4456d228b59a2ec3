"""The forecast spec, directly: series, backtest, the median of the best three, the draft."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, TypeVar

from reference.backtest import SeriesForecast, Totals, forecast_series
from reference.methods import COMBINATION_METHOD, Parameters

Grain = Literal["day", "week", "month"]

_GRAIN_DEFAULTS: dict[str, tuple[int, int, int, int, int, int]] = {
    # season m, window w, seasons n, backtest b, windows k, horizon h
    "day": (7, 28, 8, 28, 2, 91),
    "week": (52, 8, 2, 13, 2, 26),
    "month": (12, 6, 2, 6, 2, 12),
}
SPEC_DEFAULTS: dict[str, Parameters] = {
    grain: Parameters(*values) for grain, values in _GRAIN_DEFAULTS.items()
}


@dataclass(frozen=True)
class TenantSettings:
    """One tenant's row of the settings seed; None means the spec's default."""

    grain: Grain = "day"
    season_length: int | None = None
    window_length: int | None = None
    seasons: int | None = None
    backtest_periods: int | None = None
    backtest_windows: int | None = None
    horizon_periods: int | None = None
    ses_alpha: float | None = None
    croston_alpha: float | None = None
    tsb_demand_alpha: float | None = None
    tsb_probability_alpha: float | None = None
    interval_level: float | None = None

    def parameters(self) -> Parameters:
        default = SPEC_DEFAULTS[self.grain]
        chosen = {
            name: getattr(default, name) if getattr(self, name) is None else getattr(self, name)
            for name in Parameters.__dataclass_fields__
        }
        return Parameters(**chosen)


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
    lower_qty: float | None
    upper_qty: float | None
    method: str
    members: str | None


@dataclass(frozen=True)
class AccuracyRow:
    """A method's row, or the series' top3_median row (window_1 = its nested scores)."""

    tenant_id: str
    sku_id: str
    method: str
    overall: Totals
    window_1: Totals | None
    window_count: int
    method_rank: int | None
    nested_rank: int | None
    is_member: bool
    is_selected: bool
    window_1_covered_periods: int | None = None

    @property
    def is_nested_member(self) -> bool:
        return self.nested_rank is not None and self.nested_rank <= 3

    @property
    def window_1_coverage(self) -> float | None:
        if self.window_1_covered_periods is None or self.window_1 is None:
            return None
        return self.window_1_covered_periods / self.window_1.periods


@dataclass(frozen=True)
class RollupRow:
    """Per tenant and method, on window 1: summed over the series scored."""

    series_count: int
    totals: Totals
    interval_coverage: float | None
    interval_level: float | None


@dataclass
class Result:
    draft: list[DraftRow] = field(default_factory=list)
    accuracy: list[AccuracyRow] = field(default_factory=list)
    accuracy_by_tenant: dict[tuple[str, str], RollupRow] = field(default_factory=dict)
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


# --- the whole pipeline -----------------------------------------------------


Version = TypeVar("Version", SaleVersion, SkuVersion)


def _latest(
    versions: Iterable[Version], key: Callable[[Version], tuple[Any, ...]]
) -> dict[tuple[Any, ...], Version]:
    """Per natural key, the version with the latest updated_at, then file, then line."""
    winners: dict[tuple[Any, ...], tuple[tuple[Any, ...], Version]] = {}
    for version in versions:
        k = key(version)
        rank = (version.updated_at, version.source_file_seq, version.source_line)
        current = winners.get(k)
        if current is None or rank > current[0]:
            winners[k] = (rank, version)
    return {k: v for k, (_, v) in winners.items()}


def _series(grain: Grain, by_day: dict[dt.date, Decimal], end: dt.date) -> list[float] | None:
    """y_1..y_N from the first period with sales to T, periods without sales as 0."""
    per_period: dict[dt.date, Decimal] = defaultdict(Decimal)
    for day, qty in by_day.items():
        per_period[period_start(grain, day)] += qty
    starts = [s for s in per_period if s <= end]
    if not starts:
        return None
    y: list[float] = []
    current = min(starts)
    while current <= end:
        y.append(float(per_period.get(current, Decimal(0))))
        current = shift_period(grain, current, 1)
    return y


def _accuracy_rows(tenant: str, sku: str, series: SeriesForecast) -> list[AccuracyRow]:
    rows = [
        AccuracyRow(
            tenant_id=tenant,
            sku_id=sku,
            method=score.method,
            overall=score.overall,
            window_1=score.window_1,
            window_count=score.window_count,
            method_rank=score.rank,
            nested_rank=score.nested_rank,
            is_member=score.is_member,
            is_selected=False,
        )
        for score in series.scores
    ]
    if series.combined is not None:
        rows.append(
            AccuracyRow(
                tenant_id=tenant,
                sku_id=sku,
                method=COMBINATION_METHOD,
                overall=series.combined,
                window_1=series.nested,
                window_count=series.window_count,
                method_rank=None,
                nested_rank=None,
                is_member=False,
                is_selected=True,
                window_1_covered_periods=series.nested_covered,
            )
        )
    return rows


def _draft_rows(
    tenant: str, sku: str, grain: Grain, end: dt.date, series: SeriesForecast
) -> list[DraftRow]:
    members = ",".join(series.members) or None
    return [
        DraftRow(
            tenant_id=tenant,
            sku_id=sku,
            forecast_date=shift_period(grain, end, k),
            step=k,
            draft_qty=value,
            lower_qty=series.lower[k - 1] if series.lower else None,
            upper_qty=series.upper[k - 1] if series.upper else None,
            method=series.method,
            members=members,
        )
        for k, value in enumerate(series.draft, start=1)
    ]


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
    levels: dict[str, float] = {}
    for tenant in sorted(daily):
        tenant_settings = settings.get(tenant, TenantSettings())
        grain = tenant_settings.grain
        p = tenant_settings.parameters()
        levels[tenant] = p.interval_level
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
            y = _series(grain, daily[tenant][sku], end)
            if y is None:
                continue
            series = forecast_series(y, p)
            result.accuracy.extend(_accuracy_rows(tenant, sku, series))
            result.draft.extend(_draft_rows(tenant, sku, grain, end, series))
    result.accuracy_by_tenant = roll_up(result.accuracy, levels)
    return result


def roll_up(
    accuracy: Iterable[AccuracyRow], interval_levels: dict[str, float]
) -> dict[tuple[str, str], RollupRow]:
    """Window 1 per tenant and method; top3_median: the nested forecasts and their coverage."""
    totals: dict[tuple[str, str], Totals] = defaultdict(Totals)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    covered: dict[tuple[str, str], int] = defaultdict(int)
    for row in accuracy:
        if row.window_1 is None:  # top3_median of a series with a single window
            continue
        key = (row.tenant_id, row.method)
        totals[key] = totals[key].plus(row.window_1)
        counts[key] += 1
        covered[key] += row.window_1_covered_periods or 0
    rolled = {}
    for key, total in totals.items():
        is_combination = key[1] == COMBINATION_METHOD
        rolled[key] = RollupRow(
            series_count=counts[key],
            totals=total,
            interval_coverage=covered[key] / total.periods if is_combination else None,
            interval_level=interval_levels[key[0]] if is_combination else None,
        )
    return rolled
