"""The API's merge equals v_forecast: the model's own SQL against merge.py on random data.

The merge rule lives in models/serving/v_forecast.sql (what the warehouse
shows) and in forecast_hub/api/merge.py (what the API serves from memory).
Here the model's SQL, and the staging views it reads the planning tables
through, run in DuckDB over the hybrid tables' real DDL, and every row must
equal the API's, across removed edits, edits outside the horizon, SKUs
without a draft, each tenant default and each user's own preference: the
model's rows of a viewer (the tenant '*', or a user with a stored
preference) equal what the API serves that user.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import duckdb
import jinja2
import pyarrow as pa
import pytest

from forecast_hub.api.edits import EditsStore, StoredEdit
from forecast_hub.api.merge import merge_series
from forecast_hub.api.tenant_rows import SkuSeries
from forecast_hub.hybrid import TENANT_DEFAULTS_USER
from forecast_hub.hybrid.ddl import ddl_files

MODELS = Path(__file__).resolve().parents[3] / "models"
MODEL = MODELS / "serving" / "v_forecast.sql"
# The staging views v_forecast reads the planning tables through.
STAGING_VIEWS = ("stg_planning__manual_edits", "stg_planning__user_prefs")
BUILT_AT = dt.datetime(2025, 3, 1, 6, 0)
FIRST_DATE = dt.date(2025, 3, 3)


def _render_model(model: Path = MODEL) -> str:
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        model.read_text("utf-8")
    )
    return template.render(
        ref=lambda name: name,
        source=lambda source, table: f"{source}.{table}",
        config=lambda **_: "",
    )


def _random_case(rng: random.Random):
    """Draft rows, stored edits (live and removed, in and out of the draft), defaults."""
    draft: dict[tuple[str, str], SkuSeries] = {}
    for tenant in ("t1", "t2", "t3"):
        for sku in ("a", "b", "c", "d"):
            if rng.random() < 0.25:
                continue  # a SKU without a draft (inactive, discontinued since)
            start = rng.randrange(0, 3)
            dates = tuple(FIRST_DATE + dt.timedelta(days=7 * (start + k)) for k in range(6))
            draft[(tenant, sku)] = SkuSeries(
                method=rng.choice(["naive", "ses"]),
                dates=dates,
                steps=tuple(range(1, 7)),
                draft_qty=tuple(round(rng.uniform(0, 50), 3) for _ in dates),
            )
    edits: dict[str, dict[tuple[str, dt.date], StoredEdit]] = {}
    for _ in range(rng.randrange(0, 40)):
        tenant, sku = rng.choice(["t1", "t2", "t3"]), rng.choice("abcde")
        date = FIRST_DATE + dt.timedelta(days=7 * rng.randrange(-2, 10))
        removed = rng.random() < 0.3
        edits.setdefault(tenant, {})[(sku, date)] = StoredEdit(
            manual_qty=None if removed else round(rng.uniform(0, 80), 3),
            reason=rng.choice([None, "promo", "it's; drop table x"]),
            edited_by=rng.choice(["ann", "bob"]),
            edited_at=dt.datetime(2025, 3, 2, rng.randrange(24), tzinfo=dt.UTC),
            version=rng.randrange(1, 5),
            is_removed=removed,
        )
    choices = [None, True, False, "absent"]
    defaults = {tenant: rng.choice(choices) for tenant in ("t1", "t2", "t3")}
    users = {
        (tenant, user): rng.choice(choices)
        for tenant in ("t1", "t2", "t3")
        for user in ("ann", "bob")
    }
    defaults.update({key: value for key, value in users.items() if value != "absent"})
    return draft, edits, defaults


def _warehouse_rows(draft, edits, defaults) -> list[tuple]:
    con = duckdb.connect()
    con.execute(ddl_files()["duckdb.sql"])
    con.execute(
        "create table fct_forecast_draft (tenant_id varchar, sku_id varchar, forecast_date date,"
        " step integer, draft_qty double, lower_qty double, upper_qty double, method varchar,"
        " members varchar, built_at timestamp)"
    )
    for (tenant, sku), series in draft.items():
        for date, step, qty in zip(series.dates, series.steps, series.draft_qty, strict=True):
            con.execute(
                "insert into fct_forecast_draft values (?, ?, ?, ?, ?, null, null, ?, null, ?)",
                [tenant, sku, date, step, qty, series.method, BUILT_AT],
            )
    for tenant, by_key in edits.items():
        for (sku, date), edit in by_key.items():
            con.execute(
                "insert into planning.manual_edits_ht values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    tenant,
                    sku,
                    date,
                    edit.manual_qty,
                    edit.reason,
                    edit.edited_by,
                    edit.edited_at.replace(tzinfo=None),
                    edit.version,
                    edit.is_removed,
                ],
            )
    for (tenant, user), show_manual in _prefs(defaults).items():
        con.execute(
            "insert into planning.user_prefs_ht values (?, ?, ?, ?)",
            [tenant, user, show_manual, BUILT_AT],
        )
    for view in STAGING_VIEWS:
        staging = _render_model(MODELS / "staging" / "planning" / f"{view}.sql")
        con.execute(f"create view {view} as {staging}")
    relation = con.sql(_render_model())
    columns = [
        "tenant_id",
        "user_id",
        "sku_id",
        "forecast_date",
        "draft_qty",
        "manual_qty",
        "forecast_qty",
        "is_manual",
        "method",
        "edited_by",
        "edited_at",
    ]
    table: pa.Table = relation.select(", ".join(columns)).to_arrow_table()
    return sorted(tuple(row[c] for c in columns) for row in table.to_pylist())


def _prefs(defaults) -> dict[tuple[str, str], bool | None]:
    """(tenant, user) -> stored show_manual: the tenants' defaults and the users' own."""
    prefs = {}
    for key, value in defaults.items():
        if value != "absent":
            prefs[key if isinstance(key, tuple) else (key, TENANT_DEFAULTS_USER)] = value
    return prefs


def _api_rows(draft, edits, defaults) -> list[tuple]:
    store = EditsStore(Path("unused.sqlite"))
    prefs = _prefs(defaults)
    store.prefs.update(prefs)
    rows = []
    for (tenant, sku), series in draft.items():
        # The tenant's own rows are what a user without preferences sees; each
        # user with a stored preference has rows of their own.
        viewers = {TENANT_DEFAULTS_USER: "someone"}
        viewers.update({user: user for t, user in prefs if t == tenant and user != "*"})
        for viewer, user in viewers.items():
            show_manual = store.show_manual(tenant, user)
            for row in merge_series(
                sku, series, edits.get(tenant, {}), show_manual, range(len(series.dates))
            ):
                edited_at = row["edited_at"].replace(tzinfo=None) if row["edited_at"] else None
                rows.append(
                    (
                        tenant,
                        viewer,
                        row["sku_id"],
                        row["forecast_date"],
                        row["draft_qty"],
                        row["manual_qty"],
                        row["forecast_qty"],
                        row["is_manual"],
                        row["method"],
                        row["edited_by"],
                        edited_at,
                    )
                )
    return sorted(rows)


@pytest.mark.parametrize("seed", range(25))
def test_the_api_merge_equals_the_v_forecast_model(seed: int) -> None:
    draft, edits, defaults = _random_case(random.Random(seed))
    assert _api_rows(draft, edits, defaults) == _warehouse_rows(draft, edits, defaults)


def test_the_cases_cover_every_branch_of_the_rule() -> None:
    """The random cases do exercise removed, out-of-horizon and hidden edits."""
    seen = set()
    for seed in range(25):
        draft, edits, defaults = _random_case(random.Random(seed))
        for tenant, by_key in edits.items():
            for (sku, date), edit in by_key.items():
                series = draft.get((tenant, sku))
                if series is None:
                    seen.add("sku without draft")
                elif date not in series.dates:
                    seen.add("date outside horizon")
                elif edit.is_removed:
                    seen.add("removed")
                elif defaults[tenant] is False:
                    seen.add("hidden by the tenant default")
                else:
                    seen.add("shown")
                for user in ("ann", "bob"):
                    own = defaults.get((tenant, user), "absent")
                    if (
                        own is not None
                        and own != "absent"
                        and own != (defaults[tenant] is not False)
                    ):
                        seen.add("the user's own preference over the tenant's")
                    if own is None and defaults[tenant] is False:
                        seen.add("the user's null inherits the tenant's")
    assert seen == {
        "sku without draft",
        "date outside horizon",
        "removed",
        "hidden by the tenant default",
        "shown",
        "the user's own preference over the tenant's",
        "the user's null inherits the tenant's",
    }
