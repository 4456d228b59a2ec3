"""The benchmark's data: client files from `generate`, cached by its arguments.

Three tenants (one per forecast grain: day, week, month) with 1,100 days of
history, so every method is eligible in every backtest window at every grain;
the SKU and location counts scale to the requested sales rows
(rows ~ tenants * skus * locations * days * 0.02).

The files dated HISTORY_END, the generator's last day (a daily sales file with
late corrections, and delta files of the other feeds), are held back from the
full build: they are the day the daily run adds.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from forecast_hub.generate import HISTORY_END, MANIFEST_NAME, GenerateConfig, generate_bronze
from forecast_hub.generate.sales import SALES_DENSITY

TENANTS = 3
DAYS = 1100
SEED = 1
DONE = ".complete"


@dataclass(frozen=True)
class DatasetSpec:
    """The arguments `generate` gets; they are the cache key."""

    tenants: int
    skus: int
    locations: int
    days: int
    seed: int

    @classmethod
    def for_rows(cls, rows: int) -> DatasetSpec:
        locations = 100 if rows >= 5_000_000 else 30
        per_sku = TENANTS * locations * DAYS * SALES_DENSITY
        return cls(TENANTS, max(10, round(rows / per_sku)), locations, DAYS, SEED)

    @property
    def key(self) -> str:
        return f"t{self.tenants}-s{self.skus}-l{self.locations}-d{self.days}-seed{self.seed}"

    def config(self) -> GenerateConfig:
        return GenerateConfig(**asdict(self))


@dataclass(frozen=True)
class Dataset:
    spec: DatasetSpec
    bronze: Path
    sales_rows: int
    files: int
    was_cached: bool

    def is_last_day(self, path: Path) -> bool:
        return HISTORY_END.isoformat() in path.name

    def data_files(self) -> list[Path]:
        return sorted(p for p in self.bronze.rglob("*") if p.is_file() and p.name != MANIFEST_NAME)

    def stage(self, bronze: Path, last_day: bool) -> int:
        """Hard-link the history's files (last_day False) or the last day's into `bronze`."""
        count = 0
        for path in self.data_files():
            if self.is_last_day(path) != last_day:
                continue
            target = bronze / path.relative_to(self.bronze)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
            count += 1
        return count

    def backfills(self) -> list[Path]:
        return sorted(self.bronze.glob("*/sales/*_backfill.csv.gz"))


def ensure_dataset(cache: Path, spec: DatasetSpec) -> Dataset:
    """The generated files for `spec`, generated on first use and reused after."""
    folder = cache / spec.key
    bronze = folder / "bronze"
    was_cached = (folder / DONE).exists()
    if not was_cached:
        shutil.rmtree(folder, ignore_errors=True)
        generate_bronze(bronze, spec.config(), progress=True)
        (folder / DONE).write_text(json.dumps(asdict(spec)) + "\n")
    manifest = json.loads((bronze / MANIFEST_NAME).read_text())
    sales_rows = sum(entry["rows"] for entry in manifest["files"] if entry["feed"] == "sales")
    return Dataset(spec, bronze, sales_rows, len(manifest["files"]), was_cached)
