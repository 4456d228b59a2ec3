"""The streaming path (Polars) against the DuckDB paths.

A file goes to silver through the streaming path only if its text is plain
CSV (no quotes, no carriage returns, no spaces around a field, the header's
count of commas on every line) and every row is good there. So, on plain
text, it must never accept a row the exact path rejects, must type every row
it accepts to the same values, and must write the same silver, file for file
and column for column, as the DuckDB fast path.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest
from test_ingest_fast_path import variant_rows
from test_ingest_rules import GOOD, HEADERS

from forecast_hub.feeds import FEEDS, Column
from forecast_hub.ingest.pipeline import Lineage, parse_header, run_pass
from forecast_hub.ingest.scan import scan_file
from forecast_hub.ingest.sql import (
    ERROR_COLUMN,
    quote_identifier,
    read_csv_call,
    validation_query,
)
from forecast_hub.ingest.stream import OK_COLUMN, is_plain, latest_date, stream_pass, typed_frame

INGESTED_AT = "2026-01-15T00:00:00+00:00"

# Plain values to try in every column of a type, including layouts Polars
# reads more loosely than DuckDB ('+2025-1-01', a 60th second).
CANDIDATES = {
    "text": [
        "abc", "EUR", "eur", "E1R", "store", "DC", "x" * 300, "é" * 40, "Ünï", "a\tb", "ab\t",
        "\u0130", "\u212a", "\uff24\uff23", "\u039f\u0394\u039f\u03a3", "Color", "9color", "",
    ],
    "date": [
        "2025-01-01", "2025-1-01", "+2025-1-01", "2025- 1-01", "-025-01-01", "0000-01-01",
        "01/02/2025", "20250101", "2025-02-30", "2024-02-29", "1999-12-31", "2099-01-01",
        "2025-01-01T00:00:00", "2025-01-01\t", "",
    ],
    "timestamp": [
        "2025-01-02T00:00:00Z", "2025-01-02T00:00:60Z", "2025-01-02T24:00:00Z",
        "+2025-1-02T00:00:00Z", "2025-01-02T0:00:000Z", "2025-01-02T 0:00:00Z",
        "2025-01-02 03:04:05", "2025-01-02T00:00:00+02:00", "2025-01-02T00:00:00.123456Z",
        "2025-01-02T00:00:00z", "2025-01-02", "yesterday", "",
    ],
    "decimal": [
        "3", "3.5", "-1", "0", "-0", "00012.10", "1e3", "1.23456", "1.00005", "1.23455", ".5",
        "5.", "-.5", "+2", "nan", "inf", "0x10", "12x", "1_000", "1000000001",
        "99999999999999.9999", "100000000000000", "3\t", "",
    ],
    "int": [
        "6", "+6", "-6", "0", "007", "6.0", "1.5", "1e2", "x", "9223372036854775807",
        "9223372036854775808", "6\t", "",
    ],
    "bool": [
        "yes", "Y", "TRUE", "false", "1", "0", "N", "maybe", "ye\u017f", "\uff39\uff25\uff33", "",
    ],
}  # fmt: skip


def _plain_file(path: Path, feed_name: str) -> list[str]:
    """The feed's good row with one column at a time replaced by each candidate."""
    rows = variant_rows(feed_name, CANDIDATES)
    names = HEADERS[feed_name].split(",")
    path.write_text("\n".join([HEADERS[feed_name], *rows]) + "\n")
    assert is_plain(scan_file(path), len(names))
    return rows


@pytest.mark.parametrize("feed_name", sorted(HEADERS))
def test_stream_accepts_only_what_the_exact_path_accepts(tmp_path: Path, feed_name: str) -> None:
    feed = FEEDS[feed_name]
    names = HEADERS[feed_name].split(",")
    path = tmp_path / f"{feed_name}.csv"
    rows = _plain_file(path, feed_name)
    field_of_column = {name: position for position, name in enumerate(names)}
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    query = validation_query(
        feed,
        read_csv_call(str(path), len(names), gzipped=False),
        field_of_column,
        {},
        f"timestamptz '{INGESTED_AT}'",
    )
    # Dates and times as numbers: some accepted values (year 0) are beyond Python's datetime.
    exact = connection.execute(
        f"select {', '.join(_as_number_sql(c) for c in feed.columns)}, {ERROR_COLUMN} "
        f"from ({query})"
    ).fetchall()
    own = [c.name for c in feed.columns]
    streamed = (
        typed_frame(path, feed, len(names), field_of_column, latest_date(INGESTED_AT))
        .collect()
        .select([*(_as_number(c) for c in feed.columns), OK_COLUMN, "source_line"])
        .rows()
    )
    assert [row[-1] for row in streamed] == list(range(2, len(rows) + 2))
    error_at = len(own)

    pairs = list(zip(streamed, exact, strict=True))
    accepted_bad = [
        (rows[i], theirs[error_at])
        for i, (ours, theirs) in enumerate(pairs)
        if ours[-2] and theirs[error_at] is not None
    ]
    assert accepted_bad == []
    typed_differently = [
        (rows[i], ours[: len(own)], theirs[: len(own)])
        for i, (ours, theirs) in enumerate(pairs)
        if ours[-2] and tuple(ours[: len(own)]) != tuple(theirs[: len(own)])
    ]
    assert typed_differently == []
    assert streamed[0][-2], "the feed's good row must be good here"
    assert not all(row[-2] for row in streamed)


def _as_number_sql(column: Column) -> str:
    name = quote_identifier(column.name)
    if column.type == "date":
        return f"{name} - date '1970-01-01'"
    if column.type == "timestamp":
        return f"epoch_us({name})"
    return name


def _as_number(column: Column) -> pl.Expr:
    if column.type == "date":
        return pl.col(column.name).cast(pl.Int32)
    if column.type == "timestamp":
        return pl.col(column.name).dt.epoch("us")
    return pl.col(column.name)


def _lineage(file_id: str) -> Lineage:
    return Lineage("acme", "acme/f/x.csv", 7, "ab" * 32, INGESTED_AT, file_id)


@pytest.mark.parametrize("feed_name", sorted(HEADERS))
def test_stream_writes_the_silver_of_the_duckdb_fast_path(tmp_path: Path, feed_name: str) -> None:
    feed = FEEDS[feed_name]
    good = GOOD[feed_name]
    rows = [good, good.replace("2025-01-02T", "2025-03-04T")]
    if feed.partition_date:  # and rows in three years
        rows += [good.replace("2025-01-01", "2024-12-31"), good.replace("2025-01-0", "2023-06-1")]
    path = tmp_path / f"{feed_name}.csv"
    path.write_text("\n".join([HEADERS[feed_name], *rows]) + "\n")
    header = parse_header(HEADERS[feed_name].encode(), feed)

    streamed = stream_pass(
        path, feed, header, _lineage("f1"), len(rows), tmp_path / "stream" / "silver"
    )
    fast = run_pass(
        path,
        False,
        feed,
        header,
        INGESTED_AT,
        lambda: _lineage("f1"),
        tmp_path / "fast" / "silver",
        expected_rows=lambda: len(rows),
    )

    assert streamed.clean and fast.clean
    assert streamed.rows_silver == fast.rows_silver == len(rows)
    layouts = [
        sorted(str(f.relative_to(tmp_path / side)) for f in (tmp_path / side).rglob("*.parquet"))
        for side in ("stream", "fast")
    ]
    assert layouts[0] == layouts[1]
    if feed.partition_date:
        assert len(layouts[0]) == 3  # one file per year
    read = "from read_parquet('{}/**/*.parquet', hive_partitioning = false)"
    stream_read, fast_read = (read.format(tmp_path / side) for side in ("stream", "fast"))
    describe = "select column_name, column_type from (describe select * {})"
    assert (
        duckdb.sql(describe.format(stream_read)).fetchall()
        == duckdb.sql(describe.format(fast_read)).fetchall()
    )
    ordered = "select * {} order by source_line"
    assert (
        duckdb.sql(ordered.format(stream_read)).fetchall()
        == duckdb.sql(ordered.format(fast_read)).fetchall()
    )


SALES = HEADERS["sales"]
GOOD_SALE = GOOD["sales"]


@pytest.mark.parametrize(
    ("name", "text", "numbering"),
    [
        ("plain", f"{SALES}\n{GOOD_SALE}\n{GOOD_SALE}\n", "stream"),
        ("quoted", f'{SALES}\n"A",L1,2025-01-01,3,,,2025-01-02T00:00:00Z\n', "fast"),
        ("crlf", f"{SALES}\r\n{GOOD_SALE}\r\n", "fast"),
        ("padded", f"{SALES}\nA,L1, 2025-01-01,3,,,2025-01-02T00:00:00Z\n", "fast"),
        ("other layout", f"{SALES}\nA,L1,2025-01-01,3,,,2025-01-02 10:00:00\n", "fast"),
        ("no final newline", f"{SALES}\n{GOOD_SALE}\n{GOOD_SALE}", "stream"),
        ("blank line", f"{SALES}\n{GOOD_SALE}\n\n{GOOD_SALE}\n", "exact"),
    ],
)  # fmt: skip
def test_only_plain_clean_files_take_the_stream(data_dir, name, text, numbering) -> None:
    data_dir.drop("acme", "sales", "s.csv", text)

    (file_report,) = data_dir.ingest().files

    assert (file_report.status, file_report.rows_quarantined) == ("ingested", 0)
    assert file_report.line_numbering == numbering
    assert file_report.rows_silver == text.strip().count("\n") - text.count("\n\n")


def test_a_short_row_is_quarantined_even_where_the_missing_field_is_optional(data_dir) -> None:
    # Polars pads a short row with nulls; the comma count keeps it off the stream.
    header = "updated_at,sku_code,location_code,sale_date,units_sold,currency"
    good = "2025-01-02T00:00:00Z,A,L1,2025-01-01,3,EUR"
    short = "2025-01-02T00:00:00Z,A,L1,2025-01-01,3"
    data_dir.drop("acme", "sales", "s.csv", f"{header}\n{good}\n{short}\n{good}\n")

    (file_report,) = data_dir.ingest().files

    assert file_report.line_numbering == "exact"
    assert data_dir.quarantine("source_line, rule, raw_text") == [(3, "field_count", short)]
    assert [line for (line,) in data_dir.silver("sales", "source_line")] == [2, 4]


def test_a_plain_file_with_few_bad_rows_goes_from_the_stream_to_the_exact_path(data_dir):
    bad = "A,L1,2025-01-01,-1,,,2025-01-02T00:00:00Z"
    data_dir.drop("acme", "sales", "s.csv", "\n".join([SALES, GOOD_SALE, bad, GOOD_SALE]) + "\n")

    (file_report,) = data_dir.ingest().files

    assert (file_report.line_numbering, file_report.rows_silver) == ("exact", 2)
    assert {"stream", "exact_parse_validate"} <= set(file_report.phase_seconds)
    assert "fast_parse_validate" not in file_report.phase_seconds
    assert data_dir.quarantine("source_line, column_name, rule") == [
        (3, "units_sold", "non_negative")
    ]
    assert [line for (line,) in data_dir.silver("sales", "source_line")] == [2, 4]


def test_a_line_over_duckdbs_maximum_is_quarantined_after_the_stream(data_dir):
    # DuckDB's reader rejects the line whole, so the exact path needs the fast
    # pass's list of rejected lines: going straight to it must fall back.
    long = "A" * 2_100_000 + ",L1,2025-01-01,3,,,2025-01-02T00:00:00Z"
    data_dir.drop("acme", "sales", "s.csv", "\n".join([SALES, GOOD_SALE, long, GOOD_SALE]) + "\n")

    (file_report,) = data_dir.ingest().files

    assert (file_report.status, file_report.line_numbering) == ("ingested", "exact")
    assert (file_report.rows_in, file_report.rows_silver, file_report.rows_quarantined) == (3, 2, 1)
    assert data_dir.quarantine("source_line, rule") == [(3, "line_too_long")]
    assert [line for (line,) in data_dir.silver("sales", "source_line")] == [2, 4]


def test_a_plain_file_in_a_layout_the_stream_does_not_take_goes_to_the_fast_path(data_dir):
    rows = [GOOD_SALE.replace("T00:00:00Z", " 10:00:00")] * 3
    data_dir.drop("acme", "sales", "s.csv", "\n".join([SALES, *rows]) + "\n")

    (file_report,) = data_dir.ingest().files

    assert (file_report.line_numbering, file_report.rows_silver) == ("fast", 3)
    assert "stream" in file_report.phase_seconds


@pytest.mark.parametrize(
    ("content", "padded"),
    [
        (b"a,b\n1,2\n", False),
        (b"a b,c\nx y,z\n", False),  # spaces inside a field
        (b"a,b\n1 ,2\n", True),
        (b"a,b\n1, 2\n", True),
        (b" a,b\n", True),  # at the start of the file
        (b"a,b \n", True),  # before a line end
        (b"a,b\n1,2 ", True),  # at the end of the file
    ],
)
@pytest.mark.parametrize("chunk_bytes", [1 << 24, 3])
def test_the_scan_finds_spaces_next_to_a_fields_bounds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes, padded: bool, chunk_bytes: int
) -> None:
    monkeypatch.setattr("forecast_hub.ingest.scan.CHUNK_BYTES", chunk_bytes)
    path = tmp_path / "f.csv"
    path.write_bytes(content)

    scan = scan_file(path)

    assert scan.has_padded_fields is padded
    assert (scan.commas, scan.newlines) == (content.count(b","), content.count(b"\n"))
    assert not scan.has_quotes and not scan.has_carriage_returns
