"""The commands as a person runs them: generate, ingest, land; and their errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import subprocess_env

GENERATE_DIRTY = [
    "--tenants",
    "3",
    "--skus",
    "40",
    "--locations",
    "4",
    "--days",
    "120",
    "--seed",
    "11",
    "--dirty",
]


def forecast_hub(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = subprocess_env(data)
    return subprocess.run(
        [sys.executable, "-m", "forecast_hub", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def dirty_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = tmp_path_factory.mktemp("dirty")
    generated = forecast_hub(data, "generate", "--out", str(data / "bronze"), *GENERATE_DIRTY)
    assert generated.returncode == 0, generated.stderr
    ingested = forecast_hub(data, "ingest", "--json")
    assert ingested.returncode == 0, ingested.stderr
    landed = [forecast_hub(data, "land") for _ in range(2)]
    return {
        "data": data,
        "injected": json.loads((data / "bronze" / ".forecast-hub-generate.json").read_text()),
        "report": json.loads(ingested.stdout),
        "landed": landed,
    }


def test_rejected_files_are_exactly_those_the_generator_broke(dirty_run):
    injected = {(f["path"], f["reason"]) for f in dirty_run["injected"]["rejected_files"]}
    rejected = {
        (f["path"], f["reason_code"])
        for f in dirty_run["report"]["files"]
        if f["status"] == "rejected"
    }
    assert injected  # every file reason of the contract is injected
    assert rejected == injected


def test_quarantined_rows_are_exactly_those_the_generator_broke(dirty_run):
    injected = {
        (r["path"], r["line"], r["column"], r["rule"])
        for r in dirty_run["injected"]["quarantined_rows"]
    }
    quarantine = dirty_run["data"] / "quarantine" / "**" / "*.parquet"
    quarantined = set(
        duckdb.sql(
            f"select source_file, source_line, column_name, rule from read_parquet('{quarantine}')"
        ).fetchall()
    )
    assert len(injected) > 50
    assert quarantined == injected


def test_every_accepted_row_is_in_silver_or_quarantine(dirty_run):
    written = {f["path"]: f["rows"] for f in dirty_run["injected"]["files"]}
    accepted = [f for f in dirty_run["report"]["files"] if f["status"] == "ingested"]
    assert len(accepted) == len(written) - len(dirty_run["injected"]["rejected_files"])
    for file_report in accepted:
        assert file_report["rows_in"] == written[file_report["path"]], file_report["path"]
        assert (
            file_report["rows_in"] == file_report["rows_silver"] + file_report["rows_quarantined"]
        )
    silver = dirty_run["data"] / "silver" / "**" / "*.parquet"
    ((silver_rows,),) = duckdb.sql(
        f"select count(*) from read_parquet('{silver}', union_by_name = true)"
    ).fetchall()
    assert silver_rows == dirty_run["report"]["totals"]["rows_silver"]


def test_landing_loads_every_silver_row_once(dirty_run):
    first, second = dirty_run["landed"]
    assert first.returncode == 0 and second.returncode == 0
    assert "landed 0 new silver files" in second.stdout
    with duckdb.connect(
        str(dirty_run["data"] / "warehouse" / "forecast_hub.duckdb"), read_only=True
    ) as db:
        (landed_rows,) = db.execute("select sum(row_count) from raw.load_history").fetchone()
    assert landed_rows == dirty_run["report"]["totals"]["rows_silver"]


@pytest.mark.parametrize(
    ("args", "exit_code", "says"),
    [
        (["ingest", "--bronze", "/no/such/folder"], 1, "does not exist"),
        (["land"], 1, "run `forecast-hub ingest` first"),
        (["ingest", "--no-such-flag"], 2, "No such option"),
        (["generate", "--tenants", "0"], 2, "Invalid value"),
        (["land", "--target", "oracle"], 2, "Invalid value"),
    ],
)
def test_expected_errors_are_a_clear_message_without_traceback(tmp_path, args, exit_code, says):
    result = forecast_hub(tmp_path, *args)

    assert result.returncode == exit_code
    assert says in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_generating_onto_a_file_says_so(tmp_path):
    target = tmp_path / "bronze"
    target.write_text("not a folder")

    result = forecast_hub(tmp_path, "generate", "--out", str(target))

    assert result.returncode == 2
    assert "is a file" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreadable_file_fails_the_run_but_not_the_other_files(tmp_path):
    feed = tmp_path / "bronze" / "acme" / "skus"
    feed.mkdir(parents=True)
    (feed / "good.csv").write_text("sku_code,sku_name,category,updated_at\nA,a,c,2025-01-01\n")
    (feed / "gone.csv").symlink_to(tmp_path / "deleted-before-ingest.csv")

    result = forecast_hub(tmp_path, "ingest")
    rerun = forecast_hub(tmp_path, "ingest")

    assert result.returncode == 1
    assert "acme/skus/gone.csv" in result.stderr and "cannot read" in result.stderr
    assert "Traceback" not in result.stderr
    assert "ingested 1 files" in result.stdout
    assert rerun.returncode == 1 and "unchanged 1" in rerun.stdout  # retried, never recorded
