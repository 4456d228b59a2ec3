"""The bench report's own logic: dbt's overhead, the held-back day, the cache hook, the text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.report_chart import write_chart
from benchmarks.report_text import render
from benchmarks.sections.cache import _flatten, _last_json_object, versus_littletable
from benchmarks.sections.common import Timed
from benchmarks.sections.dataset import Dataset, DatasetSpec
from benchmarks.sections.dbt_results import Node, overhead, union_seconds

from forecast_hub.generate import HISTORY_END
from forecast_hub.generate.sales import SALES_DENSITY


def node(start: float, end: float) -> Node:
    return Node("model.p.m", "model", "models/m.sql", end - start, start, end, end - start - 1)


def test_overlapping_nodes_count_once_in_the_union() -> None:
    nodes = [node(10, 14), node(12, 16), node(20, 21)]
    assert union_seconds(nodes) == pytest.approx(7.0)


def test_overhead_is_the_wall_time_no_node_ran_split_into_its_parts() -> None:
    nodes = [node(105, 110), node(108, 112), node(115, 118)]
    result = overhead(Timed(wall_s=20.0, started_at=100.0, peak_rss_bytes=1), nodes)
    assert result.node_union_s == pytest.approx(10.0)
    assert result.node_sum_s == pytest.approx(12.0)
    assert result.start_up_and_parse_s == pytest.approx(5.0)
    assert result.between_nodes_s == pytest.approx(3.0)
    assert result.after_last_node_s == pytest.approx(2.0)
    assert result.overhead_s == pytest.approx(10.0)
    assert result.overhead_share == pytest.approx(0.5)
    assert result.wall_minus_node_sum_s == pytest.approx(8.0)
    assert result.per_node_compile_and_bookkeeping_s == pytest.approx(3.0)


@pytest.mark.parametrize("rows", [1_000_000, 20_000_000])
def test_the_dataset_has_about_the_rows_asked_for(rows: int) -> None:
    spec = DatasetSpec.for_rows(rows)
    expected = spec.tenants * spec.skus * spec.locations * spec.days * SALES_DENSITY
    assert abs(expected - rows) / rows < 0.05
    assert spec.key == DatasetSpec.for_rows(rows).key != DatasetSpec.for_rows(rows * 2).key


def test_the_last_day_is_held_back_from_the_history_and_staged_after(tmp_path: Path) -> None:
    bronze = tmp_path / "cache" / "bronze"
    names = [
        "northwind/sales/sales_2025-12-31_backfill.csv.gz",
        f"northwind/sales/sales_{HISTORY_END.isoformat()}.csv",
        f"globex/skus/skus_{HISTORY_END.isoformat()}.csv",
        "globex/skus/skus_2026-10-17_full.csv",
    ]
    for name in names:
        (bronze / name).parent.mkdir(parents=True, exist_ok=True)
        (bronze / name).write_text(name)
    dataset = Dataset(DatasetSpec.for_rows(10_000), bronze, 0, len(names), True)
    staged = tmp_path / "run" / "bronze"
    assert dataset.stage(staged, last_day=False) == 2
    history = {str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file()}
    assert history == {names[0], names[3]}
    assert dataset.stage(staged, last_day=True) == 2
    assert {str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file()} == set(names)


def test_the_cache_hook_reads_the_last_json_object_among_other_output() -> None:
    printed = 'warming up\n{"old": 1}\nround 1: 2.0 s {"not": "top level"}\n' + json.dumps(
        {"cache": {"p99_ms": 0.4, "speedup_vs_littletable": 12.5}, "label": "x"}, indent=2
    )
    found = _last_json_object(printed)
    assert found is not None
    assert _flatten(found) == {"cache.p99_ms": 0.4, "cache.speedup_vs_littletable": 12.5}


def test_the_cache_is_held_against_littletable_where_less_is_better() -> None:
    result = {
        "littletable": {"bytes_per_row": 400.0, "page_us": 12.0, "rows": 10},
        "cache_warm": {"bytes_per_row": 40.0, "page_us": 3.0, "rows": 10},
        "tuples_before": {"bytes_per_row": 200.0},
    }
    assert versus_littletable(result) == {
        "cache_warm.bytes_per_row": 10.0,
        "cache_warm.page_us": 4.0,
    }
    assert versus_littletable({"cache_warm": {"page_us": 3.0}}) == {}


def minimal_report(sections: dict[str, object]) -> dict[str, object]:
    machine = {"cpus": 2, "memory_gb": 25.3, "load_average": [0.5, 0.5, 0.5], "python": "3.11"}
    return {
        "started_at": "2026-12-01T10:00:00+00:00",
        "quick": True,
        "dataset": {"tenants": 3, "skus": 505, "locations": 30, "days": 1100, "seed": 1},
        "dataset_sales_rows": 1_000_000,
        "dataset_was_cached": True,
        "total_s": 100.0,
        "machine_at_start": machine,
        "machine_at_end": machine,
        "postgres_settings_written": {},
        "failed": [name for name, value in sections.items() if isinstance(value, str)],
        "ratios": [],
        "sections": sections,
    }


def test_a_failed_section_and_a_missing_cache_benchmark_are_said_not_hidden(
    tmp_path: Path,
) -> None:
    report = minimal_report(
        {
            "postgres": "failed: dbt build --target postgres exited 1; its output is in x.log",
            "cache": {"present": False, "command": [], "figures": {}, "ratios": {}},
        }
    )
    text = render(report, None)
    assert "Sections without figures: postgres" in text
    assert "failed: dbt build --target postgres exited 1" in text
    assert "Not measured: benchmarks/cache_bench.py is not in this checkout" in text
    assert "busy" not in text
    assert write_chart([], tmp_path / "ratios.png", report) is None


def test_a_busy_machine_is_named_in_the_report() -> None:
    report = minimal_report({})
    report["machine_at_end"] = {"cpus": 2, "memory_gb": 25.3, "load_average": [6.0, 5.0, 4.0]}
    assert "The machine was busy with other work during this run" in render(report, None)
