"""Shared helpers: a throwaway data folder, readers for what ingestion wrote, and the
environment of the commands functional tests run.

Fixtures that start something heavy live in fixtures/: a PostgreSQL server
(fixtures/postgres.py), a duckdb build the target comparisons copy
(fixtures/builds.py), a small build with its quality runs
(fixtures/quality.py) and headless Chromium (fixtures/browser.py)."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from forecast_hub.ingest import IngestPaths, IngestReport, ingest_bronze
from forecast_hub.settings import Settings

REPO = Path(__file__).resolve().parents[2]

pytest_plugins = [
    "fixtures.browser",
    "fixtures.builds",
    "fixtures.postgres",
    "fixtures.quality",
]


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
