"""The fast path's verdict against the exact path's, value by value.

The fast path (`fast_query`) casts typed values without trimming them and
only says whether a row is good; the exact path (`validation_query`) names the
rule a row breaks. A file goes to silver through the fast path only if every
row is good there, so it must never accept a row the exact path rejects, and
must type every row it accepts to the same values. It may call a good row bad
(a number with spaces around it): that only costs the file the exact path.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from test_ingest_rules import GOOD, HEADERS

from forecast_hub.feeds import FEEDS
from forecast_hub.ingest.sql import (
    ERROR_COLUMN,
    OK_COLUMN,
    fast_query,
    quote_identifier,
    read_csv_call,
    validation_query,
)

INGESTED_AT = "timestamptz '2026-01-15 00:00:00+00'"

# Values to try in every column of a type; quoted ones are written as they are.
CANDIDATES = {
    "text": ["abc", " abc ", "EUR", " eur", "E1R", "store", " DC ", "", '""', '"  "', "x" * 300],
    "date": [
        "2025-01-01", " 2025-01-01", "2025-01-01 ", '" 2025-01-01 "', "2025-1-1", "01/02/2025",
        "20250101", "2025-02-30", "1999-12-31", "2099-01-01", "2025-01-01T00:00:00",
        "2025-01-1 ", " 025-01-01", "2025-01-1\t", "2025-01-01\t", "", '""',
    ],
    "timestamp": [
        "2025-01-02T00:00:00Z", " 2025-01-02T00:00:00Z ", "2025-01-02", "2025-01-02 03:04:05",
        "2025-01-02T00:00:00+02:00", "2025-01-02T00:00:00.123456Z", "yesterday",
        "2025-01-02\t", "", '""', "  ",
    ],
    "decimal": [
        "3", " 3 ", "3.5", "-1", "0", "1e3", "1.23456", ".5", "+2", '"1,5"', "nan", "inf", "0x10",
        "12x", "1000000001", "99999999999999.9999", "100000000000000", "3\t", "", '""', '"  "',
    ],
    "int": ["6", " 6", "6 ", "+6", "-6", "0", "6.0", "1.5", "1e2", "x", "", '""'],
    "bool": ["yes", " yes", "Y", "TRUE", "false", "1", "0", "N", "maybe", "", '""'],
}  # fmt: skip


def variant_rows(feed_name: str, candidates: dict[str, list[str]] = CANDIDATES) -> list[str]:
    """The feed's good row with one column at a time replaced by each candidate of its type."""
    feed = FEEDS[feed_name]
    names = HEADERS[feed_name].split(",")
    good = GOOD[feed_name].split(",")
    rows = [GOOD[feed_name]]
    for position, name in enumerate(names):
        for value in candidates[feed.column(name).type]:
            rows.append(",".join([*good[:position], value, *good[position + 1 :]]))
    return rows


@pytest.mark.parametrize("feed_name", sorted(HEADERS))
def test_fast_path_accepts_only_what_the_exact_path_accepts(tmp_path: Path, feed_name: str) -> None:
    feed = FEEDS[feed_name]
    names = HEADERS[feed_name].split(",")
    rows = variant_rows(feed_name)
    path = tmp_path / f"{feed_name}.csv"
    path.write_text("\n".join([HEADERS[feed_name], *rows]) + "\n")
    read = read_csv_call(str(path), len(names), gzipped=False)
    field_of_column = {name: position for position, name in enumerate(names)}
    connection = duckdb.connect()
    connection.execute("set TimeZone = 'UTC'")
    connection.execute(
        f"create table exact as {validation_query(feed, read, field_of_column, {}, INGESTED_AT)}"
    )
    connection.execute(
        f"create table fast as {fast_query(feed, read, field_of_column, {}, INGESTED_AT)}"
    )
    same_values = " and ".join(
        f"exact.{quote_identifier(c.name)} is not distinct from fast.{quote_identifier(c.name)}"
        for c in feed.columns
    )
    verdicts = connection.execute(
        f"select exact.rowid, exact.{ERROR_COLUMN}, fast.{OK_COLUMN}, {same_values} "
        "from exact join fast on exact.rowid = fast.rowid order by exact.rowid"
    ).fetchall()
    assert len(verdicts) == len(rows)

    accepted_bad = [(rows[r], error) for r, error, ok, _ in verdicts if ok and error is not None]
    assert accepted_bad == []
    typed_differently = [rows[r] for r, _, ok, same in verdicts if ok and not same]
    assert typed_differently == []
    # A good row is called bad only when a typed value has spaces around it or is quoted.
    refused_good = [rows[r] for r, error, ok, _ in verdicts if error is None and not ok]
    typed = {i for i, name in enumerate(names) if feed.column(name).type != "text"}
    for row in refused_good:
        fields = row.split(",")
        assert any(fields[i] != fields[i].strip() or fields[i].startswith('"') for i in typed), row
    assert any(ok for _, _, ok, _ in verdicts) and any(not ok for _, _, ok, _ in verdicts)
