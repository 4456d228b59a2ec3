"""The forecast models against statsforecast on the same series, methods and windows.

The project's side is the full build's forecast models (everything under
models/intermediate/forecast and models/gold/forecast), timed by dbt in
run_results.json: the sum of their node times, which with two threads is at
least their wall time. A like-for-like subset, the models that fit and
forecast the eight methods, is reported beside it.

The peer (benchmarks/peer/statsforecast_peer.py, in .venv-peer) gets the
series the build zero-filled, exported from the warehouse to Parquet, and each
tenant's parameters; it runs with n_jobs 1 and with every core, and the faster
run is the peer's time. Its forecasts are then joined to the project's
int_method_forecasts_computed to show both computed the same numbers.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .common import REPO, BenchError, ratio, run_timed
from .dbt_results import forecast_models
from .pipeline import Warehouse

PEER_PYTHON = REPO / ".venv-peer" / "bin" / "python"
PEER_SCRIPT = REPO / "benchmarks" / "peer" / "statsforecast_peer.py"
# The models that do what the peer does: plan the fits, fit and forecast each method.
METHOD_MODELS = (
    "int_forecast_fits_planned",
    "int_level_forecasts_computed",
    "int_intermittent_forecasts_computed",
    "int_seasonal_forecasts_computed",
    "int_method_forecasts_computed",
)
TOLERANCE = 1e-6
TENANT_COLUMNS = (
    "tenant_id", "grain", "season_length", "window_length", "seasons", "backtest_periods",
    "backtest_windows", "horizon_periods", "ses_alpha", "croston_alpha", "tsb_demand_alpha",
    "tsb_probability_alpha",
)  # fmt: skip


@dataclass(frozen=True)
class Agreement:
    """The peer's forecasts joined to the project's on tenant, SKU, window, step and method."""

    matched: int
    within_tolerance: int
    max_abs_difference: float
    project_only: int
    peer_only: int
    by_method_max_abs_difference: dict[str, float]
    project_only_by_method: dict[str, int]
    peer_only_by_method: dict[str, int]


@dataclass(frozen=True)
class ForecastResult:
    series: int
    observations: int
    project_models: dict[str, float]
    project_s: float
    project_method_models_s: float
    peer_runs: list[dict[str, Any]]
    peer_s: float
    peer_process_s: float
    statsforecast_version: str
    speedup: float | None  # peer seconds / project seconds
    method_models_speedup: float | None
    agreement: Agreement
    tenants: list[dict[str, Any]]


def export_series(warehouse: Warehouse, work: Path) -> list[dict[str, Any]]:
    """series.parquet and tenants.json from the full build, for the peer."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with duckdb.connect(str(warehouse.duckdb_file), read_only=True) as conn:
        conn.execute(
            f"""
            copy (
                select s.tenant_id, s.sku_id, s.period_index as ds,
                    s.units_sold::double as y, c.window_count
                from intermediate.int_series_zero_filled as s
                inner join intermediate.int_series_classified as c
                    on s.tenant_id = c.tenant_id and s.sku_id = c.sku_id
                where c.is_forecastable
                order by s.tenant_id, s.sku_id, s.period_index
            ) to '{work / "series.parquet"}' (format parquet)
            """
        )
        cursor = conn.execute(
            f"select distinct {', '.join(TENANT_COLUMNS)} from intermediate.int_series_classified"
            " where is_forecastable order by tenant_id"
        )
        tenants = [dict(zip(TENANT_COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    (work / "tenants.json").write_text(json.dumps(tenants, indent=2) + "\n")
    return tenants


def _agreement(warehouse: Warehouse, forecasts: Path) -> Agreement:
    with duckdb.connect(str(warehouse.duckdb_file), read_only=True) as conn:
        conn.execute(
            f"""
            create temp table joined as
            -- greatest() skips nulls: a row the peer lacks must stay null, not 0.
            select coalesce(p.method, f.method) as method, p.forecast_qty as project,
                case when f.forecast_qty is not null then greatest(f.forecast_qty, 0) end
                    as peer
            from intermediate.int_method_forecasts_computed as p
            full join read_parquet('{forecasts}') as f
                on p.tenant_id = f.tenant_id and p.sku_id = f.sku_id
                and p.window_index = f.window_index and p.step = f.step
                and p.method = f.method
            """
        )
        matched, within, worst, project_only, peer_only = conn.execute(
            """
            select count(*) filter (where project is not null and peer is not null),
                count(*) filter (where abs(project - peer) <= ? * greatest(1, abs(project))),
                coalesce(max(abs(project - peer)), 0),
                count(*) filter (where peer is null),
                count(*) filter (where project is null)
            from joined
            """,
            [TOLERANCE],
        ).fetchone() or (0, 0, 0.0, 0, 0)
        by_method = conn.execute(
            "select method, max(abs(project - peer)) from joined"
            " where project is not null and peer is not null group by method order by method"
        ).fetchall()
        unmatched = conn.execute(
            "select method, count(*) filter (where peer is null),"
            " count(*) filter (where project is null)"
            " from joined where project is null or peer is null group by method order by method"
        ).fetchall()
    return Agreement(
        int(matched), int(within), float(worst), int(project_only), int(peer_only),
        {method: float(value) for method, value in by_method},
        {method: int(count) for method, count, _ in unmatched if count},
        {method: int(count) for method, _, count in unmatched if count},
    )  # fmt: skip


def run_forecast(warehouse: Warehouse, work: Path) -> ForecastResult:
    if not PEER_PYTHON.exists():
        raise BenchError(f"{PEER_PYTHON} is missing; `make bench` creates it")
    tenants = export_series(warehouse, work)
    cores = len(os.sched_getaffinity(0))
    jobs = ["1"] if cores == 1 else ["1", str(cores)]
    peer = run_timed(
        [str(PEER_PYTHON), str(PEER_SCRIPT), "--work", str(work), "--n-jobs", *jobs],
        {**os.environ, "PYTHONPATH": ""},
        work / "peer.log",
    )
    timing = json.loads((work / "timing.json").read_text())
    nodes = forecast_models(warehouse.full_nodes)
    project = {n.unique_id.rsplit(".", 1)[1]: round(n.execution_s, 3) for n in nodes}
    project_s = sum(project.values())
    methods_s = sum(project.get(name, 0.0) for name in METHOD_MODELS)
    peer_s = min(run["seconds"] for run in timing["runs"])
    return ForecastResult(
        series=int(timing["series"]),
        observations=int(timing["observations"]),
        project_models=project,
        project_s=round(project_s, 2),
        project_method_models_s=round(methods_s, 2),
        peer_runs=timing["runs"],
        peer_s=peer_s,
        peer_process_s=round(peer.wall_s, 2),
        statsforecast_version=timing["statsforecast"],
        speedup=ratio(peer_s, project_s),
        method_models_speedup=ratio(peer_s, methods_s),
        agreement=_agreement(warehouse, work / "forecasts.parquet"),
        tenants=tenants,
    )
