"""Each rule of the client-feed contract, on a small hand-written file.

Every bad-row case is a file of a good row, the bad row, and another good row:
the good rows must reach silver, the bad one must be quarantined at line 3
with the column and rule that it breaks, and its original text.
"""

from __future__ import annotations

import gzip

import pytest

HEADERS = {
    "sales": "sku_code,location_code,sale_date,units_sold,net_revenue,currency,updated_at",
    "skus": "sku_code,sku_name,category,subcategory,brand,unit_of_measure,pack_size,"
    "is_active,launched_on,discontinued_on,updated_at",
    "locations": "location_code,location_name,region,country,location_type,opened_on,"
    "closed_on,updated_at",
    "sku_attributes": "sku_code,attribute_name,attribute_value,updated_at",
    "promotions": "promo_id,sku_code,location_code,start_date,end_date,promo_type,"
    "discount_pct,updated_at",
}
GOOD = {
    "sales": "A,L1,2025-01-01,3,10.5,EUR,2025-01-02T00:00:00Z",
    "skus": "K1,Name,Cat,Sub,Brand,each,6,yes,2024-01-01,2025-01-01,2025-01-02T00:00:00Z",
    "locations": "L1,Main,North,DE,store,2020-01-01,,2025-01-02T00:00:00Z",
    "sku_attributes": "K1,Color,red,2025-01-02T00:00:00Z",
    "promotions": "P1,K1,,2025-01-01,2025-01-07,bogo,20,2025-01-02T00:00:00Z",
}
LONG = "x" * 300

BAD_ROWS = [
    # feed, bad row, column, rule
    ("sales", "A,L1,2025-01-01,3,10.5,EUR", None, "field_count"),
    ("sales", "A,L1,2025-01-01,3,10.5,EUR,2025-01-02T00:00:00Z,more", None, "field_count"),
    ("sales", ",L1,2025-01-01,3,10.5,EUR,2025-01-02T00:00:00Z", "sku_code", "required"),
    ("sales", "A, ,2025-01-01,3,10.5,EUR,2025-01-02T00:00:00Z", "location_code", "required"),
    (
        "sales",
        "A" * 65 + ",L1,2025-01-01,3,10.5,EUR,2025-01-02T00:00:00Z",
        "sku_code",
        "max_length",
    ),
    ("sales", "A,L1,2025-02-30,3,10.5,EUR,2025-01-02T00:00:00Z", "sale_date", "type"),
    ("sales", "A,L1,01/02/2025,3,10.5,EUR,2025-01-02T00:00:00Z", "sale_date", "type"),
    ("sales", "A,L1,1999-12-31,3,10.5,EUR,2025-01-02T00:00:00Z", "sale_date", "date_in_range"),
    ("sales", "A,L1,2099-01-01,3,10.5,EUR,2025-01-02T00:00:00Z", "sale_date", "date_in_range"),
    ("sales", "A,L1,2025-01-01,12x,10.5,EUR,2025-01-02T00:00:00Z", "units_sold", "type"),
    ("sales", "A,L1,2025-01-01,-1,10.5,EUR,2025-01-02T00:00:00Z", "units_sold", "non_negative"),
    ("sales", "A,L1,2025-01-01,1000000001,1,EUR,2025-01-02T00:00:00Z", "units_sold", "at_most_1e9"),
    ("sales", "A,L1,2025-01-01,3,abc,EUR,2025-01-02T00:00:00Z", "net_revenue", "type"),
    ("sales", "A,L1,2025-01-01,3,10.5,EURO,2025-01-02T00:00:00Z", "currency", "max_length"),
    ("sales", "A,L1,2025-01-01,3,10.5,E1R,2025-01-02T00:00:00Z", "currency", "iso_4217"),
    ("sales", "A,L1,2025-01-01,3,10.5,EUR,yesterday", "updated_at", "type"),
    ("sales", "A,L1,2025-01-01,3,10.5,EUR,", "updated_at", "required"),
    ("skus", "K2,,Cat,,,,,,,,2025-01-02T00:00:00Z", "sku_name", "required"),
    ("skus", f"K2,{LONG},Cat,,,,,,,,2025-01-02T00:00:00Z", "sku_name", "max_length"),
    (
        "skus",
        "K2,N,Cat,,,abcdefghijklmnopq,,,,,2025-01-02T00:00:00Z",
        "unit_of_measure",
        "max_length",
    ),
    ("skus", "K2,N,Cat,,,,0,,,,2025-01-02T00:00:00Z", "pack_size", "positive"),
    ("skus", "K2,N,Cat,,,,1.5,,,,2025-01-02T00:00:00Z", "pack_size", "type"),
    ("skus", "K2,N,Cat,,,,,maybe,,,2025-01-02T00:00:00Z", "is_active", "type"),
    (
        "skus",
        "K2,N,Cat,,,,,,2025-05-01,2025-04-30,2025-01-02T00:00:00Z",
        "discontinued_on",
        "not_before_launch",
    ),
    ("locations", "L2,,,DEU,,,,2025-01-02T00:00:00Z", "country", "max_length"),
    ("locations", "L2,,,1A,,,,2025-01-02T00:00:00Z", "country", "iso_3166_alpha_2"),
    ("locations", "L2,,,,warehouse,,,2025-01-02T00:00:00Z", "location_type", "known_location_type"),
    ("locations", "L2,,,,,2020-1-1,,2025-01-02T00:00:00Z", "opened_on", "type"),
    (
        "sku_attributes",
        "K1,9color,red,2025-01-02T00:00:00Z",
        "attribute_name",
        "attribute_name_pattern",
    ),
    (
        "sku_attributes",
        "K1,col-or,red,2025-01-02T00:00:00Z",
        "attribute_name",
        "attribute_name_pattern",
    ),
    (
        "sku_attributes",
        "K1,a" + "b" * 64 + ",red,2025-01-02T00:00:00Z",
        "attribute_name",
        "max_length",
    ),
    (
        "sku_attributes",
        "K1,size," + "v" * 1025 + ",2025-01-02T00:00:00Z",
        "attribute_value",
        "max_length",
    ),
    (
        "promotions",
        "P2,K1,,2025-01-08,2025-01-07,,,2025-01-02T00:00:00Z",
        "end_date",
        "not_before_start",
    ),
    (
        "promotions",
        "P2,K1,,2025-01-01,2025-01-07,,150,2025-01-02T00:00:00Z",
        "discount_pct",
        "percentage",
    ),
    (
        "promotions",
        "P2,K1,,2025-01-01,2025-01-07,,-1,2025-01-02T00:00:00Z",
        "discount_pct",
        "percentage",
    ),
    ("promotions", "P2,K1,,,2025-01-07,,,2025-01-02T00:00:00Z", "start_date", "required"),
    (
        "promotions",
        "P2,K1,," + "2025-01-01,2025-01-07," + "p" * 33 + ",,2025-01-02T00:00:00Z",
        "promo_type",
        "max_length",
    ),
]


@pytest.mark.parametrize(("feed", "bad_row", "column", "rule"), BAD_ROWS)
def test_a_bad_row_is_quarantined_with_its_rule_and_the_rest_continues(
    data_dir, feed, bad_row, column, rule
):
    text = "\n".join([HEADERS[feed], GOOD[feed], bad_row, GOOD[feed]]) + "\n"
    data_dir.drop("acme", feed, "drop.csv", text)

    report = data_dir.ingest()

    (file_report,) = report.files
    assert (file_report.status, file_report.rows_in) == ("ingested", 3)
    assert (file_report.rows_silver, file_report.rows_quarantined) == (2, 1)
    assert data_dir.quarantine("source_line, column_name, rule, raw_text") == [
        (3, column, rule, bad_row)
    ]
    assert [line for (line,) in data_dir.silver(feed, "source_line")] == [2, 4]


FILE_REJECTIONS = [
    # name, content, reason code
    ("utf16.csv", HEADERS["sales"].encode("utf-16"), "not_utf8"),
    (
        "latin1.csv",
        (
            HEADERS["sales"] + "\n" + GOOD["sales"] + "\nM\xfcnchen,L1,2025-01-01,3,,,2025-01-02\n"
        ).encode("latin-1"),
        "not_utf8",
    ),
    (
        "unclosed.csv",
        HEADERS["sales"] + '\nA,"L1,2025-01-01,3,,,2025-01-02\n' + GOOD["sales"],
        "not_csv",
    ),
    ("empty.csv", "", "no_header"),
    ("blank_first.csv", "\n" + HEADERS["sales"] + "\n", "no_header"),
    ("dupe.csv", HEADERS["sales"] + ", SKU_CODE\n", "duplicate_header"),
    (
        "missing.csv",
        "sku_code,location_code,sale_date,updated_at\nA,L1,2025-01-01,2025-01-02\n",
        "missing_required_column",
    ),
]


@pytest.mark.parametrize(("name", "content", "code"), FILE_REJECTIONS)
def test_a_bad_file_is_rejected_whole_with_an_actionable_reason(data_dir, name, content, code):
    data_dir.drop("acme", "sales", name, content)

    (file_report,) = data_dir.ingest().files

    assert (file_report.status, file_report.reason_code) == ("rejected", code)
    assert file_report.reason and file_report.sha256
    assert not list(data_dir.settings.silver_dir.rglob("*.parquet"))


def test_a_corrupt_or_truncated_gzip_is_rejected_as_not_csv(data_dir):
    whole = gzip.compress((HEADERS["sales"] + "\n" + GOOD["sales"] + "\n").encode() * 50)
    data_dir.drop("acme", "sales", "garbage.csv.gz", b"\x1f\x8b\x08\x00garbage", compress=False)
    data_dir.drop("acme", "sales", "truncated.csv.gz", whole[: len(whole) // 2], compress=False)

    reports = data_dir.ingest().files

    assert [(f.status, f.reason_code) for f in reports] == [("rejected", "not_csv")] * 2
    assert all("gzip" in f.reason for f in reports)


def test_files_outside_the_known_layout_are_rejected_not_ingested(data_dir):
    data_dir.drop("acme", "inventory", "stock.csv", "a,b\n1,2\n")
    data_dir.drop("Acme-Corp", "sales", "s.csv", HEADERS["sales"] + "\n" + GOOD["sales"] + "\n")
    data_dir.drop("acme", "sales", "notes.txt", "hello")

    (data_dir.settings.bronze_dir / "acme" / "readme.txt").write_text("loose file")

    report = data_dir.ingest()
    files = {f.path: f for f in report.files}

    assert files["acme/inventory/stock.csv"].reason_code == "unknown_feed"
    assert files["Acme-Corp/sales/s.csv"].reason_code == "invalid_tenant"
    assert files["acme/sales/notes.txt"].reason_code == "unsupported_file_type"
    assert {f.status for f in files.values()} == {"rejected"}
    assert report.unknown_entries == ["acme/readme.txt"]


def test_valid_variations_of_the_format_are_all_accepted(data_dir):
    # BOM, CRLF, header names in another order with odd case and spaces, quoted
    # fields with commas, doubled quotes and a line break, padded values, an
    # extra column, boolean spellings and a timestamp without an offset.
    text = (
        "\ufeff Updated_At ,SKU_NAME,sku_code,category,is_active,pack_size,shelf_note\r\n"
        '2025-01-02 10:00:00,"Cola, 6 x 0.33l",K1,Drinks,Y,6,top\r\n'
        '2025-01-02T10:00:00+02:00,"The ""best"" tea",K2,Drinks,no,,\r\n'
        '2025-01-02T10:00:00Z,"Two\r\nlines",K3,  Food  ,1,,\r\n'
    )
    data_dir.drop("acme", "skus", "variations.csv.gz", text)

    (file_report,) = data_dir.ingest().files

    assert (file_report.status, file_report.rows_silver, file_report.rows_quarantined) == (
        "ingested",
        3,
        0,
    )
    assert file_report.warnings == ["unknown extra columns kept in extra_columns: shelf_note"]
    rows = data_dir.silver(
        "skus",
        "sku_code, sku_name, category, is_active, pack_size, "
        "strftime(updated_at at time zone 'UTC', '%H:%M'), extra_columns, source_line",
    )
    assert rows == [
        ("K1", "Cola, 6 x 0.33l", "Drinks", True, 6, "10:00", '{"shelf_note":"top"}', 2),
        ("K2", 'The "best" tea', "Drinks", False, None, "08:00", '{"shelf_note":null}', 3),
        ("K3", "Two\r\nlines", "Food", True, None, "10:00", '{"shelf_note":null}', 4),
    ]


def test_line_numbers_are_physical_lines_across_blank_lines_and_multiline_fields(data_dir):
    text = "\n".join(
        [
            HEADERS["skus"],  # 1
            'K1,"line one',  # 2
            'line two",Cat,,,,,,,,2025-01-02',  # 3
            "",  # 4 (blank: not a row)
            "K2,N,Cat,,,,0,,,,2025-01-02",  # 5 (bad pack_size)
            "K3,N,Cat",  # 6 (too few fields)
            "K4,N,Cat,,,,,,,,2025-01-02",  # 7
        ]
    )
    data_dir.drop("acme", "skus", "lines.csv", text)

    (file_report,) = data_dir.ingest().files

    assert (file_report.rows_in, file_report.blank_lines) == (4, 1)
    assert file_report.line_numbering == "exact"
    assert data_dir.silver("skus", "sku_code, source_line") == [("K1", 2), ("K4", 7)]
    assert data_dir.quarantine("source_line, rule, raw_text") == [
        (5, "positive", "K2,N,Cat,,,,0,,,,2025-01-02"),
        (6, "field_count", "K3,N,Cat"),
    ]


def test_rows_in_equal_silver_plus_quarantine_for_every_file(data_dir):
    for number, bad in enumerate(BAD_ROWS[:10]):
        feed, row, _, _ = bad
        data_dir.drop("acme", feed, f"f{number}.csv", f"{HEADERS[feed]}\n{GOOD[feed]}\n{row}\n")

    report = data_dir.ingest()

    assert report.ok
    for file_report in report.files:
        assert file_report.rows_in == file_report.rows_silver + file_report.rows_quarantined
    totals = report.totals()
    assert (totals["rows_in"], totals["rows_quarantined"]) == (20, 10)
