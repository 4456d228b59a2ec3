"""The forecast peer: statsforecast's models on the series the project forecasts.

Runs in .venv-peer (statsforecast 2.1.1 needs pandas < 3), so it imports
nothing of forecast_hub. Reads the zero-filled series the project built
(series.parquet: tenant_id, sku_id, ds = period index, y, window_count) and
each tenant's parameters (tenants.json), then for every tenant:

- forecast: the eight models fitted on every whole series, h = horizon_periods;
- cross_validation: for the series with w backtest windows (w = 1..k),
  n_windows = w, step_size = h = backtest_periods, as the project's rolling
  origin does.

Only those calls are timed, after one warm-up call on a small series; reading,
reshaping and writing are not. Each run is repeated for every --n-jobs value.
Writes timing.json and the forecasts of the first run as forecasts.parquet
(tenant_id, sku_id, window_index, step, method, forecast_qty).

    .venv-peer/bin/python benchmarks/peer/statsforecast_peer.py --work DIR [--n-jobs 1 2]
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsforecast
from statsforecast import StatsForecast
from statsforecast.models import (
    TSB,
    CrostonClassic,
    CrostonSBA,
    Naive,
    SeasonalNaive,
    SeasonalWindowAverage,
    SimpleExponentialSmoothing,
    WindowAverage,
)
from tqdm import tqdm

# Seasonal models leave NaN where the history is shorter than they need; the
# project calls the method ineligible there. Neither is an error.
warnings.filterwarnings("ignore", category=UserWarning)


def models(tenant: dict[str, Any]) -> list[Any]:
    """The project's eight methods as statsforecast models, aliased by the project's names.

    CrostonClassic and CrostonSBA fix their smoothing weight at 0.1, the
    project's default croston_alpha.
    """
    m, w, n = int(tenant["season_length"]), int(tenant["window_length"]), int(tenant["seasons"])
    return [
        Naive(alias="naive"),
        SeasonalNaive(season_length=m, alias="seasonal_naive"),
        WindowAverage(window_size=w, alias="window_average"),
        SeasonalWindowAverage(season_length=m, window_size=n, alias="seasonal_window_average"),
        SimpleExponentialSmoothing(alpha=float(tenant["ses_alpha"]), alias="ses"),
        CrostonClassic(alias="croston_classic"),
        CrostonSBA(alias="croston_sba"),
        TSB(
            alpha_d=float(tenant["tsb_demand_alpha"]),
            alpha_p=float(tenant["tsb_probability_alpha"]),
            alias="tsb",
        ),
    ]


def _long(frame: pd.DataFrame, tenant_id: str, names: list[str]) -> pd.DataFrame:
    out = frame.melt(
        id_vars=["unique_id", "window_index", "step"],
        value_vars=names,
        var_name="method",
        value_name="forecast_qty",
    )
    out = out.rename(columns={"unique_id": "sku_id"})
    out.insert(0, "tenant_id", tenant_id)
    return out.dropna(subset=["forecast_qty"])


def run_tenant(
    tenant: dict[str, Any], series: pd.DataFrame, n_jobs: int, keep: bool
) -> tuple[float, list[pd.DataFrame]]:
    """One tenant's forecast and cross-validations: seconds in statsforecast, and the rows."""
    frame = series[["sku_id", "ds", "y"]].rename(columns={"sku_id": "unique_id"})
    last = series.groupby("sku_id")["ds"].max()
    b, h = int(tenant["backtest_periods"]), int(tenant["horizon_periods"])
    engine = StatsForecast(models=models(tenant), freq=1, n_jobs=n_jobs)
    names = [model.alias for model in engine.models]
    seconds = 0.0
    started = time.perf_counter()
    final = engine.forecast(df=frame, h=h)
    seconds += time.perf_counter() - started
    kept = []
    if keep:
        final["step"] = final["ds"] - final["unique_id"].map(last)
        final["window_index"] = 0
        kept.append(_long(final, tenant["tenant_id"], names))
    for windows in range(1, int(tenant["backtest_windows"]) + 1):
        ids = series.loc[series["window_count"] == windows, "sku_id"].unique()
        if len(ids) == 0:
            continue
        part = frame[frame["unique_id"].isin(ids)]
        started = time.perf_counter()
        backtest = engine.cross_validation(df=part, h=b, n_windows=windows, step_size=b)
        seconds += time.perf_counter() - started
        if keep:
            backtest["step"] = backtest["ds"] - backtest["cutoff"]
            ends = backtest["unique_id"].map(last)
            backtest["window_index"] = ((ends - backtest["cutoff"]) // b).astype(int)
            kept.append(_long(backtest, tenant["tenant_id"], names))
    return seconds, kept


def warm_up(tenant: dict[str, Any]) -> None:
    y = np.arange(3 * int(tenant["season_length"]) * int(tenant["seasons"]), dtype=float) % 5
    frame = pd.DataFrame({"unique_id": "warm", "ds": np.arange(1, len(y) + 1), "y": y})
    StatsForecast(models=models(tenant), freq=1).forecast(df=frame, h=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="Folder of the inputs.")
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1], help="n_jobs to run.")
    args = parser.parse_args()
    series = pd.read_parquet(args.work / "series.parquet")
    tenants = json.loads((args.work / "tenants.json").read_text())
    warm_up(tenants[0])
    runs = []
    kept: list[pd.DataFrame] = []
    for number, n_jobs in enumerate(args.n_jobs):
        per_tenant = {}
        for tenant in tqdm(tenants, desc=f"statsforecast n_jobs={n_jobs}", leave=False):
            rows = series[series["tenant_id"] == tenant["tenant_id"]]
            seconds, frames = run_tenant(tenant, rows, n_jobs, keep=number == 0)
            per_tenant[tenant["tenant_id"]] = round(seconds, 3)
            kept += frames
        runs.append({"n_jobs": n_jobs, "seconds": round(sum(per_tenant.values()), 3),
                     "per_tenant_s": per_tenant})  # fmt: skip
    pd.concat(kept).to_parquet(args.work / "forecasts.parquet", index=False)
    timing = {
        "statsforecast": statsforecast.__version__,
        "pandas": pd.__version__,
        "series": int(series["sku_id"].groupby(series["tenant_id"]).nunique().sum()),
        "observations": len(series),
        "runs": runs,
    }
    (args.work / "timing.json").write_text(json.dumps(timing, indent=2) + "\n")


if __name__ == "__main__":
    main()
