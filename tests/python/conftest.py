"""Shared helpers: a throwaway data folder, readers for what ingestion wrote, and the
environment of the commands functional tests run."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from playwright.sync_api import Browser

from browser import chromium
from forecast_hub.ingest import IngestPaths, IngestReport, ingest_bronze
from forecast_hub.quality import QualityResult, run_quality_checkpoint
from forecast_hub.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def subprocess_env(data_dir: Path) -> dict[str, str]:
    """The environment of a command a test starts: this checkout's package and dbt
    profiles, one data folder, and no usage statistics sent anywhere."""
    env = dict(os.environ)
    env["FORECAST_HUB_DATA_DIR"] = str(data_dir)
    env["DBT_PROFILES_DIR"] = str(REPO / "profiles")
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["PYTHONPATH"] = os.pathsep.join(
        path for path in (str(REPO / "scripts"), env.get("PYTHONPATH")) if path
    )
    return env


class DataDir:
    """A FORECAST_HUB_DATA_DIR in a temporary folder, with small helpers."""

    def __init__(self, root: Path) -> None:
        self.settings = Settings(data_dir=root)
        self.root = root

    def drop(
        self, tenant: str, feed: str, name: str, content: str | bytes, compress: bool = True
    ) -> Path:
        """Write a client file into bronze; `.gz` names are gzipped unless told not to."""
        data = content.encode() if isinstance(content, str) else content
        path = self.settings.bronze_dir / tenant / feed / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".gz") and compress:
            data = gzip.compress(data, mtime=0)
        path.write_bytes(data)
        return path

    def ingest(self) -> IngestReport:
        return ingest_bronze(IngestPaths.resolve(self.settings))

    def silver(
        self, feed: str, columns: str = "*", order: str = "source_file, source_line"
    ) -> list[tuple[Any, ...]]:
        pattern = self.settings.silver_dir / feed / "**" / "*.parquet"
        return _rows(
            f"select {columns} from read_parquet('{pattern}', hive_partitioning = false) "
            f"order by {order}"
        )

    def quarantine(
        self, columns: str = "source_file, source_line, column_name, rule"
    ) -> list[tuple[Any, ...]]:
        pattern = self.settings.quarantine_dir / "**" / "*.parquet"
        if not list(self.settings.quarantine_dir.rglob("*.parquet")):
            return []
        return _rows(
            f"select {columns} from read_parquet('{pattern}') order by source_file, source_line"
        )


def _rows(query: str) -> list[tuple[Any, ...]]:
    relation = duckdb.sql(query)
    assert relation is not None, "a query returns rows"
    return relation.fetchall()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DataDir:
    monkeypatch.setenv("FORECAST_HUB_DATA_DIR", str(tmp_path))
    return DataDir(tmp_path)


# The build shared by the quality tests and the data docs browser test: the
# build (generate, ingest, land, hybrid, dbt build) takes the better part of a
# minute, so one per session, with one checkpoint run over it as built and one
# over a copy with a planted negative draft.
GENERATE_ARGS = ["--tenants", "3", "--skus", "8", "--locations", "1", "--days", "200"]


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """Debian's headless Chromium (installed when missing), one for the session."""
    with chromium() as browser:
        yield browser


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, (
        f"{' '.join(command)}:\n{done.stdout[-4000:]}\n{done.stderr[-3000:]}"
    )


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A warehouse built from generated client files, as `make demo` builds one."""
    data_dir = tmp_path_factory.mktemp("quality")
    env = subprocess_env(data_dir)
    cli = [sys.executable, "-c", "from forecast_hub.cli import main; main()"]
    _run([*cli, "generate", "--out", str(data_dir / "bronze"), *GENERATE_ARGS], env)
    _run([*cli, "ingest"], env)
    _run([*cli, "land", "--target", "duckdb"], env)
    _run([*cli, "hybrid", "--target", "duckdb"], env)
    dbt = Path(sys.executable).with_name("dbt")
    paths = ["--target-path", str(data_dir / "target"), "--log-path", str(data_dir / "logs")]
    _run([str(dbt), "build", "--exclude-resource-type", "unit_test", *paths], env)
    return Settings(data_dir=data_dir)


@pytest.fixture(scope="session")
def good_result(built: Settings) -> QualityResult:
    """The checkpoint over the build as it came out."""
    return run_quality_checkpoint(built)


Plant = Callable[[Path, str], Settings]


@pytest.fixture(scope="session")
def plant(built: Settings) -> Plant:
    """plant(data_dir, statement): a copy of the build under data_dir, changed by one statement."""

    def planted(data_dir: Path, statement: str) -> Settings:
        settings = Settings(data_dir=data_dir)
        shutil.copytree(built.warehouse_dir, settings.warehouse_dir)
        shutil.copytree(built.silver_dir, settings.silver_dir)
        connection = duckdb.connect(str(settings.warehouse_path))
        try:
            connection.execute(statement)
        finally:
            connection.close()
        return settings

    return planted


@pytest.fixture(scope="session")
def negative_draft(
    plant: Plant, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, QualityResult]:
    """The checkpoint over a copy of the build whose draft has one negative quantity."""
    settings = plant(
        tmp_path_factory.mktemp("negative-draft"),
        "update gold.fct_forecast_draft set draft_qty = -1"
        " where (tenant_id, sku_id, forecast_date) in"
        " (select tenant_id, sku_id, forecast_date from gold.fct_forecast_draft limit 1)",
    )
    return settings, run_quality_checkpoint(settings)
