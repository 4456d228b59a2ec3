"""Landing on PostgreSQL: every silver row once, value for value, one transaction per file."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from forecast_hub.errors import UserError
from forecast_hub.feeds import FEEDS, silver_columns
from forecast_hub.land import LandSummary
from forecast_hub.postgres import PostgresSettings
from forecast_hub.postgres import land as postgres_land
from forecast_hub.postgres.land import land_postgres
from forecast_hub.postgres.server import choose_port

SALES_DAY1 = (
    "sku_code,location_code,sale_date,units_sold,net_revenue,currency,updated_at\n"
    "A,L1,2024-12-31,3,10.5,EUR,2025-02-02T00:00:00Z\n"
    "A,L1,2025-01-01,4.25,,usd,2025-02-02T00:00:00Z\n"
    "B,L2,2025-01-02,0,0,EUR,2025-02-02T10:11:12Z\n"
)
SALES_DAY2 = (
    "sku_code,location_code,sale_date,units_sold,updated_at\n"
    "A,L1,2025-01-01,5,2025-02-03T00:00:00Z\n"
    "C,L1,2025-01-03,1.0001,2025-02-03T00:00:00Z\n"
)
# Commas, quotes and a line break inside values, empty optional fields, an
# unknown extra column: what CSV through COPY must carry unchanged.
SKUS = (
    "sku_code,sku_name,category,brand,is_active,launched_on,updated_at,shelf_note\n"
    'A,"Tea, green ""fine""",Drinks,,true,2024-01-01,2025-01-01T00:00:00Z,cool\n'
    'B,"Two\nlines",Food,Acme,,,2025-01-01T00:00:00Z,\n'
)
ATTRIBUTES = (
    "sku_code,attribute_name,attribute_value,updated_at\n"
    "A,Color,green,2025-01-01T00:00:00Z\n"
    "A,size,,2025-01-02T00:00:00Z\n"
)


def _drop_feeds(data_dir: Any) -> None:
    data_dir.drop("acme", "sales", "day1.csv", SALES_DAY1)
    data_dir.drop("acme", "sales", "day2.csv", SALES_DAY2)
    data_dir.drop("acme", "skus", "skus.csv", SKUS)
    data_dir.drop("globex", "sku_attributes", "attributes.csv", ATTRIBUTES)
    assert data_dir.ingest().ok


def _query(postgres: PostgresSettings, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(**postgres.connect_parameters()) as conn:
        return conn.execute(statement).fetchall()


def _silver_files(data_dir: Any) -> list[str]:
    silver = data_dir.settings.silver_dir
    return sorted(p.relative_to(silver).as_posix() for p in silver.rglob("*.parquet"))


def test_every_silver_row_lands_once_value_for_value(
    data_dir: Any, postgres_database: PostgresSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two rows a record batch: every file goes to COPY in several chunks.
    monkeypatch.setattr(postgres_land, "BATCH_ROWS", 2)
    _drop_feeds(data_dir)
    summary = land_postgres(data_dir.settings, postgres_database)

    assert summary == LandSummary(
        len(_silver_files(data_dir)), 9, 0, postgres_database.url(with_password=False)
    )
    for feed in ("sales", "skus", "sku_attributes"):
        columns = ", ".join(name for name, _ in silver_columns(FEEDS[feed]))
        order = "tenant_id, source_file, source_line"
        landed = _query(postgres_database, f"select {columns} from raw.{feed} order by {order}")
        assert landed == data_dir.silver(feed, columns, order), feed
    names = "select sku_code, brand, sku_name from raw.skus order by sku_code"
    assert _query(postgres_database, names) == [
        ("A", None, 'Tea, green "fine"'),
        ("B", "Acme", "Two\nlines"),
    ]


def test_the_load_history_has_a_row_per_file_with_its_rows_and_landing_time(
    data_dir: Any, postgres_database: PostgresSettings
) -> None:
    _drop_feeds(data_dir)
    land_postgres(data_dir.settings, postgres_database)

    history = _query(
        postgres_database,
        "select history.silver_file, history.feed, history.row_count, count(sales.*),"
        " min(sales.loaded_at) = history.loaded_at and max(sales.loaded_at) = history.loaded_at"
        " from raw.load_history as history"
        " left join raw.sales as sales on history.silver_file = sales.silver_file"
        " group by history.silver_file, history.feed, history.row_count, history.loaded_at"
        " order by history.silver_file",
    )
    assert [row[0] for row in history] == _silver_files(data_dir)
    for silver_file, feed, row_count, sales_rows, same_time in history:
        parquet = pq.ParquetFile(data_dir.settings.silver_dir / silver_file)
        assert row_count == parquet.metadata.num_rows
        if feed == "sales":
            assert (sales_rows, same_time) == (row_count, True), silver_file


def test_a_second_land_loads_nothing_and_a_third_only_the_new_file(
    data_dir: Any, postgres_database: PostgresSettings
) -> None:
    _drop_feeds(data_dir)
    first = land_postgres(data_dir.settings, postgres_database)
    counted = "select count(*), count(distinct silver_file) from raw.sales"
    before = _query(postgres_database, counted)

    second = land_postgres(data_dir.settings, postgres_database)

    assert (second.files_loaded, second.rows_loaded) == (0, 0)
    assert second.files_already_loaded == first.files_loaded
    assert _query(postgres_database, counted) == before
    data_dir.drop("acme", "sales", "day3.csv", SALES_DAY2.replace("2025-01-03", "2025-01-04"))
    data_dir.ingest()
    third = land_postgres(data_dir.settings, postgres_database)
    assert (third.files_loaded, third.rows_loaded) == (1, 2)


def _break_last_row(path: Path) -> bytes:
    """Rewrite a sales file with its last sale_date an impossible day; returns its bytes."""
    original = path.read_bytes()
    table = pq.read_table(path)
    dates = [value.isoformat() for value in table.column("sale_date").to_pylist()]
    dates[-1] = "2025-02-30"
    index = table.schema.get_field_index("sale_date")
    pq.write_table(table.set_column(index, "sale_date", pa.array(dates)), path)
    return original


def test_a_file_failing_midway_lands_nothing_of_itself_and_lands_next_time(
    data_dir: Any, postgres_database: PostgresSettings
) -> None:
    data_dir.drop("acme", "sales", "day1.csv", SALES_DAY1)
    data_dir.ingest()
    broken = max(data_dir.settings.silver_dir.rglob("*.parquet"))
    silver_file = broken.relative_to(data_dir.settings.silver_dir).as_posix()
    original = _break_last_row(broken)

    with pytest.raises(UserError) as failed:
        land_postgres(data_dir.settings, postgres_database)

    assert str(failed.value).startswith(f"silver file {broken} does not fit raw.sales (")
    assert "nothing of it was landed" in str(failed.value)
    of_file = f"where silver_file = '{silver_file}'"
    assert _query(postgres_database, f"select count(*) from raw.sales {of_file}") == [(0,)]
    assert _query(postgres_database, f"select count(*) from raw.load_history {of_file}") == [(0,)]
    landed_before = _query(postgres_database, "select count(*) from raw.load_history")

    broken.write_bytes(original)
    again = land_postgres(data_dir.settings, postgres_database)
    assert again.files_already_loaded == landed_before[0][0]
    assert again.files_loaded + again.files_already_loaded == len(_silver_files(data_dir))
    assert _query(postgres_database, f"select count(*) from raw.sales {of_file}") == [(2,)]
    assert _query(postgres_database, "select count(*) from raw.sales") == [(3,)]


def test_two_lands_at_once_load_each_file_once(
    data_dir: Any, postgres_database: PostgresSettings
) -> None:
    _drop_feeds(data_dir)
    summaries: list[LandSummary] = []

    def land() -> None:
        summaries.append(land_postgres(data_dir.settings, postgres_database))

    threads = [threading.Thread(target=land) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    files = len(_silver_files(data_dir))
    assert sorted(s.files_loaded + s.files_already_loaded for s in summaries) == [files, files]
    assert sum(s.files_loaded for s in summaries) == files
    assert _query(postgres_database, "select count(*) from raw.sales") == [(5,)]


def test_an_unreachable_server_is_a_one_line_error(data_dir: Any) -> None:
    _drop_feeds(data_dir)
    nowhere = PostgresSettings(port=choose_port())
    with pytest.raises(UserError) as failed:
        land_postgres(data_dir.settings, nowhere)
    message = str(failed.value)
    assert message.startswith(f"cannot connect to PostgreSQL at {nowhere.url()} (")
    assert "forecast-hub postgres start" in message and "\n" not in message
