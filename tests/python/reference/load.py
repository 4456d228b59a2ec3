"""Inputs of the reference: the landed raw tables and the tenant settings seed."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, cast

import duckdb

from reference.forecast import Grain, SaleVersion, SkuVersion, TenantSettings

_PERIODS = (
    "season_length",
    "window_length",
    "seasons",
    "backtest_periods",
    "backtest_windows",
    "horizon_periods",
)
_FRACTIONS = (
    "ses_alpha",
    "croston_alpha",
    "tsb_demand_alpha",
    "tsb_probability_alpha",
    "interval_level",
)


def read_tenant_settings(path: Path) -> dict[str, TenantSettings]:
    """The dbt seed tenant_settings.csv: grain and optional parameter overrides."""
    settings: dict[str, TenantSettings] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            grain = row["grain"] or "day"
            if grain not in ("day", "week", "month"):
                raise ValueError(f"tenant_settings.csv: unknown grain {grain!r}")
            overrides: dict[str, Any] = {
                name: int(row[name]) if row.get(name) else None for name in _PERIODS
            }
            overrides.update(
                (name, float(row[name]) if row.get(name) else None) for name in _FRACTIONS
            )
            settings[row["tenant_id"]] = TenantSettings(grain=cast(Grain, grain), **overrides)
    return settings


def load_inputs(warehouse: Path) -> tuple[list[SaleVersion], list[SkuVersion]]:
    """Every version of every sales line and SKU from the raw schema."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        sales = [
            SaleVersion(*row)
            for row in con.sql(
                "select tenant_id, sku_code, location_code, sale_date, units_sold, "
                "updated_at, source_file_seq, source_line from raw.sales"
            ).fetchall()
        ]
        skus = [
            SkuVersion(*row)
            for row in con.sql(
                "select tenant_id, sku_code, is_active, discontinued_on, updated_at, "
                "source_file_seq, source_line from raw.skus"
            ).fetchall()
        ]
    finally:
        con.close()
    return sales, skus
