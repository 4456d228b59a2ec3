"""The Great Expectations checkpoint after dbt build: passes when good, fails on a bad value.

The build, the good run and the negative-draft run are shared fixtures
(conftest.py); the data docs they write are opened in a browser by
test_data_docs.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from forecast_hub.quality import QualityResult, run_quality_checkpoint
from forecast_hub.settings import Settings


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


def test_a_planted_negative_draft_fails_the_checkpoint(
    negative_draft: tuple[Settings, QualityResult],
) -> None:
    _, result = negative_draft
    assert not result.success
    assert len(result.failures) == 1
    assert "fct_forecast_draft" in result.failures[0] and "draft_qty" in result.failures[0]


def test_a_dropped_horizon_period_fails_the_checkpoint(
    plant: Callable[[Path, str], Settings], tmp_path: Path
) -> None:
    settings = plant(
        tmp_path,
        "delete from gold.fct_forecast_draft where (tenant_id, sku_id, step) in"
        " (select tenant_id, sku_id, 2 from gold.fct_forecast_draft limit 1)",
    )
    result = run_quality_checkpoint(settings)
    assert not result.success
    assert result.failures and all("draft_horizon" in failure for failure in result.failures)
