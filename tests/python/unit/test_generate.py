"""Tests for forecast_hub.generate: same bytes per seed, the layout, dirty records, errors.

The dirty-mode tests check the manifest against an independent reading of the files:
every record of every accepted file is parsed with the csv module and validated
against the contract in feeds.py, so a recorded bad row must break exactly the
recorded rule and every other row must be valid.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from forecast_hub.errors import UserError
from forecast_hub.feeds import FEED_NAMES, FEEDS, Column, Feed
from forecast_hub.generate import (
    FILE_REASONS,
    HISTORY_END,
    MANIFEST_NAME,
    GenerateConfig,
    GenerateSummary,
    generate_bronze,
    tenant_ids,
)

SMALL = GenerateConfig(tenants=2, skus=60, locations=6, days=90, seed=7)
DIRTY = replace(SMALL, dirty=True)

Record = tuple[int, list[str]]
Failure = tuple[str | None, str]


# --------------------------------------------------------------------------- helpers


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _manifest(root: Path) -> dict:
    return json.loads((root / MANIFEST_NAME).read_text(encoding="utf-8"))


def _text(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8-sig")


def _records(path: Path) -> tuple[list[str], list[Record]]:
    """Header names and (physical start line, fields) of every data record."""
    reader = csv.reader(io.StringIO(_text(path), newline=""), strict=True)
    header = [name.strip().lower() for name in next(reader)]
    records, line = [], reader.line_num + 1
    for fields in reader:
        records.append((line, fields))
        line = reader.line_num + 1
    return header, records


def _parse(column: Column, value: str) -> object:
    """The typed value, or raise ValueError when it does not parse as its type."""
    if column.type == "date":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    if column.type == "timestamp":
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})?", value):
            raise ValueError(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    if column.type == "decimal":
        if not re.fullmatch(r"[+-]?\d{1,14}(\.\d{1,4})?", value):
            raise ValueError(value)
        return Decimal(value)
    if column.type == "int":
        if not re.fullmatch(r"[+-]?\d+", value):
            raise ValueError(value)
        return int(value)
    if column.type == "bool":
        if value.lower() not in {"true", "false", "1", "0", "yes", "no", "y", "n"}:
            raise ValueError(value)
        return value.lower() in {"true", "1", "yes", "y"}
    return value


_LATEST_SALE = HISTORY_END + timedelta(days=366)
RULES: dict[str, Callable[[object, dict[str, object]], bool]] = {
    "date_in_range": lambda v, row: date(2000, 1, 1) <= v <= _LATEST_SALE,
    "non_negative": lambda v, row: v >= 0,
    "at_most_1e9": lambda v, row: v <= 1_000_000_000,
    "iso_4217": lambda v, row: re.fullmatch(r"[A-Za-z]{3}", v) is not None,
    "positive": lambda v, row: v > 0,
    "not_before_launch": lambda v, row: row["launched_on"] is None or v >= row["launched_on"],
    "iso_3166_alpha_2": lambda v, row: re.fullmatch(r"[A-Za-z]{2}", v) is not None,
    "known_location_type": lambda v, row: v.lower() in {"store", "dc", "online"},
    "attribute_name_pattern": lambda v, row: (
        re.fullmatch(r"[a-z][a-z0-9_]*", v.lower()) is not None
    ),
    "not_before_start": lambda v, row: row["start_date"] is None or v >= row["start_date"],
    "percentage": lambda v, row: 0 <= v <= 100,
}


def _failures(feed: Feed, header: list[str], fields: list[str]) -> list[Failure]:
    """Every (column, rule) of the contract that one record breaks."""
    if len(fields) != len(header):
        return [(None, "field_count")]
    raw = {name: value.strip() or None for name, value in zip(header, fields, strict=True)}
    typed: dict[str, object] = {}
    broken: list[Failure] = []
    for column in feed.columns:
        value = raw.get(column.name)
        typed[column.name] = None
        if value is None:
            if column.required:
                broken.append((column.name, "required"))
            continue
        try:
            typed[column.name] = _parse(column, value)
        except ValueError:
            broken.append((column.name, "type"))
            continue
        if column.type == "text" and len(value) > column.text_limit:
            broken.append((column.name, "max_length"))
    for column in feed.columns:
        value = typed[column.name]
        if value is None:
            continue
        broken += [(column.name, r.name) for r in column.rules if not RULES[r.name](value, typed)]
    return broken


def _bad_rows_found(root: Path, manifest: dict) -> dict[tuple[str, int], list[Failure]]:
    """(path, line) of every record that breaks a rule, read from the accepted files."""
    rejected = {r["path"] for r in manifest["rejected_files"]}
    found = {}
    for entry in manifest["files"]:
        if entry["path"] in rejected:
            continue
        header, records = _records(root / entry["path"])
        for line, fields in records:
            broken = _failures(FEEDS[entry["feed"]], header, fields)
            if broken:
                found[(entry["path"], line)] = broken
    return found


def _instant(text: str) -> datetime:
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def _latest(root: Path, tenant: str, feed: str, key: str) -> dict[str, dict[str, str]]:
    """The winning version of each key of a tenant's feed: latest updated_at, then later file."""
    versions: dict[str, tuple[datetime, dict[str, str]]] = {}
    for path in sorted((root / tenant / feed).iterdir()):
        header, records = _records(path)
        for _, fields in records:
            row = {name: value.strip() for name, value in zip(header, fields, strict=True)}
            stamp = _instant(row["updated_at"])
            if row[key] not in versions or stamp >= versions[row[key]][0]:
                versions[row[key]] = (stamp, row)
    return {k: row for k, (_, row) in versions.items()}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def dirty_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateSummary]:
    root = tmp_path_factory.mktemp("dirty") / "bronze"
    return root, generate_bronze(root, DIRTY)


@pytest.fixture(scope="module")
def clean_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerateSummary]:
    root = tmp_path_factory.mktemp("clean") / "bronze"
    return root, generate_bronze(root, SMALL)


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_the_same_bytes(
    tmp_path: Path, dirty_tree: tuple[Path, GenerateSummary]
) -> None:
    again = tmp_path / "again"
    generate_bronze(again, DIRTY)
    first, second = _tree(dirty_tree[0]), _tree(again)
    assert any(name.endswith(".csv.gz") for name in first)
    assert first == second


def test_another_seed_gives_other_data(
    tmp_path: Path, clean_tree: tuple[Path, GenerateSummary]
) -> None:
    other = tmp_path / "other"
    generate_bronze(other, replace(SMALL, seed=SMALL.seed + 1))
    first, second = _tree(clean_tree[0]), _tree(other)
    sales = [name for name in first if "/sales/" in name]
    differ = [name for name in sales if first[name] != second.get(name)]
    assert len(differ) > len(sales) / 2


# --------------------------------------------------------------------------- layout


def test_every_tenant_gets_every_feed_with_rows(clean_tree: tuple[Path, GenerateSummary]) -> None:
    root, _ = clean_tree
    manifest = _manifest(root)
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted(tenant_ids(2))
    for tenant in tenant_ids(2):
        for feed in FEED_NAMES:
            rows = [
                f["rows"]
                for f in manifest["files"]
                if f["tenant_id"] == tenant and f["feed"] == feed
            ]
            assert rows and sum(rows) > 0, (tenant, feed)


def test_tenant_ids_follow_the_named_tenants() -> None:
    assert tenant_ids(7) == [
        "northwind",
        "globex",
        "initech",
        "umbrella",
        "hooli",
        "tenant_006",
        "tenant_007",
    ]


def test_manifest_and_summary_count_what_the_files_hold(
    dirty_tree: tuple[Path, GenerateSummary],
) -> None:
    root, summary = dirty_tree
    manifest = _manifest(root)
    on_disk = {name for name in _tree(root) if name != MANIFEST_NAME}
    assert [f["path"] for f in manifest["files"]] == sorted(on_disk)
    assert manifest["config"] == asdict(DIRTY)
    rejected = {r["path"] for r in manifest["rejected_files"]}
    for entry in manifest["files"]:
        if entry["path"] not in rejected:
            assert entry["rows"] == len(_records(root / entry["path"])[1]), entry["path"]
    assert summary.files == len(manifest["files"])
    assert summary.sales_rows == sum(f["rows"] for f in manifest["files"] if f["feed"] == "sales")
    assert summary.bad_rows == len(manifest["quarantined_rows"]) > 0
    assert summary.bad_files == len(manifest["rejected_files"]) == len(FILE_REASONS)
    assert f"{summary.sales_rows:,} sales rows" in summary.one_line()


def test_clean_files_are_valid_and_use_the_contract_freedoms(
    clean_tree: tuple[Path, GenerateSummary],
) -> None:
    root, _ = clean_tree
    manifest = _manifest(root)
    assert manifest["rejected_files"] == [] and manifest["quarantined_rows"] == []
    assert _bad_rows_found(root, manifest) == {}
    raw = [gzip.decompress(b) if n.endswith(".gz") else b for n, b in _tree(root).items()]
    assert any(data.startswith(b"\xef\xbb\xbf") for data in raw)
    assert any(b"\r\n" in data for data in raw)
    assert any(b'""' in data for data in raw)
    texts = [_text(root / f["path"]) for f in manifest["files"]]
    assert any(re.search(r'"[^"]*\n[^"]*"', text) for text in texts)
    assert any(text.split("\n", 1)[0].isupper() for text in texts)


# --------------------------------------------------------------------------- realism


def test_sales_only_while_sku_is_launched_and_location_open(
    clean_tree: tuple[Path, GenerateSummary],
) -> None:
    root, _ = clean_tree
    for tenant in tenant_ids(2):
        skus = _latest(root, tenant, "skus", "sku_code")
        locations = _latest(root, tenant, "locations", "location_code")
        sales = _latest_sales(root, tenant)
        assert sales
        for (sku, location, day), _ in sales.items():
            s, loc = skus[sku], locations[location]
            assert not s["launched_on"] or day >= s["launched_on"]
            assert not s["discontinued_on"] or day < s["discontinued_on"]
            assert not loc["opened_on"] or day >= loc["opened_on"]
            assert not loc["closed_on"] or day < loc["closed_on"]
        assert any(s["discontinued_on"] for s in skus.values())


def _latest_sales(root: Path, tenant: str) -> dict[tuple[str, str, str], list[tuple[str, str]]]:
    """Every version (updated_at, units_sold) of each sales key, in file order."""
    versions: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for path in sorted((root / tenant / "sales").iterdir()):
        header, records = _records(path)
        for _, fields in records:
            row = {name: value.strip() for name, value in zip(header, fields, strict=True)}
            key = (row["sku_code"], row["location_code"], row["sale_date"])
            versions.setdefault(key, []).append((row["updated_at"], row["units_sold"]))
    return versions


def test_late_corrections_resend_keys_with_newer_timestamps(
    clean_tree: tuple[Path, GenerateSummary],
) -> None:
    root, _ = clean_tree
    resent = [v for v in _latest_sales(root, "northwind").values() if len(v) > 1]
    assert resent
    for versions in resent:
        stamps = [_instant(stamp) for stamp, _ in versions]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
        assert len({units for _, units in versions}) > 1


# --------------------------------------------------------------------------- dirty mode


def test_recorded_bad_rows_are_exactly_the_rows_that_break_one_rule(
    dirty_tree: tuple[Path, GenerateSummary],
) -> None:
    root, _ = dirty_tree
    manifest = _manifest(root)
    recorded = {
        (q["path"], q["line"]): [(q["column"], q["rule"])] for q in manifest["quarantined_rows"]
    }
    assert _bad_rows_found(root, manifest) == recorded


def test_dirty_mode_covers_every_rule_and_file_reason(
    dirty_tree: tuple[Path, GenerateSummary],
) -> None:
    manifest = _manifest(dirty_tree[0])
    feed_of = {f["path"]: f["feed"] for f in manifest["files"]}
    seen = {(feed_of[q["path"]], q["column"], q["rule"]) for q in manifest["quarantined_rows"]}
    for feed in FEEDS.values():
        expected = {(feed.name, None, "field_count")}
        for column in feed.columns:
            expected |= {(feed.name, column.name, rule.name) for rule in column.rules}
            if column.required:
                expected.add((feed.name, column.name, "required"))
            if column.type != "text":
                expected.add((feed.name, column.name, "type"))
        assert expected <= seen, expected - seen
        assert (feed.name, "max_length") in {(f, r) for f, _, r in seen}
    assert sorted(r["reason"] for r in manifest["rejected_files"]) == sorted(FILE_REASONS)


def test_rejected_files_break_their_file_rule(dirty_tree: tuple[Path, GenerateSummary]) -> None:
    root, _ = dirty_tree
    manifest = _manifest(root)
    assert {r["path"] for r in manifest["rejected_files"]}.isdisjoint(
        q["path"] for q in manifest["quarantined_rows"]
    )
    for rejected in manifest["rejected_files"]:
        path, reason = root / rejected["path"], rejected["reason"]
        feed = path.parent.name
        if reason == "not_utf8":
            with pytest.raises(UnicodeDecodeError):
                path.read_bytes().decode("utf-8")
        elif reason == "not_csv":
            with pytest.raises(csv.Error):
                _records(path)
        elif reason == "no_header":
            assert path.stat().st_size == 0
        elif reason == "duplicate_header":
            header = _records(path)[0]
            assert len(set(header)) < len(header)
        elif reason == "missing_required_column":
            assert set(FEEDS[feed].required_columns) - set(_records(path)[0])
        else:
            assert reason == "unknown_feed" and feed not in FEED_NAMES


def test_some_dirty_files_carry_extra_columns(dirty_tree: tuple[Path, GenerateSummary]) -> None:
    root, _ = dirty_tree
    manifest = _manifest(root)
    rejected = {r["path"] for r in manifest["rejected_files"]}
    extra = [
        f["path"]
        for f in manifest["files"]
        if f["path"] not in rejected
        and set(_records(root / f["path"])[0]) - set(FEEDS[f["feed"]].column_names)
    ]
    assert extra


# --------------------------------------------------------------------------- output folder


def test_a_file_as_out_is_a_user_error(tmp_path: Path) -> None:
    target = tmp_path / "bronze"
    target.write_text("not a folder")
    with pytest.raises(UserError, match="is a file"):
        generate_bronze(target, SMALL)


def test_a_folder_under_a_file_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="cannot create"):
        generate_bronze(tmp_path / "file" / "bronze", SMALL)


def test_a_foreign_non_empty_folder_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match="not empty"):
        generate_bronze(tmp_path, SMALL)
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_a_generated_folder_is_regenerated_from_scratch(
    tmp_path: Path, clean_tree: tuple[Path, GenerateSummary]
) -> None:
    target = tmp_path / "bronze"
    generate_bronze(target, DIRTY)
    generate_bronze(target, SMALL)
    assert _tree(target) == _tree(clean_tree[0])


def test_history_before_2000_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="--days"):
        generate_bronze(tmp_path / "bronze", replace(SMALL, days=20_000))
    assert not (tmp_path / "bronze").exists()
