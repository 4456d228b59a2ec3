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
import json
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
from forecast_hub.generate import HISTORY_END
from reference import AccuracyRow, Result, forecast_all, load_inputs, read_tenant_settings

REPO = Path(__file__).resolve().parents[3]
TOLERANCE = 1e-6
GENERATE_ARGS = ["--tenants", "3", "--skus", "30", "--locations", "3", "--days", "400"]
# The two incremental sales models: the deduplication and fct_sales over it.
SALES_MODELS = ["int_sales_deduplicated", "fct_sales"]
# dbt's unit tests hold their own input rows, so the data a build runs on
# changes nothing in them: the clean pipeline's build runs them, and every
# other build of this module runs the models, snapshots and data tests only.
WITHOUT_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]


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


def _build(
    tmp_path_factory: pytest.TempPathFactory, *generate_flags: str, build_flags: tuple[str, ...]
) -> Pipeline:
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
    built.dbt("build", *build_flags)
    # The reference reads the same landed rows, now: a later test lands more.
    sales, skus = load_inputs(built.warehouse)
    settings = read_tenant_settings(REPO / "seeds" / "tenant_settings.csv")
    built.reference = forecast_all(sales, skus, settings)
    return built


@pytest.fixture(scope="module")
def clean_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return _build(tmp_path_factory, build_flags=())


@pytest.fixture(scope="module")
def dirty_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    return _build(tmp_path_factory, "--dirty", build_flags=tuple(WITHOUT_UNIT_TESTS))


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
    # Every column but when the build ran.
    everything = (
        "select * exclude (built_at) from gold.fct_sales"
        " order by tenant_id, sku_id, location_id, sale_date"
    )
    deduplicated = (
        "select * exclude (built_at) from intermediate.int_sales_deduplicated"
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


# The daily build: the generated files less the last two days' are built in
# full; then each day's files arrive (with late corrections) and a plain
# `dbt build` must end where a --full-refresh build does.
HELD_BACK_DAYS = (HISTORY_END - dt.timedelta(days=1), HISTORY_END)
# The incremental models, whose rows carry the build that wrote them.
INCREMENTAL_MODELS = (
    "intermediate.int_sales_deduplicated",
    "intermediate.int_sales_summed_to_sku_days",
    "intermediate.int_sales_rolled_up_to_periods",
    "intermediate.int_series_zero_filled",
    "gold.fct_sales",
)


def _move_day(source: Path, target: Path, day: dt.date) -> int:
    """Move every client file sent on ``day`` (its date is in the name)."""
    moved = 0
    for path in sorted(source.rglob(f"*_{day.isoformat()}*")):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        path.rename(destination)
        moved += 1
    return moved


@pytest.fixture(scope="module")
def daily_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    data_dir = tmp_path_factory.mktemp("forecast_hub_daily")
    built = Pipeline(data_dir, subprocess_env(data_dir))
    bronze = data_dir / "bronze"
    built.forecast_hub("generate", "--out", str(bronze), *GENERATE_ARGS, "--seed", "5")
    for day in HELD_BACK_DAYS:
        assert _move_day(bronze, data_dir / "held", day) >= 3, "a sales file per tenant"
    built.forecast_hub("ingest")
    built.forecast_hub("land", "--target", "duckdb")
    built.forecast_hub("hybrid", "--target", "duckdb")
    built.dbt("build", *WITHOUT_UNIT_TESTS)
    return built


def _arrive(pipeline: Pipeline, day: dt.date) -> None:
    _move_day(pipeline.data_dir / "held", pipeline.data_dir / "bronze", day)
    pipeline.forecast_hub("ingest")
    pipeline.forecast_hub("land", "--target", "duckdb")


def _late_corrections(pipeline: Pipeline) -> dict[tuple, float]:
    """Client files re-sending old keys, each changing the series in its own way.

    Returns the units_sold fct_sales must then hold per key."""
    day_tenant, month_tenant = "northwind", "initech"
    (far_back,) = pipeline.query(
        "select sku_id, location_id, sale_date, units_sold, updated_at from gold.fct_sales"
        f" where tenant_id = '{day_tenant}' order by sale_date, sku_id, location_id limit 1"
    )
    # The only line of a SKU day that sold: zeroing it turns y_t into 0, and
    # demand_count changes for every later period of the series.
    (only_line,) = pipeline.query(
        "select sales.sku_id, sales.location_id, sales.sale_date, sales.units_sold,"
        " sales.updated_at from gold.fct_sales as sales"
        " inner join intermediate.int_sales_summed_to_sku_days as days"
        " using (tenant_id, sku_id, sale_date)"
        f" where sales.tenant_id = '{day_tenant}' and days.units_sold = sales.units_sold"
        " and sales.units_sold > 0 and sales.sale_date < date '2026-06-01'"
        " order by sales.sale_date desc, sales.sku_id limit 1"
    )
    # A sale before the first of a SKU that started late: its series starts
    # a month earlier, so every period_index of it changes.
    (late_start,) = pipeline.query(
        "select sku_id, location_id, sale_date, units_sold, updated_at from gold.fct_sales"
        f" where tenant_id = '{month_tenant}' and units_sold > 0"
        " qualify sale_date = min(sale_date) over (partition by sku_id)"
        " order by sale_date desc, sku_id, location_id limit 1"
    )

    def line(row: tuple, units: float, updated_at: dt.datetime, sale_date: dt.date) -> dict:
        return {
            "sku_code": row[0],
            "location_code": row[1],
            "sale_date": sale_date.isoformat(),
            "units_sold": units,
            "updated_at": _iso(updated_at),
        }

    day = dt.timedelta(days=1)
    early = late_start[2] - dt.timedelta(days=40)
    files = {
        day_tenant: [
            line(far_back, float(far_back[3]) + 3, far_back[4] + day, far_back[2]),
            line(only_line, 0, only_line[4] + day, only_line[2]),
            # a stale version: older than the winner, so it changes nothing
            line(far_back, 999, far_back[4] - day, far_back[2]),
        ],
        month_tenant: [line(late_start, 5, late_start[4], early)],
    }
    for tenant, rows in files.items():
        _write_csv(pipeline.data_dir / "bronze" / tenant / "sales" / "sales_zz_late.csv", rows)
    return {
        (day_tenant, *far_back[:3]): float(far_back[3]) + 3,
        (day_tenant, *only_line[:3]): 0.0,
        (month_tenant, late_start[0], late_start[1], early): 5.0,
    }


def _gold_and_serving(pipeline: Pipeline) -> dict[str, list[tuple]]:
    """Every gold table and v_forecast, all columns but when the build ran, in order."""
    relations = pipeline.query(
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_schema = 'gold' or (table_schema, table_name) = ('serving', 'v_forecast')"
        " order by all"
    )
    contents = {}
    for (relation,) in relations:
        schema, table = relation.split(".")
        columns = [
            name
            for (name,) in pipeline.query(
                "select column_name from information_schema.columns"
                f" where table_schema = '{schema}' and table_name = '{table}'"
                " and column_name != 'built_at' order by ordinal_position"
            )
        ]
        contents[relation] = pipeline.query(
            f"select {', '.join(columns)} from {relation} order by all"
        )
    return contents


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    if isinstance(a, str) and isinstance(b, str) and a.startswith("{") and b.startswith("{"):
        return bool(json.loads(a) == json.loads(b))  # a JSON object's keys have no order
    return a == b


def _differences(daily: dict[str, list[tuple]], full: dict[str, list[tuple]]) -> list:
    """Relations whose rows differ (floats to 1e-9: sums may add up in another order)."""
    assert daily.keys() == full.keys()
    return [
        (relation, len(daily[relation]), len(full[relation]))
        for relation in full
        if len(daily[relation]) != len(full[relation])
        or not all(
            len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y, strict=True))
            for x, y in zip(daily[relation], full[relation], strict=True)
        )
    ]


def _last_builds(pipeline: Pipeline) -> dict[str, tuple]:
    """Per incremental model: the latest build that wrote a row, and how many it wrote."""
    return {
        model: pipeline.query(
            f"select max(built_at), count(*) filter (where built_at = (select max(built_at)"
            f" from {model})), count(*) from {model}"
        )[0]
        for model in INCREMENTAL_MODELS
    }


def test_daily_builds_end_equal_to_a_full_refresh(daily_pipeline: Pipeline) -> None:
    """Two days of new files, late corrections included, then a day with none."""
    pipeline = daily_pipeline
    _arrive(pipeline, HELD_BACK_DAYS[0])
    expected_units = _late_corrections(pipeline)
    pipeline.forecast_hub("ingest")
    pipeline.forecast_hub("land", "--target", "duckdb")
    pipeline.dbt("build", *WITHOUT_UNIT_TESTS)
    after_first_day = _gold_and_serving(pipeline)
    units = dict(
        ((tenant, sku, location, date), float(units))
        for tenant, sku, location, date, units in pipeline.query(
            "select tenant_id, sku_id, location_id, sale_date, units_sold from gold.fct_sales"
        )
    )
    assert {key: units.get(key) for key in expected_units} == expected_units

    # Compare with a full refresh, then carry on from the incremental state.
    incremental_state = pipeline.data_dir / "incremental_state.duckdb"
    shutil.copyfile(pipeline.warehouse, incremental_state)
    pipeline.dbt("build", "--full-refresh", *WITHOUT_UNIT_TESTS)
    assert _differences(after_first_day, _gold_and_serving(pipeline)) == []
    shutil.copyfile(incremental_state, pipeline.warehouse)

    # The last day: the month tenant's T moves on to October.
    _arrive(pipeline, HELD_BACK_DAYS[1])
    pipeline.dbt("build", *WITHOUT_UNIT_TESTS)
    after_second_day = _gold_and_serving(pipeline)
    written = _last_builds(pipeline)
    # The day tenant's series got one period each, a few were rebuilt further.
    _, series_rows_written, series_rows = written["intermediate.int_series_zero_filled"]
    assert 0 < series_rows_written < series_rows / 10
    pipeline.dbt("build", *WITHOUT_UNIT_TESTS)
    assert _last_builds(pipeline) == written, "a build with no new data rewrites nothing"
    assert _differences(after_second_day, _gold_and_serving(pipeline)) == []

    pipeline.dbt("build", "--full-refresh", *WITHOUT_UNIT_TESTS)
    assert _differences(after_second_day, _gold_and_serving(pipeline)) == []
