"""The same full build on PostgreSQL 15, from the same silver files as the duckdb build.

A fresh local server (`forecast_hub.postgres.server`, tuned by
`forecast_hub.postgres.tuning` for this machine) gets `land --target
postgres`, `hybrid --target postgres` and `dbt build --target postgres`,
right after the duckdb full build and before the daily run adds a day, so
both builds read the same rows. The settings in force are read back from the
running server's pg_settings for the report.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import psycopg
from tqdm import tqdm

from forecast_hub.postgres.server import running_postgres
from forecast_hub.postgres.tuning import Machine, server_settings

from .common import bench_env, forecast_hub, ratio, run_dbt_build, run_timed
from .dbt_results import Overhead, models_by_name, overhead, read_nodes
from .pipeline import ChainRun, Warehouse

# Settings the report shows; they are the ones tuning.py derives from the machine.
SHOWN = (
    "shared_buffers", "effective_cache_size", "work_mem", "hash_mem_multiplier",
    "maintenance_work_mem", "max_parallel_workers_per_gather", "max_parallel_workers",
    "random_page_cost", "effective_io_concurrency", "default_statistics_target",
    "wal_level", "max_wal_size", "checkpoint_timeout", "synchronous_commit", "fsync",
    "full_page_writes", "jit",
)  # fmt: skip


@dataclass(frozen=True)
class PostgresResult:
    land_s: float
    hybrid_s: float
    build: Overhead
    duckdb_build_s: float
    duckdb_land_s: float
    build_speedup: float | None  # postgres build wall / duckdb build wall
    land_speedup: float | None
    common_models: int
    common_models_postgres_s: float
    common_models_duckdb_s: float
    common_models_speedup: float | None
    machine_cpus: int
    machine_memory_bytes: int
    settings_in_force: dict[str, str]


def _in_force(parameters: dict[str, object]) -> dict[str, str]:
    with psycopg.connect(**parameters) as conn:  # type: ignore[arg-type]
        rows = conn.execute(
            "select name, current_setting(name) from pg_settings where name = any(%s)",
            (list(SHOWN),),
        ).fetchall()
    found: dict[str, str] = {str(name): str(value) for name, value in rows}
    return {name: found[name] for name in SHOWN if name in found}


def run_postgres(warehouse: Warehouse, full: ChainRun) -> PostgresResult:
    data_dir = warehouse.data_dir
    root = data_dir / "postgres"
    shutil.rmtree(root, ignore_errors=True)
    logs = data_dir / "bench-logs"
    target = data_dir / "target-postgres"
    with tqdm(total=4, desc="postgres build", unit="step", leave=False) as bar:
        bar.set_postfix_str("server start")
        with running_postgres(root) as server:
            connection = server.connection
            env = bench_env(data_dir, dict(line.split("=", 1) for line in connection.env_lines()))
            bar.update()
            bar.set_postfix_str("land")
            land = run_timed(
                forecast_hub("land", "--target", "postgres"), env, logs / "postgres-land.log"
            )
            bar.update()
            bar.set_postfix_str("hybrid")
            hybrid = run_timed(
                forecast_hub("hybrid", "--target", "postgres"), env, logs / "postgres-hybrid.log"
            )
            bar.update()
            bar.set_postfix_str("dbt build")
            build = run_dbt_build(
                env, target, logs / "postgres-dbt-build.log", "--target", "postgres"
            )
            bar.update()
            settings = _in_force(connection.connect_parameters())
    nodes = read_nodes(target)
    postgres_models = models_by_name(nodes)
    duckdb_models = models_by_name(warehouse.full_nodes)
    common = sorted(set(postgres_models) & set(duckdb_models))
    on_postgres = sum(postgres_models[name] for name in common)
    on_duckdb = sum(duckdb_models[name] for name in common)
    machine = Machine.detect()
    return PostgresResult(
        land_s=round(land.wall_s, 2),
        hybrid_s=round(hybrid.wall_s, 2),
        build=overhead(build, nodes),
        duckdb_build_s=round(warehouse.full_build.wall_s, 2),
        duckdb_land_s=full.step_s["land"],
        build_speedup=ratio(build.wall_s, warehouse.full_build.wall_s),
        land_speedup=ratio(land.wall_s, full.step_s["land"]),
        common_models=len(common),
        common_models_postgres_s=round(on_postgres, 2),
        common_models_duckdb_s=round(on_duckdb, 2),
        common_models_speedup=ratio(on_postgres, on_duckdb),
        machine_cpus=machine.cpus,
        machine_memory_bytes=machine.memory_bytes,
        settings_in_force=settings,
    )


def derived_settings() -> dict[str, str]:
    """What tuning.py writes for this machine (the port left out)."""
    written = server_settings(Machine.detect(), 0)
    return {name: value for name, value in written.items() if name in SHOWN}
