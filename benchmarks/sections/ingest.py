"""Ingest against two peers that only convert, on the same plain CSV file.

The file is every tenant's yearly backfill of the benchmark's data joined
into one CSV (benchmarks/ingest_throughput.py joins and times it). Each
round runs, back to back on the same file:

    duckdb   COPY (select * from read_csv('<file>')) TO '<out>.parquet'
    pandas   pandas.read_csv('<file>').to_parquet('<out>.parquet')
    ingest   forecast-hub ingest (type, validate, lineage, quarantine,
             partitions, manifest)

A ratio is ingest's time over the peer's in the same round; the figure is
the median of the rounds' ratios.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from benchmarks.ingest_throughput import join_backfills, time_ingest, time_plain_copy

from .dataset import Dataset


@dataclass(frozen=True)
class IngestResult:
    file_mb: float
    rows: int
    rounds: int
    ingest_s: list[float]
    duckdb_copy_s: list[float]
    pandas_s: list[float]
    ingest_mb_per_s: float
    duckdb_copy_mb_per_s: float
    pandas_mb_per_s: float
    ingest_rows_per_s: float
    ratio_to_duckdb_copy: float  # ingest time / plain copy time, median of the rounds
    ratio_to_pandas: float
    phase_seconds: dict[str, Any]


def time_pandas(path: Path, out: Path) -> float:
    started = time.perf_counter()
    pd.read_csv(path).to_parquet(out)
    elapsed = time.perf_counter() - started
    out.unlink()
    return elapsed


def run_ingest(dataset: Dataset, work: Path, rounds: int) -> IngestResult:
    work.mkdir(parents=True, exist_ok=True)
    path = work / f"sales_{dataset.spec.key}.csv"
    if not path.exists():
        join_backfills(dataset.backfills(), path)
    mb = path.stat().st_size / 1e6
    copy: list[float] = []
    pandas: list[float] = []
    ingest: list[float] = []
    details: dict[str, Any] = {}
    with tqdm(total=rounds * 3, desc="ingest against peers", unit="run", leave=False) as bar:
        for _ in range(rounds):
            copy.append(time_plain_copy(path, work / "plain.parquet"))
            bar.update()
            pandas.append(time_pandas(path, work / "pandas.parquet"))
            bar.update()
            seconds, details = time_ingest(path, work / "ingest")
            ingest.append(seconds)
            bar.update()
    rows = int(details["rows_in"])
    median_ingest = statistics.median(ingest)
    return IngestResult(
        file_mb=round(mb, 1),
        rows=rows,
        rounds=rounds,
        ingest_s=[round(s, 2) for s in ingest],
        duckdb_copy_s=[round(s, 2) for s in copy],
        pandas_s=[round(s, 2) for s in pandas],
        ingest_mb_per_s=round(mb / median_ingest, 1),
        duckdb_copy_mb_per_s=round(mb / statistics.median(copy), 1),
        pandas_mb_per_s=round(mb / statistics.median(pandas), 1),
        ingest_rows_per_s=round(rows / median_ingest),
        ratio_to_duckdb_copy=_median_ratio(ingest, copy),
        ratio_to_pandas=_median_ratio(ingest, pandas),
        phase_seconds=details["phase_seconds"],
    )


def _median_ratio(subject: list[float], peer: list[float]) -> float:
    return round(statistics.median(s / p for s, p in zip(subject, peer, strict=True)), 3)
