"""Ingest throughput against a plain DuckDB copy of the same sales file.

Generates one tenant's sales history with `forecast-hub generate`, joins its
yearly backfill files into one plain CSV (about 1 GB at the default size),
then alternates, for each round:

    plain   COPY (select * from read_csv('<file>')) TO '<out>.parquet'
    ingest  forecast-hub ingest of the same file (type, validate, lineage,
            quarantine, partitions, manifest)

and prints MB/s, rows/s, the ratio of the medians, and the median of each
round's ratio (a round's two runs share the machine's load). The generated files are
kept under --work and reused by later runs of the same size.

    python benchmarks/ingest_throughput.py [--rows 16000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

import duckdb

from forecast_hub.generate import GenerateConfig, generate_bronze
from forecast_hub.ingest import IngestPaths, ingest_bronze
from forecast_hub.settings import Settings

SKUS, LOCATIONS, DENSITY = 5000, 100, 0.02


def sales_file(work: Path, rows: int) -> Path:
    """One plain CSV of about `rows` generated sales rows (cached)."""
    days = max(30, round(rows / (SKUS * LOCATIONS * DENSITY)))
    target = work / f"sales_{days}d.csv"
    if target.exists():
        return target
    bronze = work / "generated"
    config = GenerateConfig(tenants=1, skus=SKUS, locations=LOCATIONS, days=days, seed=1)
    generate_bronze(bronze, config, progress=True)
    join_backfills(sorted((bronze / "northwind" / "sales").glob("*_backfill.csv.gz")), target)
    shutil.rmtree(bronze)
    return target


def join_backfills(backfills: list[Path], target: Path) -> Path:
    """Gzip sales files that share one header, joined into one plain CSV at `target`."""
    partial = target.with_suffix(".partial")
    first_header = b""
    with partial.open("wb") as out:
        for number, path in enumerate(backfills):
            with gzip.open(path, "rb") as source:
                header = source.readline()
                if number == 0:
                    first_header = header
                    out.write(header)
                elif header != first_header:
                    raise SystemExit(f"{path} has another header than {backfills[0]}")
                shutil.copyfileobj(source, out, 1 << 24)
    partial.rename(target)
    return target


def time_plain_copy(path: Path, out: Path) -> float:
    connection = duckdb.connect()
    connection.execute("set enable_progress_bar = false")
    started = time.perf_counter()
    connection.execute(
        f"copy (select * from read_csv('{path}')) to '{out}' (format parquet)"
    ).fetchall()
    elapsed = time.perf_counter() - started
    connection.close()
    out.unlink()
    return elapsed


def time_ingest(path: Path, data: Path) -> tuple[float, dict[str, Any]]:
    shutil.rmtree(data, ignore_errors=True)
    feed = data / "bronze" / "bench" / "sales"
    feed.mkdir(parents=True)
    os.link(path, feed / path.name)
    paths = IngestPaths.resolve(Settings(data_dir=data))
    started = time.perf_counter()
    report = ingest_bronze(paths)
    elapsed = time.perf_counter() - started
    (file_report,) = report.files
    if file_report.status != "ingested":
        raise SystemExit(f"ingest did not succeed: {file_report}")
    return elapsed, {
        "rows_in": file_report.rows_in,
        "rows_silver": file_report.rows_silver,
        "line_numbering": file_report.line_numbering,
        "silver_files": sum(1 for _ in (data / "silver").rglob("*.parquet")),
        "phase_seconds": file_report.phase_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=16_000_000, help="sales rows to generate")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds to run")
    parser.add_argument("--work", type=Path, default=Path("data/bench"), help="work folder")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    path = sales_file(args.work, args.rows)
    size_mb = path.stat().st_size / 1e6
    plain: list[float] = []
    ingest: list[float] = []
    details: dict[str, Any] = {}
    for round_number in range(1, args.rounds + 1):
        plain.append(time_plain_copy(path, args.work / "plain.parquet"))
        seconds, details = time_ingest(path, args.work / "ingest")
        ingest.append(seconds)
        print(
            f"round {round_number}: plain copy {plain[-1]:.1f} s, ingest {seconds:.1f} s "
            f"{details['phase_seconds']}"
        )
    rows = details["rows_in"]
    result = {
        "file": str(path),
        "size_mb": round(size_mb, 1),
        "rows": rows,
        "threads": duckdb.execute("select current_setting('threads')").fetchall()[0][0],
        "plain_copy_s": [round(s, 2) for s in plain],
        "ingest_s": [round(s, 2) for s in ingest],
        "plain_copy_mb_per_s": round(size_mb / statistics.median(plain), 1),
        "ingest_mb_per_s": round(size_mb / statistics.median(ingest), 1),
        "ingest_rows_per_s": round(rows / statistics.median(ingest)),
        "ratio_ingest_to_plain": round(statistics.median(ingest) / statistics.median(plain), 2),
        # Each round's two runs are adjacent, so they share the machine's load.
        "ratio_per_round": [round(i / p, 2) for i, p in zip(ingest, plain, strict=True)],
        "ratio_median_of_rounds": round(
            statistics.median(i / p for i, p in zip(ingest, plain, strict=True)), 2
        ),
        **details,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
