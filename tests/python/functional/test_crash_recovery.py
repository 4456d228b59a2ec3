"""An ingest killed mid-run, run again, ends exactly as one clean run would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from conftest import subprocess_env
from forecast_hub.ingest.manifest import Manifest
from forecast_hub.settings import Settings

# Runs the real CLI, but SIGKILLs itself at the chosen point of the N-th call.
_KILLER = """
import os, signal, sys
point, after = sys.argv[1], int(sys.argv[2])
calls = 0

def dies(real):
    def wrapper(*args, **kwargs):
        global calls
        calls += 1
        if point == "before-record" and calls == after:
            os.kill(os.getpid(), signal.SIGKILL)
        result = real(*args, **kwargs)
        if point == "mid-publish" and calls == after:
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return wrapper

from forecast_hub.ingest import publish
from forecast_hub.ingest.manifest import Manifest
if point == "mid-publish":
    publish.os.replace = dies(publish.os.replace)
else:
    Manifest.record = dies(Manifest.record)
from forecast_hub.cli import main
sys.argv = ["forecast-hub", "ingest"]
main()
"""

SALES_HEADER = "sku_code,location_code,sale_date,units_sold,updated_at\n"


def _bronze(root: Path) -> None:
    files = {
        "acme/sales/backfill.csv": SALES_HEADER
        + "".join(f"A,L1,2025-{m:02d}-15,{m},2025-12-01\n" for m in range(1, 13)),
        "acme/sales/day1.csv": SALES_HEADER + "A,L1,2025-12-01,1,2025-12-02\nB,L1,oops,1,x\n",
        "acme/skus/skus.csv": "sku_code,sku_name,category,updated_at\nA,a,c,2025-01-01\n",
        "globex/sales/day1.csv": SALES_HEADER + "Z,L9,2025-11-30,2,2025-12-01\n",
        "globex/sales/bad.csv": "no,header,here\n1,2,3\n",
    }
    for number, (relative, text) in enumerate(sorted(files.items())):
        path = root / "bronze" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, ns=(number * 10**9, number * 10**9))


def _run(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = subprocess_env(data)
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=300
    )


def _state(data: Path) -> dict:
    """Everything a clean run leaves, but for the run's id and time."""
    settings = Settings(data_dir=data)
    parquet = sorted(
        p.relative_to(data).as_posix()
        for folder in (settings.silver_dir, settings.quarantine_dir)
        for p in folder.rglob("*.parquet")
    )
    rows = {
        name: duckdb.sql(
            f"select * exclude (ingested_at) from read_parquet('{data / name}') order by all"
        ).fetchall()
        for name in parquet
    }
    with Manifest(settings.manifest_path) as manifest:
        entries = [
            (
                e.file_seq,
                e.path,
                e.status,
                e.reason_code,
                e.rows_in,
                e.rows_silver,
                e.rows_quarantined,
                e.silver_files,
                e.quarantine_file,
            )
            for e in manifest.entries()
        ]
    return {"files": parquet, "rows": rows, "manifest": entries}


@pytest.fixture(scope="module")
def clean_state(tmp_path_factory: pytest.TempPathFactory) -> dict:
    data = tmp_path_factory.mktemp("clean")
    _bronze(data)
    assert _run(data, "-m", "forecast_hub", "ingest").returncode == 0
    return _state(data)


@pytest.mark.parametrize(("point", "after"), [("mid-publish", 3), ("before-record", 2)])
def test_killed_ingest_run_again_equals_a_clean_run(tmp_path, clean_state, point, after):
    _bronze(tmp_path)

    killed = _run(tmp_path, "-c", _KILLER, point, str(after))
    assert killed.returncode == -9, killed.stderr
    staging = tmp_path / "silver" / "_staging"
    assert staging.exists()  # the killed run left work behind

    again = _run(tmp_path, "-m", "forecast_hub", "ingest")

    assert again.returncode == 0, again.stderr
    assert not staging.exists()
    assert _state(tmp_path) == clean_state
    shutil.rmtree(tmp_path)
