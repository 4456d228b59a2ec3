"""Run the quality suite after a build and publish data docs.

DuckDB: GX reaches DuckDB through its pandas engine only, which would hold
whole tables in Python; instead DuckDB computes, batch by batch, the metrics
each expectation needs and GX's expectations judge them
(``duckdb_run.py``, ``metrics.py``): bounded memory, time linear in rows.
Snowflake: one GX checkpoint of query assets runs the same queries in the
warehouse (an account or the emulator), which computes every metric and
hands GX counts and at most 20 values per expectation. Either way each
dataset gets one validation result with the same expectations, and the
data docs site under ``$FORECAST_HUB_DATA_DIR/quality`` loads nothing from
another host (``datadocs.py``).
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from forecast_hub.quality.checks import Dataset, datasets
from forecast_hub.quality.datadocs import (
    SITE_DIR,
    SITE_NAME,
    localize_site,
    site_config,
    write_custom_styles,
)
from forecast_hub.quality.duckdb_run import run_duckdb
from forecast_hub.settings import Settings
from forecast_hub.snowflake.settings import EMULATOR_TIMEOUTS

if TYPE_CHECKING:
    from forecast_hub.snowflake.settings import SnowflakeSettings

SUITE_PREFIX = "forecast_hub"
CHECKPOINT_NAME = "forecast_hub_after_build"


@dataclass(frozen=True)
class QualityResult:
    """The checkpoint's verdict: which expectations failed, and where the docs are."""

    success: bool
    data_docs_index: Path
    failures: list[str] = field(default_factory=list)
    evaluated: int = 0

    def one_line(self) -> str:
        verdict = "passed" if self.success else f"FAILED ({len(self.failures)} expectations)"
        return (
            f"quality checkpoint {verdict}: {self.evaluated} expectations;"
            f" data docs: {self.data_docs_index}"
        )


def quality_dir(settings: Settings) -> Path:
    return settings.data_dir / "quality"


def _context(settings: Settings) -> Any:
    """A file-backed GX project under the data folder, so data docs persist for people."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    root = quality_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    # One line per checkpoint says what happened; per-metric bars are noise.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.data_docs_sites = {SITE_NAME: site_config()}
    context.variables.save()
    if context.plugins_directory:  # always, for a file-backed project
        write_custom_styles(Path(context.plugins_directory))
    return context


def snowflake_connection_string(snowflake: SnowflakeSettings) -> str:
    """The SQLAlchemy URL of GX's Snowflake datasource, for an account or the emulator."""
    parameters = snowflake.connector_parameters()
    user = quote(parameters["user"], safe="")
    secret = parameters.get("password")
    credentials = f"{user}:{quote(secret, safe='')}" if secret else user
    query = {"warehouse": snowflake.warehouse, "role": snowflake.role}
    if snowflake.private_key_path:
        query["private_key_file"] = str(snowflake.private_key_path)
    if snowflake.private_key_passphrase:
        query["private_key_file_pwd"] = snowflake.private_key_passphrase
    options = "&".join(f"{key}={quote(value, safe='')}" for key, value in query.items() if value)
    return f"snowflake://{credentials}@{snowflake.account}/{snowflake.database}/public?{options}"


def run_quality_checkpoint(
    settings: Settings, snowflake: SnowflakeSettings | None = None
) -> QualityResult:
    """Validate silver and gold after a build; the data docs show every result.

    With ``snowflake`` the queries run in that warehouse (an account or the
    emulator) through GX's Snowflake datasource; without, DuckDB computes the
    metrics in the warehouse of ``settings``, batch by batch
    (``duckdb_run.py``). Either way Python holds counts and a few values per
    expectation, never a table.
    """
    silver = settings.silver_dir / "sales" / "**" / "*.parquet"
    checks = datasets(f"read_parquet('{silver}', hive_partitioning = false)")
    context = _context(settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        suites = _suites(context, checks)
        if snowflake is None:
            run_results = run_duckdb(settings, context, checks, suites)
        else:
            run_results = _run_snowflake(context, checks, suites, snowflake)
    localize_site(data_docs_site(settings))
    failures = []
    evaluated = 0
    for run in run_results.values():
        for outcome in run.results:
            evaluated += 1
            if not outcome.success:
                config = outcome.expectation_config
                assert config is not None, "GX gives every result its expectation"
                failures.append(f"{run.suite_name}: {config.type} {config.kwargs}")
    success = all(run.success for run in run_results.values())
    return QualityResult(success, data_docs_index(settings), failures, evaluated)


def _suites(context: Any, checks: list[Dataset]) -> dict[str, Any]:
    """Each dataset's suite, saved in the GX project (the data docs list them)."""
    import great_expectations as gx

    return {
        dataset.name: context.suites.add_or_update(
            gx.ExpectationSuite(
                name=f"{SUITE_PREFIX}.{dataset.name}", expectations=dataset.expectations()
            )
        )
        for dataset in checks
    }


def _run_snowflake(
    context: Any, checks: list[Dataset], suites: dict[str, Any], snowflake: SnowflakeSettings
) -> dict[Any, Any]:
    """One GX checkpoint of query assets: the warehouse computes, GX fetches counts."""
    import great_expectations as gx

    # The emulator's address goes to the connector itself: the Snowflake
    # SQLAlchemy dialect refuses host and port in the URL. Its retries are
    # bounded as on every emulator connection.
    emulator = (
        {
            "connect_args": {
                "host": snowflake.host,
                "port": snowflake.port,
                "protocol": "http",
                **EMULATOR_TIMEOUTS,
            }
        }
        if snowflake.is_emulator
        else {}
    )
    source = context.data_sources.add_or_update_snowflake(
        name=f"snowflake_{snowflake.target}",
        connection_string=snowflake_connection_string(snowflake),
        kwargs=emulator,
    )
    definitions = []
    for dataset in checks:
        batch = source.add_query_asset(
            name=dataset.name, query=dataset.query("snowflake")
        ).add_batch_definition_whole_table(f"{dataset.name}_all")
        definitions.append(
            context.validation_definitions.add_or_update(
                gx.ValidationDefinition(
                    name=f"snowflake.{dataset.name}", data=batch, suite=suites[dataset.name]
                )
            )
        )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"{CHECKPOINT_NAME}_snowflake",
            validation_definitions=definitions,
            actions=[
                gx.checkpoint.UpdateDataDocsAction(name="update_data_docs", site_names=[SITE_NAME])
            ],
            result_format="SUMMARY",
        )
    )
    return dict(checkpoint.run().run_results)


def data_docs_site(settings: Settings) -> Path:
    """The folder of the local data docs site: it opens on its own, copied anywhere."""
    return quality_dir(settings) / "gx" / SITE_DIR


def data_docs_index(settings: Settings) -> Path:
    """The page a person opens: the local data docs site of the GX project."""
    return data_docs_site(settings) / "index.html"
