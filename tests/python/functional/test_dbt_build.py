"""The real pipeline on small generated datasets, checked against the reference.

generate -> ingest -> land (duckdb) -> dbt seed + build, in a temporary data
directory, once on clean files and once with --dirty (every kind of bad file
and row, duplicates and late corrections); then the draft with its interval,
the backtest accuracy and the per-tenant roll-up with its coverage must equal
the independent reference implementation (reference) within 1e-6 for every
series, at the three grains; and an incremental run of the sales
deduplication and fct_sales after a few new files must equal a
--full-refresh build.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from conftest import subprocess_env
from reference import AccuracyRow, Result, forecast_all, load_inputs, read_tenant_settings

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


@dataclass
class Pipeline:
    data_dir: Path
    env: dict[str, str]
    reference: Result | None = None

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse" / "forecast_hub.duckdb"

    def forecast_hub(self, *args: str) -> None:
        self._run([*_forecast_hub_command(), *args])

    def dbt(self, *args: str) -> None:
        target = ["--target-path", str(self.data_dir / "target")]
        logs = ["--log-path", str(self.data_dir / "logs")]
        self._run([*_dbt_command(), *args, *target, *logs])

    def query(self, sql: str) -> list[tuple[Any, ...]]:
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


def _build(tmp_path_factory: pytest.TempPathFactory, *generate_flags: str) -> Pipeline:
    data_dir = tmp_path_factory.mktemp("forecast_hub_data")
    env = subprocess_env(data_dir)
    built = Pipeline(data_dir, env)
    bronze = data_dir / "bronze"
    built.forecast_hub(
        "generate", "--out", str(bronze), *GENERATE_ARGS, "--seed", "3", *generate_flags
    )
    built.forecast_hub("ingest")
    built.forecast_hub("land", "--target", "duckdb")
    built.forecast_hub("hybrid", "--target", "duckdb")
    built.dbt("build")
    # The reference reads the same landed rows, now: a later test lands more.
    sales, skus = load_inputs(built.warehouse)
    settings = read_tenant_settings(REPO / "seeds" / "tenant_settings.csv")
    built.reference = forecast_all(sales, skus, settings)
    return built


@pytest.fixture(scope="module")
def clean_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return _build(tmp_path_factory)


@pytest.fixture(scope="module")
def dirty_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return _build(tmp_path_factory, "--dirty")


@pytest.fixture(scope="module", params=["clean", "dirty"])
def pipeline(request: pytest.FixtureRequest) -> Pipeline:
    built: Pipeline = request.getfixturevalue(f"{request.param}_pipeline")
    return built


@pytest.fixture(scope="module")
def reference(pipeline: Pipeline) -> Result:
    assert pipeline.reference is not None
    return pipeline.reference


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOLERANCE


def test_tenants_forecast_at_all_three_grains(pipeline: Pipeline) -> None:
    grains = dict(pipeline.query("select tenant_id, grain from gold.dim_tenant"))
    assert sorted(grains.values()) == ["day", "month", "week"]


Rows = dict[tuple[Any, ...], tuple[Any, ...]]


def _wrong(built: Rows, expected: Rows, exact_from: int) -> list[tuple[Any, ...]]:
    """Rows whose first exact_from values differ by more than 1e-6 or the rest at all."""
    return [
        (key, built[key], want)
        for key, want in expected.items()
        if len(built[key]) != len(want)
        or not all(
            _close(a, b) for a, b in zip(built[key][:exact_from], want[:exact_from], strict=True)
        )
        or built[key][exact_from:] != want[exact_from:]
    ]


def test_draft_and_interval_equal_the_reference_for_every_series(
    pipeline: Pipeline, reference: Result
) -> None:
    built = {
        row[:3]: row[3:]
        for row in pipeline.query(
            "select tenant_id, sku_id, forecast_date, draft_qty, lower_qty, upper_qty,"
            " step, method, members from gold.fct_forecast_draft"
        )
    }
    expected = {
        (r.tenant_id, r.sku_id, r.forecast_date): (
            r.draft_qty, r.lower_qty, r.upper_qty, r.step, r.method, r.members
        )
        for r in reference.draft
    }  # fmt: skip
    assert expected, "the reference forecast nothing: the dataset is too small to check"
    assert {want[4] for want in expected.values()} == {"top3_median", "short_history_mean"}
    assert built.keys() == expected.keys()
    assert _wrong(built, expected, exact_from=3) == []


def _accuracy_values(row: AccuracyRow) -> tuple[Any, ...]:
    window_1 = row.window_1
    return (
        row.overall.wape,
        row.overall.mae,
        row.overall.bias,
        window_1.wape if window_1 else None,
        window_1.mae if window_1 else None,
        window_1.bias if window_1 else None,
        row.window_1_coverage,
        row.window_count,
        row.overall.periods,
        window_1.periods if window_1 else None,
        row.method_rank,
        row.nested_rank,
        row.is_member,
        row.is_nested_member,
        row.is_selected,
        row.window_1_covered_periods,
    )


def test_accuracy_equals_the_reference_for_every_series_and_method(
    pipeline: Pipeline, reference: Result
) -> None:
    built = {
        row[:3]: row[3:]
        for row in pipeline.query(
            "select tenant_id, sku_id, method, wape, mae, bias, window_1_wape, window_1_mae,"
            " window_1_bias, window_1_coverage, window_count, holdout_periods,"
            " window_1_periods, method_rank, nested_rank, is_member, is_nested_member,"
            " is_selected, window_1_covered_periods from gold.fct_forecast_accuracy"
        )
    }
    expected = {(r.tenant_id, r.sku_id, r.method): _accuracy_values(r) for r in reference.accuracy}
    assert expected
    assert {want[7] for want in expected.values()} == {1, 2}, "both window counts are checked"
    assert built.keys() == expected.keys()
    assert _wrong(built, expected, exact_from=7) == []


def test_tenant_rollup_and_coverage_equal_the_reference(
    pipeline: Pipeline, reference: Result
) -> None:
    built = {
        row[:2]: row[2:]
        for row in pipeline.query(
            "select tenant_id, method, wape, mae, bias, interval_coverage, interval_level,"
            " series_count, holdout_periods from gold.fct_forecast_accuracy_by_tenant"
        )
    }
    expected = {
        key: (
            row.totals.wape,
            row.totals.mae,
            row.totals.bias,
            row.interval_coverage,
            row.interval_level,
            row.series_count,
            row.totals.periods,
        )
        for key, row in reference.accuracy_by_tenant.items()
    }
    assert sum(1 for tenant, method in expected if method == "top3_median") == 3
    assert built.keys() == expected.keys()
    assert _wrong(built, expected, exact_from=5) == []


def test_the_published_draft_carries_the_interval_and_members(clean_pipeline: Pipeline) -> None:
    """The build's files for the API hold lower_qty, upper_qty and members of every row."""
    serving = clean_pipeline.data_dir / "serving"
    build_id = (serving / "CURRENT").read_text(encoding="utf-8").strip()
    columns = ["tenant_id", "sku_id", "forecast_date", "lower_qty", "upper_qty", "members"]
    published = pq.read_table(serving / build_id / "draft.parquet", columns=columns)
    rows = sorted(tuple(row[c] for c in columns) for row in published.to_pylist())
    built = clean_pipeline.query(f"select {', '.join(columns)} from gold.fct_forecast_draft")
    assert rows == sorted(built)
    assert any(row[5] for row in rows) and any(row[5] is None for row in rows)


def _write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_incremental_fct_sales_equals_a_full_refresh(clean_pipeline: Pipeline) -> None:
    """A few new files: corrections, stale versions and a new line; only they are touched."""
    pipeline = clean_pipeline
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

    def row(
        line: tuple[Any, ...],
        units: float,
        updated_at: dt.datetime,
        sale_date: dt.date | None = None,
    ) -> dict[str, object]:
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
