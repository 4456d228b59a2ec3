"""What only an account runs, rendered and linted with SQLFluff's snowflake grammar.

The emulator cannot create hybrid tables or row access policies, so the
statements `forecast-hub hybrid --target snowflake` plans for an account,
the post-hook that attaches the tenant policy to serving.v_forecast, and
every statement the API sends (bound with ``?``, run on the emulator too)
are rendered here and must parse; the DDL must also pass the house rules.
docs/snowflake.md names each of them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import jinja2
import pytest
from sqlfluff.core import FluffConfig, Linter

from forecast_hub.api.stores import snowflake as api_sql
from forecast_hub.api.stores.pages import PageRequest
from forecast_hub.api.stores.warehouse import page_statement
from forecast_hub.api.stores.warehouse_page import history_statement, sku_statement
from forecast_hub.hybrid.ddl import column_type, create_table
from forecast_hub.hybrid.tables import SCHEMA, Column
from forecast_hub.snowflake.hybrid import planned_statements

REPO = Path(__file__).resolve().parents[3]
DAY = dt.date(2025, 3, 3)
SNOWFLAKE_DOC = (REPO / "docs" / "snowflake.md").read_text()
CREATE_INDEX = re.compile(
    r"create index if not exists [a-z_]+\non planning\.[a-z_]+ \([a-z_, ]+\);"
)


def _linter(templater: str) -> Linter:
    config = FluffConfig.from_path(
        str(REPO),
        overrides={"dialect": "snowflake", "templater": templater},
    )
    if templater == "placeholder":
        config.set_value(["templater", "placeholder", "param_style"], "question_mark")
    return Linter(config=config)


def _problems(sql: str, templater: str = "raw", parse_only: bool = False) -> list[str]:
    linter = _linter(templater)
    if parse_only:
        parsed = linter.parse_string(sql)
        return [f"{v.line_no}:{v.line_pos} {v.desc()}" for v in parsed.violations]
    result = linter.lint_string(sql)
    return [f"{v.rule_code()} {v.line_no}:{v.line_pos} {v.desc()}" for v in result.violations]


def _account_ddl() -> list[str]:
    """What an account runs: every table created, then a table grown by a column and
    missing an index."""
    fresh = [statement for statement, _ in planned_statements("snowflake_hybrid", {})]
    edits = SCHEMA.table("manual_edits_ht")
    grown = SCHEMA.replacing(edits.with_column(Column("note", "varchar", "A note.")))
    existing = {
        table.name: (
            {c.name: column_type(c, "snowflake_hybrid") for c in table.columns},
            list(table.primary_key),
            set(),
        )
        for table in SCHEMA.tables
    }
    growth = [statement for statement, _ in planned_statements("snowflake_hybrid", existing, grown)]
    assert any("add column note" in s for s in growth)
    assert any(s.startswith("create index if not exists") for s in growth)
    return fresh + growth[1:]


def test_the_account_ddl_creates_hybrid_tables() -> None:
    statements = _account_ddl()
    assert sum(s.startswith("create hybrid table if not exists") for s in statements) == 3
    assert statements[1] == create_table(SCHEMA.tables[0], "snowflake_hybrid")


@pytest.mark.parametrize("index", range(len(_account_ddl())))
def test_every_account_ddl_statement_passes_the_snowflake_lint(index: int) -> None:
    statement = _account_ddl()[index]
    if statement.startswith("create index"):
        # SQLFluff's snowflake grammar has no CREATE INDEX (for hybrid tables):
        # its one form is checked here and docs/snowflake.md names it.
        assert CREATE_INDEX.fullmatch(statement), statement
        assert "create index if not exists" in SNOWFLAKE_DOC
        return
    assert _problems(statement + "\n") == []


# Pieces of a statement, assembled by a function checked below as a whole.
_FRAGMENTS = ("SQL_PAGE", "SQL_SKUS_", "SQL_HISTORY_")
# Statements with nothing to bind: no tenant's rows in them.
_UNBOUND = {"SQL_DRAFT_INFO", "SQL_PING", "SQL_HOT_ATTRIBUTES"}


def _api_statements() -> dict[str, str]:
    statements = {
        name: getattr(api_sql, name)
        for name in dir(api_sql)
        if name.startswith("SQL_") and not name.startswith(_FRAGMENTS)
    }
    everything = PageRequest(["a"], DAY, DAY, True, 10, "cursor")
    nothing = PageRequest(None, None, None, None, 10, None)
    statements["page with every filter"] = page_statement(everything, ("a", DAY))
    statements["page without filters"] = page_statement(nothing, None)
    statements["search with every filter"] = sku_statement("a", "c", "a")
    statements["search without filters"] = sku_statement(None, None, None)
    statements["history with both ends"] = history_statement(DAY, DAY)
    statements["history without ends"] = history_statement(None, None)
    return statements


@pytest.mark.parametrize("name", sorted(_api_statements()))
def test_every_statement_of_the_api_parses_as_snowflake(name: str) -> None:
    sql = _api_statements()[name]
    assert "?" in sql or name in _UNBOUND
    assert _problems(sql, "placeholder", parse_only=True) == []


def test_the_tenant_policy_post_hook_renders_for_an_account_and_parses() -> None:
    macro = (REPO / "macros" / "snowflake" / "tenant_row_access.sql").read_text()
    environment = jinja2.Environment(extensions=["jinja2.ext.do"])
    body = macro.split("{% macro snowflake__tenant_row_access() -%}")[1].split("{%- endmacro %}")[0]
    rendered = environment.from_string(body).render(
        on_emulator=lambda: False, this="forecast_hub.serving.v_forecast"
    )
    assert rendered.strip().startswith("alter view forecast_hub.serving.v_forecast")
    assert _problems(rendered.strip() + "\n", parse_only=True) == []
    assert environment.from_string(body).render(on_emulator=lambda: True, this="x").strip() == ""
