"""The reference implementation against hand-computed cases from the spec."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from reference import Parameters, TenantSettings, forecast_all, method_forecast
from reference.forecast import (
    SaleVersion,
    Score,
    SkuVersion,
    backtest,
    history_end,
    select,
)

SMALL = Parameters(
    season_length=2, window_length=2, seasons=2, backtest_periods=2, horizon_periods=3
)
Y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("naive", [6, 6, 6]),
        ("seasonal_naive", [5, 6, 5]),
        ("window_average", [5.5, 5.5, 5.5]),
        ("seasonal_window_average", [4, 5, 4]),
        ("ses", [4.05883] * 3),
        ("short_history_mean", [3.5] * 3),
    ],
)
def test_each_method_by_hand(method: str, expected: list[float]) -> None:
    assert method_forecast(method, Y, 3, SMALL) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("method", "needs"),
    [("naive", 1), ("seasonal_naive", 2), ("window_average", 2), ("seasonal_window_average", 4)],
)
def test_a_method_needs_enough_observations(method: str, needs: int) -> None:
    assert method_forecast(method, Y[: needs - 1], 1, SMALL) is None
    assert method_forecast(method, Y[:needs], 1, SMALL) is not None


def test_backtest_scores_by_hand() -> None:
    # fit on 1..4, holdout 5, 6: naive says 4, 4 -> |e| = 1 + 2, sum y = 11
    naive = next(s for s in backtest(Y, SMALL) if s.method == "naive")
    assert naive.wape == pytest.approx(3 / 11)
    assert naive.mae == pytest.approx(1.5)
    assert naive.bias == pytest.approx(-3 / 11)


def test_a_holdout_without_sales_has_null_wape_and_bias() -> None:
    scores = backtest([3.0, 1.0, 0.0, 0.0], SMALL)
    assert all(s.wape is None and s.bias is None for s in scores)
    # MAE: naive 1, seasonal_naive 2, window_average 2, ses 2.4: the lowest MAE decides
    assert select(scores) == "naive"


def _score(method: str, wape: float | None, mae: float) -> Score:
    return Score(method, wape, mae, None, 1, 0.0, 0.0, 0.0)


def test_ties_go_to_the_first_method_in_the_fixed_order() -> None:
    scores = [_score("ses", 0.5, 5), _score("window_average", 0.5, 5), _score("naive", 0.6, 6)]
    assert select(scores) == "window_average"
    noisy = [_score("ses", 0.3, 3), _score("seasonal_naive", 0.3 + 1e-15, 3)]
    assert select(noisy) == "seasonal_naive"
    assert select([_score("naive", None, 2), _score("ses", None, 1)]) == "ses"


@pytest.mark.parametrize(
    ("grain", "last_sale", "expected"),
    [
        ("day", dt.date(2024, 3, 13), dt.date(2024, 3, 13)),
        ("week", dt.date(2024, 3, 10), dt.date(2024, 3, 4)),  # a Sunday: week complete
        ("week", dt.date(2024, 3, 13), dt.date(2024, 3, 4)),
        ("month", dt.date(2024, 2, 29), dt.date(2024, 2, 1)),
        ("month", dt.date(2024, 3, 13), dt.date(2024, 2, 1)),
    ],
)
def test_history_end_is_the_last_complete_period(
    grain: str, last_sale: dt.date, expected: dt.date
) -> None:
    assert history_end(grain, last_sale) == expected  # type: ignore[arg-type]


def _sale(sku: str, day: dt.date, units: int, updated: int = 1, seq: int = 1, line: int = 2):
    return SaleVersion(
        "t", sku, "l1", day, Decimal(units), dt.datetime(2024, 1, updated), seq, line
    )


def test_whole_pipeline_dedups_zero_fills_and_falls_back_to_the_mean() -> None:
    day = dt.date(2024, 1, 1)
    sales = [
        _sale("a", day, 2),
        _sale("a", day, 9, updated=1, seq=1, line=1),  # same updated_at, earlier line: loses
        _sale("a", day + dt.timedelta(days=2), 5, updated=1),
        _sale("a", day + dt.timedelta(days=2), 4, updated=3),  # correction wins
        _sale("gone", day, 1),
    ]
    skus = [SkuVersion("t", "gone", False, None, dt.datetime(2024, 1, 1), 1, 2)]
    settings = {"t": TenantSettings(grain="day", horizon_periods=2)}
    result = forecast_all(sales, skus, settings)
    # y = 2, 0, 4 (day 2 zero-filled); N - b = 3 - 28 < 1: short_history_mean = 2
    assert [(r.sku_id, r.forecast_date, r.step, r.draft_qty, r.method) for r in result.draft] == [
        ("a", dt.date(2024, 1, 4), 1, 2.0, "short_history_mean"),
        ("a", dt.date(2024, 1, 5), 2, 2.0, "short_history_mean"),
    ]
    assert result.accuracy == []
