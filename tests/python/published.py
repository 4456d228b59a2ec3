"""The planning page's tables for a hand-made draft, as a build publishes them.

Tests that publish a draft with ``publish_snapshot`` rather than a dbt
build pass ``page_tables(draft)`` beside it: for each drafted series a name,
a category and a colour, ``history_periods`` days of history ending the day
before its first forecast date, and accuracy rows of three methods and the
combination; for each tenant its grain and a roll-up. What differs between
series follows the series' position among its tenant's SKUs (0, 1, ...).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

CATEGORIES = ("Dairy", "Bakery", "Produce")
METHODS = ("naive", "ses", "tsb")


def sku_name(sku_id: str) -> str:
    return f"Item {sku_id.upper()}"


def history_qty(index: int, period: int) -> float:
    """The units of a series' period: a weekly pattern, different per series."""
    return float((period * 7 + index * 3) % 11)


def _series(draft: pa.Table) -> list[tuple[str, str, dt.date, int]]:
    """(tenant, SKU, first forecast date, position in the tenant) of each drafted series."""
    first: dict[tuple[str, str], dt.date] = {}
    for row in draft.select(["tenant_id", "sku_id", "forecast_date"]).to_pylist():
        key = (row["tenant_id"], row["sku_id"])
        first[key] = min(first.get(key, row["forecast_date"]), row["forecast_date"])
    series, positions = [], {}
    for (tenant, sku), date in sorted(first.items()):
        positions[tenant] = positions.get(tenant, -1) + 1
        series.append((tenant, sku, date, positions[tenant]))
    return series


def _accuracy(series: list[tuple[str, str, dt.date, int]]) -> pa.Table:
    rows = []
    for tenant, sku, _, index in series:
        for rank, method in enumerate(METHODS, start=1):
            wape = 0.2 + 0.1 * rank + 0.01 * index
            rows.append((tenant, sku, method, wape, rank, rank <= 2, False, None))
        rows.append((tenant, sku, "top3_median", 0.25 + 0.01 * index, None, False, True, 0.8))
    return pa.table(
        {
            "tenant_id": [r[0] for r in rows],
            "sku_id": [r[1] for r in rows],
            "method": [r[2] for r in rows],
            "wape": [r[3] for r in rows],
            "mae": [2 * r[3] for r in rows],
            "bias": [-0.01 for _ in rows],
            "window_1_wape": [r[3] + 0.05 for r in rows],
            "window_1_mae": [2 * r[3] + 0.1 for r in rows],
            "window_1_bias": [0.02 for _ in rows],
            "window_count": pa.array([3 for _ in rows], pa.int32()),
            "method_rank": pa.array([r[4] for r in rows], pa.int32()),
            "nested_rank": pa.array([r[4] for r in rows], pa.int32()),
            "is_member": [r[5] for r in rows],
            "is_nested_member": [r[5] for r in rows],
            "is_selected": [r[6] for r in rows],
            "window_1_coverage": pa.array([r[7] for r in rows], pa.float64()),
        }
    )


def _roll_up(tenants: list[str]) -> pa.Table:
    rows = [
        (tenant, method, 0.3 + 0.05 * rank, None, None)
        for tenant in tenants
        for rank, method in enumerate(METHODS)
    ] + [(tenant, "top3_median", 0.28, 0.79, 0.8) for tenant in tenants]
    return pa.table(
        {
            "tenant_id": [r[0] for r in rows],
            "method": [r[1] for r in rows],
            "series_count": pa.array([4 for _ in rows], pa.int32()),
            "holdout_periods": pa.array([28 for _ in rows], pa.int32()),
            "wape": [r[2] for r in rows],
            "mae": [1.5 for _ in rows],
            "bias": [0.01 for _ in rows],
            "interval_coverage": pa.array([r[3] for r in rows], pa.float64()),
            "interval_level": pa.array([r[4] for r in rows], pa.float64()),
            "absolute_error_total": [10.0 for _ in rows],
            "actual_total": [40.0 for _ in rows],
        }
    )


def page_tables(
    draft: pa.Table, history_periods: int = 60, extra_skus: list[tuple[str, str]] | None = None
) -> dict[str, pa.Table]:
    """The page's tables of ``draft``; ``extra_skus`` (tenant, SKU) are known but not drafted."""
    series = _series(draft)
    tenants = sorted({tenant for tenant, *_ in series})
    described = [(t, sku, i) for t, sku, _, i in series]
    described += [(t, sku, len(series) + n) for n, (t, sku) in enumerate(extra_skus or [])]
    history = [
        (tenant, sku, first - dt.timedelta(days=history_periods - period), history_qty(i, period))
        for tenant, sku, first, i in series
        for period in range(history_periods)
    ]
    return {
        "tenants": pa.table({"tenant_id": tenants, "grain": ["day" for _ in tenants]}),
        "sku_attributes": pa.table(
            {
                "tenant_id": [tenant for tenant, _, _ in described],
                "sku_id": [sku for _, sku, _ in described],
                "sku_name": [sku_name(sku) for _, sku, _ in described],
                "category": [CATEGORIES[i % len(CATEGORIES)] for _, _, i in described],
                "color": [("red", "blue")[i % 2] for _, _, i in described],
            }
        ),
        "series_history": pa.table(
            {
                "tenant_id": [r[0] for r in history],
                "sku_id": [r[1] for r in history],
                "period_date": pa.array([r[2] for r in history], pa.date32()),
                "qty": [r[3] for r in history],
            }
        ),
        "series_accuracy": _accuracy(series),
        "tenant_accuracy": _roll_up(tenants),
    }
