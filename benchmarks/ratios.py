"""The report's headline: every section's ratios against its peer, in one list.

Each ratio reads as its `formula` says (project over peer, or the other way
where "faster" reads better); `speed` is the same comparison as how many times
faster than its peer the project is (peer time / project time, or project
rate / peer rate), which is what the chart draws on one scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .sections.api import ApiResult
from .sections.cache import CacheResult
from .sections.forecast import ForecastResult
from .sections.ingest import IngestResult
from .sections.pipeline import PipelineResult
from .sections.postgres import PostgresResult


@dataclass(frozen=True)
class Ratio:
    section: str
    figure: str
    formula: str
    value: float | None
    speed: float | None  # times faster than the peer; None where it does not apply
    target: str = ""
    speed_target: float | None = None  # the target on the speed scale


def _inverse(value: float | None) -> float | None:
    return round(1 / value, 3) if value else None


def ingest_ratios(r: IngestResult) -> list[Ratio]:
    return [
        Ratio("ingest", "ingest vs DuckDB COPY to Parquet", "ingest time / COPY time",
              r.ratio_to_duckdb_copy, _inverse(r.ratio_to_duckdb_copy)),
        Ratio("ingest", "ingest vs pandas read_csv + to_parquet", "ingest time / pandas time",
              r.ratio_to_pandas, _inverse(r.ratio_to_pandas)),
    ]  # fmt: skip


def postgres_ratios(r: PostgresResult) -> list[Ratio]:
    return [
        Ratio("postgres", "full dbt build, duckdb vs PostgreSQL",
              "PostgreSQL build time / duckdb build time", r.build_speedup, r.build_speedup,
              ">= 20", 20.0),
        Ratio("postgres", "the models both builds have, sum of node times",
              "PostgreSQL / duckdb", r.common_models_speedup, r.common_models_speedup),
        Ratio("postgres", "land, duckdb vs PostgreSQL", "PostgreSQL land time / duckdb land time",
              r.land_speedup, r.land_speedup),
    ]  # fmt: skip


def daily_ratios(r: PipelineResult) -> list[Ratio]:
    return [
        Ratio("daily", "daily run vs full build (ingest, land, hybrid, dbt build)",
              "daily run time / full build time", r.daily_share_of_full,
              _inverse(r.daily_share_of_full), "<= 0.15", round(1 / 0.15, 3)),
        Ratio("daily", "daily dbt build vs full dbt build", "daily build time / full build time",
              r.daily_build_share_of_full_build, _inverse(r.daily_build_share_of_full_build)),
    ]  # fmt: skip


def forecast_ratios(r: ForecastResult) -> list[Ratio]:
    return [
        Ratio("forecast", "forecast models vs statsforecast",
              "statsforecast time / forecast models' time", r.speedup, r.speedup, ">= 3", 3.0),
        Ratio("forecast", "method-fitting models only vs statsforecast",
              "statsforecast time / those models' time", r.method_models_speedup,
              r.method_models_speedup),
    ]  # fmt: skip


def api_ratios(r: ApiResult) -> list[Ratio]:
    return [
        Ratio("api", "one-SKU read p50 vs bare HTTP round trip", "API p50 / bare p50",
              r.read_p50_ratio, _inverse(r.read_p50_ratio)),
        Ratio("api", "one-SKU read p99 vs bare HTTP round trip", "API p99 / bare p99",
              r.read_p99_ratio, _inverse(r.read_p99_ratio)),
        Ratio("api", "edit-to-visible p99 vs two bare round trips", "API p99 / (2 x bare p99)",
              r.edit_to_visible_p99_ratio, _inverse(r.edit_to_visible_p99_ratio)),
        Ratio("api", "durable edits/s vs durable SQLite commits/s",
              "API edits/s / SQLite commits/s", r.edits_to_commits_ratio,
              r.edits_to_commits_ratio),
    ]  # fmt: skip


def cache_ratios(r: CacheResult) -> list[Ratio]:
    # Ratios cache_bench.py names itself keep its direction, so they stay off the speed scale.
    named = [
        Ratio("cache", name, "as benchmarks/cache_bench.py reports it", value, None)
        for name, value in sorted(r.ratios.items())
    ]
    return named + [
        Ratio("cache", f"{name} vs littletable", "littletable / cache", value, value)
        for name, value in sorted(r.versus_littletable.items())
    ]


BUILDERS: dict[str, Any] = {
    "ingest": ingest_ratios,
    "postgres": postgres_ratios,
    "daily": daily_ratios,
    "forecast": forecast_ratios,
    "api": api_ratios,
    "cache": cache_ratios,
}


def headline(results: dict[str, Any]) -> list[Ratio]:
    """The ratios of every section that produced a result, in the report's order."""
    rows: list[Ratio] = []
    for name, build in BUILDERS.items():
        result = results.get(name)
        if result is not None and not isinstance(result, str):
            rows += build(result)
    return rows
