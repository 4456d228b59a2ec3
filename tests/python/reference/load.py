"""Inputs of the reference: the landed raw tables and the tenant settings seed."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from reference.forecast import SaleVersion, SkuVersion, TenantSettings

_PARAMETERS = ("season_length", "window_length", "seasons", "backtest_periods", "horizon_periods")


def read_tenant_settings(path: Path) -> dict[str, TenantSettings]:
    """The dbt seed tenant_settings.csv: grain and optional parameter overrides."""
    settings: dict[str, TenantSettings] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            overrides = {name: int(row[name]) if row.get(name) else None for name in _PARAMETERS}
            settings[row["tenant_id"]] = TenantSettings(grain=row["grain"] or "day", **overrides)
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
