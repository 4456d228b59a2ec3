"""The reference implementation against hand-computed cases from the spec."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import numpy as np
import pytest

from reference import (
    Parameters,
    TenantSettings,
    Totals,
    forecast_all,
    forecast_series,
    method_forecast,
    quantile,
)
from reference.backtest import ranking_key, window_count
from reference.forecast import SaleVersion, SkuVersion, history_end, roll_up
from reference.methods import ses_level

SMALL = Parameters(
    season_length=2,
    window_length=2,
    seasons=2,
    backtest_periods=2,
    backtest_windows=2,
    horizon_periods=3,
)
# Weights whose sums of small whole numbers are exact in binary.
HALVES = Parameters(
    2, 2, 2, 2, 2, 3, croston_alpha=0.5, tsb_demand_alpha=0.5, tsb_probability_alpha=0.25
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
        # no zeros: z = y, p = 1, 1, ...; SES_0.1(1..6) = 2.31441
        ("croston_classic", [2.31441] * 3),
        ("croston_sba", [0.95 * 2.31441] * 3),
        ("tsb", [2.31441] * 3),
        ("short_history_mean", [3.5] * 3),
    ],
)
def test_each_method_by_hand(method: str, expected: list[float]) -> None:
    assert method_forecast(method, Y, 3, SMALL) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("y", "croston", "tsb"),
    [
        ([0.0, 0.0, 0.0, 0.0], 0.0, 0.0),  # no demand at all
        ([0.0, 6.0, 0.0], 3.0, 1.125),  # z = 6, p = 2; d smooths to 0.1875
        ([2.0, 0.0, 4.0, 0.0, 0.0], 2.0, 1.37109375),  # z to 3, p to 1.5; d to 0.45703125
        ([0.0, 0.0, 0.0, 8.0, 2.0], 2.0, 2.1875),  # z to 5, p = 4, 1 to 2.5; d to 0.4375
    ],
    ids=["all_zero", "single_demand", "trailing_zeros", "late_first_demand"],
)
def test_intermittent_methods_by_hand(y: list[float], croston: float, tsb: float) -> None:
    assert method_forecast("croston_classic", y, 2, HALVES) == [croston, croston]
    assert method_forecast("croston_sba", y, 1, HALVES) == [0.95 * croston]
    assert method_forecast("tsb", y, 1, HALVES) == [tsb]


def test_ses_level_is_the_recursion_from_the_first_value() -> None:
    assert ses_level([4.0], 0.3) == 4.0
    assert ses_level([4.0, 0.0, 2.0], 0.5) == 0.5 * 2 + 0.5 * (0.5 * 0 + 0.5 * 4)


@pytest.mark.parametrize(
    ("method", "needs"),
    [("naive", 1), ("seasonal_naive", 2), ("window_average", 2), ("seasonal_window_average", 4)],
)
def test_a_method_needs_enough_observations(method: str, needs: int) -> None:
    assert method_forecast(method, Y[: needs - 1], 1, SMALL) is None
    assert method_forecast(method, Y[:needs], 1, SMALL) is not None


@pytest.mark.parametrize(("n", "windows"), [(2, 0), (3, 1), (4, 1), (5, 2), (50, 2)])
def test_a_series_has_the_windows_that_leave_a_period_to_fit(n: int, windows: int) -> None:
    assert window_count(n, SMALL) == windows


def test_a_series_without_a_window_uses_the_mean() -> None:
    series = forecast_series([2.0, 0.0], SMALL)
    assert (series.method, series.draft, series.lower, series.members) == (
        "short_history_mean",
        [1.0, 1.0, 1.0],
        None,
        (),
    )
    assert series.scores == []


def test_two_windows_pool_their_points() -> None:
    # windows: fit 1..6 holds out 7, 8; fit 1..4 holds out 5, 6
    series = forecast_series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], SMALL)
    naive = next(s for s in series.scores if s.method == "naive")
    # naive says 6, 6 then 4, 4: |e| = 1 + 2 + 1 + 2 over sum y = 26
    assert naive.overall == Totals(periods=4, absolute_error=6.0, error=-6.0, actual=26.0)
    assert naive.window_1 == Totals(periods=2, absolute_error=3.0, error=-3.0, actual=15.0)
    assert naive.window_count == 2


def test_a_method_eligible_in_window_1_only_takes_no_part() -> None:
    wide = Parameters(2, 5, 2, 2, 2, 3)  # w = 5: fits of 6 (window 1) and 4 (window 2)
    methods = {s.method for s in forecast_series([float(v) for v in range(1, 9)], wide).scores}
    assert "window_average" not in methods
    assert {"naive", "seasonal_window_average", "tsb"} <= methods


def test_the_draft_is_the_median_of_the_three_best_with_its_interval() -> None:
    series = forecast_series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], SMALL)
    # WAPE naive 6/26, seasonal_naive 8/26 = window_average 8/26 (the order decides)
    assert series.members == ("naive", "seasonal_naive", "window_average")
    # final fits: naive 8, 8, 8; seasonal_naive 7, 8, 7; window_average 7.5
    assert series.draft == [7.5, 8.0, 7.5]
    # backtest medians 5.5, 6 and 3.5, 4 miss by 1.5, 2, 1.5, 2: the 0.8-quantile is 2
    assert series.lower == [5.5, 6.0, 5.5]
    assert series.upper == [9.5, 10.0, 9.5]
    assert series.combined == Totals(periods=4, absolute_error=7.0, error=-7.0, actual=26.0)


def test_nested_members_are_ranked_without_window_1_and_scored_on_it() -> None:
    series = forecast_series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], SMALL)
    # window 2 alone ranks the same three first; their window-1 median is 5.5, 6
    assert series.nested == Totals(periods=2, absolute_error=3.5, error=-3.5, actual=15.0)
    # the nested q from window 2's errors 1.5, 2: 1.5 + 0.5 * 0.8 = 1.9, so
    # 7 lies in 3.6..7.4 and 8 outside 4.1..7.9
    assert series.nested_covered == 1
    assert {s.method: s.nested_rank for s in series.scores if s.is_member} == {
        "naive": 1,
        "seasonal_naive": 2,
        "window_average": 3,
    }


def test_one_window_has_no_nested_score() -> None:
    series = forecast_series([1.0, 2.0, 3.0, 4.0], SMALL)
    assert series.window_count == 1
    assert series.nested is None and series.nested_covered is None
    assert all(s.nested_rank is None for s in series.scores)


def test_ranking_rounds_to_nine_decimals_then_takes_the_method_order() -> None:
    def order(scores: dict[str, float]) -> list[str]:
        return sorted(scores, key=lambda m: ranking_key(scores[m], m))

    assert order({"tsb": 0.3 + 1e-16, "croston_classic": 0.3, "naive": 0.3000000004}) == [
        "naive",
        "croston_classic",
        "tsb",
    ]
    assert order({"naive": 0.300000001, "ses": 0.3}) == ["ses", "naive"]


def test_quantile_is_numpys_linear_interpolation() -> None:
    rng = random.Random(5)
    for _ in range(200):
        values = [rng.choice([0.0, rng.uniform(0, 100)]) for _ in range(rng.randint(1, 60))]
        level = rng.choice([0.0, 0.5, 0.8, 0.95, 1.0, rng.random()])
        assert quantile(values, level) == pytest.approx(
            float(np.quantile(values, level)), abs=1e-12
        )
    assert quantile([0.0, 1.0, 2.0, 3.0], 0.5) == 1.5


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


def _sale(
    sku: str, day: dt.date, units: int, updated: int = 1, seq: int = 1, line: int = 2
) -> SaleVersion:
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
    assert [
        (r.sku_id, r.forecast_date, r.step, r.draft_qty, r.lower_qty, r.method, r.members)
        for r in result.draft
    ] == [
        ("a", dt.date(2024, 1, 4), 1, 2.0, None, "short_history_mean", None),
        ("a", dt.date(2024, 1, 5), 2, 2.0, None, "short_history_mean", None),
    ]
    assert result.accuracy == []


def test_tenant_settings_override_the_spec_defaults() -> None:
    p = TenantSettings(grain="week", backtest_windows=3, interval_level=0.9).parameters()
    assert (p.season_length, p.backtest_periods, p.backtest_windows) == (52, 13, 3)
    assert (p.ses_alpha, p.croston_alpha, p.interval_level) == (0.3, 0.1, 0.9)


def test_the_roll_up_is_on_window_1_with_the_nested_coverage() -> None:
    day = dt.date(2024, 1, 1)
    sales = [_sale("a", day + dt.timedelta(days=i), i + 1) for i in range(8)]
    settings = {"t": TenantSettings(grain="day", season_length=2, window_length=2, seasons=2,
                                    backtest_periods=2, horizon_periods=3)}  # fmt: skip
    result = forecast_all(sales, [], settings)
    rows = {r.method: r for r in result.accuracy}
    assert rows["top3_median"].is_selected and not rows["naive"].is_selected
    assert rows["top3_median"].window_1_coverage == 0.5
    rolled = roll_up(result.accuracy, {"t": 0.8})
    assert rolled[("t", "naive")].totals == rows["naive"].window_1
    top = rolled[("t", "top3_median")]
    assert (top.series_count, top.interval_coverage, top.interval_level) == (1, 0.5, 0.8)
    assert top.totals.wape == pytest.approx(3.5 / 15)
