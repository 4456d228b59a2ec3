"""The real pipeline on a small generated dataset, checked against the reference.

generate -> ingest -> land (duckdb) -> dbt seed + build, in a temporary data
directory; then the draft and the backtest accuracy must equal the
independent reference implementation (reference) within 1e-6 for
every series, and an incremental run of the sales deduplication and
fct_sales after a few new files must equal a --full-refresh build.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from conftest import subprocess_env
from reference import forecast_all, load_inputs, read_tenant_settings

REPO = Path(__file__).resolve().parents[3]
TOLERANCE = 1e-6
GENERATE_ARGS = ["--tenants", "3", "--skus", "30", "--locations", "3", "--days", "400"]
# The two incremental sales models: the deduplication and fct_sales over it.
SALES_MODELS = ["int_sales_deduplicated", "fct_sales"]


def _forecast_hub_command() -> list[str]:
    installed = Path(sys.executable).with_name("forecast-hub")
    if installed.exists():
        return [str(installed)]
    return [sys.executable, "-c", "from forecast_hub.cli import main; main()"]


def _dbt_command() -> list[str]:
    beside = Path(sys.executable).with_name("dbt")
    found = str(beside) if beside.exists() else shutil.which("dbt")
    assert found, "dbt is not installed in this environment"
    return [found]


@dataclass(frozen=True)
class Pipeline:
    data_dir: Path
    env: dict[str, str]

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse" / "forecast_hub.duckdb"

    def forecast_hub(self, *args: str) -> None:
        self._run([*_forecast_hub_command(), *args])

    def dbt(self, *args: str) -> None:
        target = ["--target-path", str(self.data_dir / "target")]
        logs = ["--log-path", str(self.data_dir / "logs")]
        self._run([*_dbt_command(), *args, *target, *logs])

    def query(self, sql: str) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.sql(sql).fetchall()
        finally:
            con.close()

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(
            command, cwd=REPO, env=self.env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, (
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-4000:]}\n"
            f"{done.stderr[-4000:]}"
        )


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    data_dir = tmp_path_factory.mktemp("forecast_hub_data")
    env = subprocess_env(data_dir)
    built = Pipeline(data_dir, env)
    bronze = data_dir / "bronze"
    built.forecast_hub("generate", "--out", str(bronze), *GENERATE_ARGS, "--seed", "3")
    built.forecast_hub("ingest")
    built.forecast_hub("land", "--target", "duckdb")
    built.forecast_hub("hybrid", "--target", "duckdb")
    built.dbt("build")
    yield built


@pytest.fixture(scope="module")
def reference(pipeline: Pipeline):
    sales, skus = load_inputs(pipeline.warehouse)
    settings = read_tenant_settings(REPO / "seeds" / "tenant_settings.csv")
    return forecast_all(sales, skus, settings)


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOLERANCE


def test_tenants_forecast_at_all_three_grains(pipeline: Pipeline) -> None:
    grains = dict(pipeline.query("select tenant_id, grain from gold.dim_tenant"))
    assert sorted(grains.values()) == ["day", "month", "week"]


def test_draft_equals_the_reference_for_every_series(pipeline: Pipeline, reference) -> None:
    built = {
        (tenant, sku, date): (step, qty, method)
        for tenant, sku, date, step, qty, method in pipeline.query(
            "select tenant_id, sku_id, forecast_date, step, draft_qty, method"
            " from gold.fct_forecast_draft"
        )
    }
    expected = {
        (r.tenant_id, r.sku_id, r.forecast_date): (r.step, r.draft_qty, r.method)
        for r in reference.draft
    }
    assert expected, "the reference forecast nothing: the dataset is too small to check"
    assert built.keys() == expected.keys()
    wrong = [
        (key, built[key], want)
        for key, want in expected.items()
        if built[key][0] != want[0]
        or built[key][2] != want[2]
        or not _close(built[key][1], want[1])
    ]
    assert wrong == []


def test_accuracy_equals_the_reference_for_every_series_and_method(
    pipeline: Pipeline, reference
) -> None:
    built = {
        row[:3]: row[3:]
        for row in pipeline.query(
            "select tenant_id, sku_id, method, wape, mae, bias, holdout_periods, is_selected"
            " from gold.fct_forecast_accuracy"
        )
    }
    expected = {
        (r.tenant_id, r.sku_id, r.method): (r.wape, r.mae, r.bias, r.holdout_periods, r.is_selected)
        for r in reference.accuracy
    }
    assert expected
    assert built.keys() == expected.keys()
    wrong = [
        (key, built[key], want)
        for key, want in expected.items()
        if not all(_close(a, b) for a, b in zip(built[key][:3], want[:3], strict=True))
        or built[key][3:] != want[3:]
    ]
    assert wrong == []


def test_tenant_rollup_equals_the_reference(pipeline: Pipeline, reference) -> None:
    built = {
        (tenant, method): (wape, mae, bias, count)
        for tenant, method, wape, mae, bias, count in pipeline.query(
            "select tenant_id, method, wape, mae, bias, series_count"
            " from gold.fct_forecast_accuracy_by_tenant"
        )
    }
    assert built.keys() == reference.accuracy_by_tenant.keys()
    for key, (wape, mae, bias, count) in reference.accuracy_by_tenant.items():
        got = built[key]
        assert _close(got[0], wape) and _close(got[1], mae) and _close(got[2], bias), key
        assert got[3] == count, key


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_incremental_fct_sales_equals_a_full_refresh(pipeline: Pipeline) -> None:
    """A few new files: corrections, stale versions and a new line; only they are touched."""
    columns = "tenant_id, sku_id, location_id, sale_date, units_sold, updated_at"
    lines = pipeline.query(
        f"select {columns} from gold.fct_sales order by tenant_id, sku_id, location_id, sale_date"
    )
    (watermark,) = pipeline.query("select max(last_loaded_at) from gold.fct_sales")[0]
    tenant = lines[0][0]
    of_tenant = [line for line in lines if line[0] == tenant]
    corrected, stale = of_tenant[:4], of_tenant[4:8]
    last_date = max(line[3] for line in of_tenant)
    new_key = (tenant, of_tenant[0][1], of_tenant[0][2], last_date + dt.timedelta(days=1))
    assert new_key not in {line[:4] for line in lines}

    def row(line, units, updated_at, sale_date=None) -> dict[str, object]:
        return {
            "sku_code": line[1],
            "location_code": line[2],
            "sale_date": (sale_date or line[3]).isoformat(),
            "units_sold": units,
            "updated_at": _iso(updated_at),
        }

    bronze = pipeline.data_dir / "bronze" / tenant / "sales"
    _write_csv(
        bronze / "sales_zz_corrections.csv",
        [row(line, float(line[4]) + 10, line[5] + dt.timedelta(days=1)) for line in corrected]
        + [row(of_tenant[0], 7, line[5], new_key[3]) for line in of_tenant[:1]],
    )
    _write_csv(
        bronze / "sales_zz_stale.csv",
        [row(line, float(line[4]) + 99, line[5] - dt.timedelta(days=1)) for line in stale],
    )
    pipeline.forecast_hub("ingest")
    pipeline.forecast_hub("land", "--target", "duckdb")

    pipeline.dbt("run", "--select", *SALES_MODELS)
    everything = "select * from gold.fct_sales order by tenant_id, sku_id, location_id, sale_date"
    deduplicated = (
        "select * from intermediate.int_sales_deduplicated"
        " order by tenant_id, sku_id, location_id, sale_date"
    )
    incremental = pipeline.query(everything)
    incremental_deduplicated = pipeline.query(deduplicated)
    touched = pipeline.query(
        f"select tenant_id, sku_id, location_id, sale_date from gold.fct_sales"
        f" where last_loaded_at > '{watermark}'"
    )
    by_key = {line[:4]: line[4] for line in pipeline.query(f"select {columns} from gold.fct_sales")}
    pipeline.dbt("run", "--select", *SALES_MODELS, "--full-refresh")
    full_refresh = pipeline.query(everything)

    assert incremental == full_refresh
    assert incremental_deduplicated == pipeline.query(deduplicated)
    assert sorted(touched) == sorted([line[:4] for line in corrected + stale] + [new_key])
    assert all(float(by_key[line[:4]]) == float(line[4]) + 10 for line in corrected)
    assert all(by_key[line[:4]] == line[4] for line in stale)
    assert float(by_key[new_key]) == 7
