"""`make bench`: every benchmark in one run, each figure a ratio against its peer.

Generates the data once (cached under <work>/cache by the generate
arguments), then runs, in this order, each section of benchmarks/sections:

    ingest     forecast-hub ingest vs DuckDB COPY and pandas on one CSV
    full       ingest, land, hybrid, dbt build of the history on duckdb
    forecast   the forecast models vs statsforecast on the same series
    postgres   the same full build on PostgreSQL 15
    daily      a day of new files, then the same chain again
    api        API latencies and durable edits/s vs bare floors
    cache      benchmarks/cache_bench.py, when it exists

and writes <work>/report.md, report.json and ratios.png. A section that
fails is reported as failed, the others still run, and the command exits 1.

    python -m benchmarks.report [--rows 20000000] [--quick] [--work data/bench]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.api_load import LoadOptions
from forecast_hub.errors import UserError

from .ratios import headline
from .report_chart import write_chart
from .report_text import render
from .sections.api import run_api
from .sections.cache import run_cache
from .sections.common import BenchError
from .sections.dataset import DatasetSpec, ensure_dataset
from .sections.forecast import run_forecast
from .sections.ingest import run_ingest
from .sections.pipeline import run_daily, run_full
from .sections.postgres import derived_settings, run_postgres

QUICK_ROWS = 1_000_000
DEFAULT_ROWS = 20_000_000


def _machine() -> dict[str, Any]:
    return {
        "cpus": len(os.sched_getaffinity(0)),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


class Run:
    """The sections' results by name: a typed result, or why there is none."""

    def __init__(self) -> None:
        self.results: dict[str, Any] = {}
        self.seconds: dict[str, float] = {}

    def section(self, name: str, work: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        try:
            value = work()
        except (BenchError, UserError) as error:
            value = f"failed: {error}"
            print(f"{name}: {value}", file=sys.stderr)
        self.seconds[name] = round(time.perf_counter() - started, 1)
        self.results[name] = value
        return None if isinstance(value, str) else value

    @property
    def failed(self) -> list[str]:
        return [name for name, value in self.results.items() if isinstance(value, str)]


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    work: Path = args.work.resolve()
    rows = args.rows or (QUICK_ROWS if args.quick else DEFAULT_ROWS)
    spec = DatasetSpec.for_rows(rows)
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "requested_rows": rows,
        "dataset": dataclasses.asdict(spec),
        "machine_at_start": _machine(),
    }
    started = time.perf_counter()
    dataset = ensure_dataset(work / "cache", spec)
    report["dataset_sales_rows"] = dataset.sales_rows
    report["dataset_was_cached"] = dataset.was_cached
    report["generate_s"] = round(time.perf_counter() - started, 1)
    run = Run()
    runs = work / "runs"
    run.section("ingest", lambda: run_ingest(dataset, runs / "ingest", 1 if args.quick else 3))
    built = run.section("full", lambda: run_full(dataset, runs))
    if built is None:
        for name in ("forecast", "postgres", "daily"):
            run.results[name] = "not run: the full build failed"
    else:
        full, warehouse = built
        run.results["full"] = full
        run.section("forecast", lambda: run_forecast(warehouse, runs / "forecast"))
        run.section("postgres", lambda: run_postgres(warehouse, full))
        run.section("daily", lambda: run_daily(dataset, warehouse, full))
    options = LoadOptions(edits=300, reads=300, seconds=3.0) if args.quick else LoadOptions()
    run.section("api", lambda: run_api(options))
    run.section("cache", lambda: run_cache(args.quick, runs / "cache"))
    report["total_s"] = round(time.perf_counter() - started, 1)
    report["section_s"] = run.seconds
    report["machine_at_end"] = _machine()
    report["postgres_settings_written"] = derived_settings()
    report["failed"] = run.failed
    report["ratios"] = [dataclasses.asdict(row) for row in headline(run.results)]
    report["sections"] = {name: _jsonable(value) for name, value in run.results.items()}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, default=None, help=f"sales rows to generate [default: {DEFAULT_ROWS:,}]"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"about {QUICK_ROWS:,} rows, one ingest round, a short API load",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("data/bench"),
        help="folder for the cached data, the runs and the report",
    )
    args = parser.parse_args()  # fmt: skip
    if args.rows is not None and args.rows < 10_000:
        parser.error("--rows must be at least 10000")
    report = run_all(args)
    out = args.work
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    chart = write_chart(report["ratios"], out / "ratios.png", report)
    (out / "report.md").write_text(render(report, chart.name if chart else None))
    print(f"wrote {out / 'report.md'}, {out / 'report.json'} and {out / 'ratios.png'}")
    if report["failed"]:
        print(f"failed: {', '.join(report['failed'])}; see report.md", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
