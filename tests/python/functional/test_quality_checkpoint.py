"""The Great Expectations checkpoint after dbt build: passes when good, fails on a bad value."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import subprocess_env
from forecast_hub.quality import QualityResult, run_quality_checkpoint
from forecast_hub.settings import Settings

REPO = Path(__file__).resolve().parents[3]
GENERATE_ARGS = ["--tenants", "3", "--skus", "8", "--locations", "1", "--days", "200"]


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, (
        f"{' '.join(command)}:\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}"
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("quality")
    env = subprocess_env(data_dir)
    cli = [sys.executable, "-c", "from forecast_hub.cli import main; main()"]
    _run([*cli, "generate", "--out", str(data_dir / "bronze"), *GENERATE_ARGS], env)
    _run([*cli, "ingest"], env)
    _run([*cli, "land", "--target", "duckdb"], env)
    _run([*cli, "hybrid", "--target", "duckdb"], env)
    dbt = Path(sys.executable).with_name("dbt")
    paths = ["--target-path", str(data_dir / "target"), "--log-path", str(data_dir / "logs")]
    _run([str(dbt), "build", "--exclude-resource-type", "unit_test", *paths], env)
    return Settings(data_dir=data_dir)


@pytest.fixture(scope="module")
def good_result(built: Settings) -> QualityResult:
    return run_quality_checkpoint(built)


def test_a_good_build_passes_every_expectation(good_result: QualityResult) -> None:
    assert good_result.failures == []
    assert good_result.success
    assert good_result.evaluated >= 20


def test_the_data_docs_page_is_written_under_the_data_folder(
    built: Settings, good_result: QualityResult
) -> None:
    index = good_result.data_docs_index
    assert index.is_relative_to(built.data_dir)
    page = index.read_text()
    assert "forecast_hub.fct_forecast_draft" in page
    assert "forecast_hub.draft_horizon" in page


def test_a_planted_negative_draft_fails_the_checkpoint(built: Settings, tmp_path: Path) -> None:
    planted = Settings(data_dir=tmp_path)
    shutil.copytree(built.warehouse_dir, planted.warehouse_dir)
    shutil.copytree(built.silver_dir, planted.silver_dir)
    connection = duckdb.connect(str(planted.warehouse_path))
    try:
        connection.execute(
            "update gold.fct_forecast_draft set draft_qty = -1"
            " where (tenant_id, sku_id, forecast_date) in"
            " (select tenant_id, sku_id, forecast_date from gold.fct_forecast_draft limit 1)"
        )
    finally:
        connection.close()
    result = run_quality_checkpoint(planted)
    assert not result.success
    assert len(result.failures) == 1
    assert "fct_forecast_draft" in result.failures[0] and "draft_qty" in result.failures[0]


def test_a_dropped_horizon_period_fails_the_checkpoint(built: Settings, tmp_path: Path) -> None:
    planted = Settings(data_dir=tmp_path)
    shutil.copytree(built.warehouse_dir, planted.warehouse_dir)
    shutil.copytree(built.silver_dir, planted.silver_dir)
    connection = duckdb.connect(str(planted.warehouse_path))
    try:
        connection.execute(
            "delete from gold.fct_forecast_draft where (tenant_id, sku_id, step) in"
            " (select tenant_id, sku_id, 2 from gold.fct_forecast_draft limit 1)"
        )
    finally:
        connection.close()
    result = run_quality_checkpoint(planted)
    assert not result.success
    assert result.failures and all("draft_horizon" in failure for failure in result.failures)
