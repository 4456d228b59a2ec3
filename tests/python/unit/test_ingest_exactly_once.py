"""Exactly once: the same bytes are ingested once and landed once."""

from __future__ import annotations

import os
from datetime import date

import duckdb

from forecast_hub.land import land_silver

SALES = (
    "sku_code,location_code,sale_date,units_sold,updated_at\n"
    "A,L1,2024-12-31,3,2025-02-02T00:00:00Z\n"
    "A,L1,2025-02-01,4,2025-02-02T00:00:00Z\n"
)


def _silver_files(data_dir) -> list[str]:
    silver = data_dir.settings.silver_dir
    return sorted(p.relative_to(silver).as_posix() for p in silver.rglob("*.parquet"))


def test_ingesting_twice_adds_nothing(data_dir):
    data_dir.drop("acme", "sales", "day1.csv", SALES)
    first = data_dir.ingest()
    files_after_first = _silver_files(data_dir)

    second = data_dir.ingest()

    assert [f.status for f in first.files] == ["ingested"]
    assert [f.status for f in second.files] == ["unchanged"]
    assert _silver_files(data_dir) == files_after_first
    assert len(data_dir.silver("sales")) == 2


def test_same_bytes_under_a_new_name_or_touched_are_duplicates(data_dir):
    original = data_dir.drop("acme", "sales", "day1.csv", SALES)
    data_dir.ingest()
    data_dir.drop("acme", "sales", "day1_resent.csv", SALES)
    os.utime(original, ns=(1, 1))  # same bytes, new modification time

    reports = data_dir.ingest().files
    statuses = {f.path: (f.status, f.reason) for f in reports}

    assert statuses["acme/sales/day1_resent.csv"][0] == "duplicate"
    assert "acme/sales/day1.csv" in statuses["acme/sales/day1_resent.csv"][1]
    assert statuses["acme/sales/day1.csv"][0] == "duplicate"
    assert len(data_dir.silver("sales")) == 2
    # Recognised by checksum before any parsing.
    assert all(set(f.phase_seconds) == {"scan"} for f in reports)


def test_changed_bytes_under_the_same_name_are_a_new_version(data_dir):
    data_dir.drop("acme", "sales", "day1.csv", SALES)
    data_dir.ingest()
    data_dir.drop("acme", "sales", "day1.csv", SALES + "B,L1,2025-02-01,1,2025-02-03\n")

    (file_report,) = data_dir.ingest().files

    assert (file_report.status, file_report.rows_in) == ("ingested", 3)
    versions = data_dir.silver("sales", "distinct file_sha256, source_file_seq", "2")
    assert [seq for _, seq in versions] == [1, 2]


def test_sales_are_partitioned_by_tenant_and_year(data_dir):
    data_dir.drop("acme", "sales", "day1.csv", SALES)
    data_dir.drop("globex", "sales", "day1.csv", SALES)
    data_dir.ingest()

    files = _silver_files(data_dir)

    assert [f.rsplit("/", 1)[0] for f in files] == [
        "sales/tenant_id=acme/sale_year=2024",
        "sales/tenant_id=acme/sale_year=2025",
        "sales/tenant_id=globex/sale_year=2024",
        "sales/tenant_id=globex/sale_year=2025",
    ]
    one_tenant = data_dir.settings.silver_dir / "sales" / "tenant_id=acme" / "**" / "*.parquet"
    assert duckdb.sql(
        f"select distinct tenant_id from read_parquet('{one_tenant}', hive_partitioning = true)"
    ).fetchall() == [("acme",)]
    one_year = data_dir.settings.silver_dir / "sales" / "*" / "sale_year=2025" / "*.parquet"
    assert duckdb.sql(
        f"select sale_date, count(*) from read_parquet('{one_year}') group by all"
    ).fetchall() == [(date(2025, 2, 1), 2)]


def test_landing_twice_loads_each_silver_file_once(data_dir):
    data_dir.drop("acme", "sales", "day1.csv", SALES)
    data_dir.drop(
        "acme", "skus", "skus.csv", "sku_code,sku_name,category,updated_at\nA,a,c,2025-01-01\n"
    )
    data_dir.ingest()

    first = land_silver(data_dir.settings)
    second = land_silver(data_dir.settings)
    data_dir.drop("acme", "sales", "day2.csv", SALES.replace("2025-02-01", "2025-02-02"))
    data_dir.ingest()
    third = land_silver(data_dir.settings)

    assert (first.files_loaded, first.rows_loaded) == (3, 3)
    assert (second.files_loaded, second.files_already_loaded) == (0, 3)
    assert (third.files_loaded, third.rows_loaded) == (2, 2)
    with duckdb.connect(str(data_dir.settings.warehouse_path), read_only=True) as warehouse:
        counts = warehouse.execute(
            "select (select count(*) from raw.sales), (select count(*) from raw.skus), "
            "(select count(*) from raw.load_history), "
            "(select count(distinct silver_file) from raw.sales)"
        ).fetchall()
    assert counts == [(4, 1, 5, 4)]
