"""One typed settings object; paths default under ./data."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DATA_DIR_ENV = "FORECAST_HUB_DATA_DIR"


@dataclass(frozen=True)
class Settings:
    data_dir: Path

    @classmethod
    def from_env(cls) -> Settings:
        return cls(data_dir=Path(os.environ.get(DATA_DIR_ENV, "data")))

    @property
    def bronze_dir(self) -> Path:
        return self.data_dir / "bronze"

    @property
    def silver_dir(self) -> Path:
        return self.data_dir / "silver"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def warehouse_path(self) -> Path:
        """The DuckDB file dbt builds into and `land` loads raw tables into."""
        return self.warehouse_dir / "forecast_hub.duckdb"

    @property
    def manifest_path(self) -> Path:
        """Ingestion manifest: which bronze bytes have been ingested, and how."""
        return self.silver_dir / "_manifest.sqlite"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"
