"""The chain on the embedded warehouse: the full build, then the daily run after it.

Full: the history's files (all but the last day) through ingest, land,
hybrid and dbt build in a fresh data folder. Daily: the last day's files
(a daily sales file with late corrections and the other feeds' deltas) are
added to the same bronze folder and the same chain runs again, exactly as
docs/operations.md runs it every day: whatever the project does on a second
run (skip or reprocess, incremental or full models) is what is measured.
Its dbt starts from the full build's saved parse of the project, as in a
checkout that built the day before. Every step is its own process, timed as
a whole.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
from tqdm import tqdm

from forecast_hub.generate import HISTORY_END

from .common import (
    Timed,
    bench_env,
    forecast_hub,
    ratio,
    run_dbt_build,
    run_timed,
)
from .dataset import Dataset
from .dbt_results import Node, Overhead, overhead, read_nodes

STEPS = ("ingest", "land", "hybrid", "dbt build")
# dbt's saved parse of the project, in its target folder.
PARTIAL_PARSE = "partial_parse.msgpack"


@dataclass(frozen=True)
class ChainRun:
    """One pass of the chain: each step's wall seconds, and the build's own figures."""

    files_added: int
    step_s: dict[str, float]
    total_s: float
    build_peak_rss_bytes: int
    build: Overhead


@dataclass(frozen=True)
class DayAdded:
    """What the daily run's files held, read from the warehouse after it."""

    sales_rows: int
    corrections: int
    other_feed_rows: int


@dataclass(frozen=True)
class PipelineResult:
    full: ChainRun
    daily: ChainRun
    day: DayAdded
    daily_share_of_full: float | None
    daily_build_share_of_full_build: float | None


@dataclass(frozen=True)
class Warehouse:
    """A data folder the chain ran in, for the sections that read it after."""

    data_dir: Path
    target_path: Path
    full_nodes: list[Node]
    full_build: Timed

    @property
    def duckdb_file(self) -> Path:
        return self.data_dir / "warehouse" / "forecast_hub.duckdb"


def run_chain(data_dir: Path, target_path: Path, label: str) -> tuple[ChainRun, Timed]:
    env = bench_env(data_dir)
    logs = data_dir / "bench-logs"
    commands = {
        "ingest": forecast_hub("ingest"),
        "land": forecast_hub("land", "--target", "duckdb"),
        "hybrid": forecast_hub("hybrid", "--target", "duckdb"),
    }
    step_s: dict[str, float] = {}
    with tqdm(total=len(STEPS), desc=label, unit="step", leave=False) as bar:
        for name, command in commands.items():
            bar.set_postfix_str(name)
            step_s[name] = round(run_timed(command, env, logs / f"{label}-{name}.log").wall_s, 2)
            bar.update()
        bar.set_postfix_str("dbt build")
        build = run_dbt_build(env, target_path, logs / f"{label}-dbt-build.log")
        step_s["dbt build"] = round(build.wall_s, 2)
        bar.update()
    nodes = read_nodes(target_path)
    run = ChainRun(
        files_added=0,
        step_s=step_s,
        total_s=round(sum(step_s.values()), 2),
        build_peak_rss_bytes=build.peak_rss_bytes,
        build=overhead(build, nodes),
    )
    return run, build


def _day_added(warehouse: Path) -> DayAdded:
    day = HISTORY_END.isoformat()
    pattern = f"%{day}%"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        sales, corrections = conn.execute(
            "select count(*), count(*) filter (where sale_date < ?::date)"
            " from raw.sales where source_file like ?",
            [day, pattern],
        ).fetchone() or (0, 0)
        others = 0
        for feed in ("skus", "locations", "promotions", "sku_attributes"):
            row = conn.execute(
                f"select count(*) from raw.{feed} where source_file like ?", [pattern]
            ).fetchone()
            others += row[0] if row else 0
    return DayAdded(int(sales), int(corrections), int(others))


def run_full(dataset: Dataset, work: Path) -> tuple[ChainRun, Warehouse]:
    """The full build of the history's files in a fresh data folder under `work`."""
    data_dir = work / "duckdb"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    files = dataset.stage(data_dir / "bronze", last_day=False)
    target = data_dir / "target-full"
    run, build = run_chain(data_dir, target, "full build")
    return replace(run, files_added=files), Warehouse(data_dir, target, read_nodes(target), build)


def run_daily(dataset: Dataset, warehouse: Warehouse, full: ChainRun) -> PipelineResult:
    """The last day's files added after the full build, and the same chain again."""
    files = dataset.stage(warehouse.data_dir / "bronze", last_day=True)
    # A daily run starts from the last run's parse of the project, as in a checkout
    # that built yesterday: dbt reads it from its target folder (partial parsing).
    target = warehouse.data_dir / "target-daily"
    target.mkdir(exist_ok=True)
    parsed = warehouse.target_path / PARTIAL_PARSE
    if parsed.is_file():
        shutil.copy2(parsed, target / PARTIAL_PARSE)
    daily, _ = run_chain(warehouse.data_dir, target, "daily run")
    return PipelineResult(
        full=full,
        daily=replace(daily, files_added=files),
        day=_day_added(warehouse.duckdb_file),
        daily_share_of_full=ratio(daily.total_s, full.total_s),
        daily_build_share_of_full_build=ratio(daily.step_s["dbt build"], full.step_s["dbt build"]),
    )
