"""Run the quality suite as a Great Expectations checkpoint and publish data docs.

DuckDB: GX cannot reach DuckDB through SQLAlchemy, so each dataset's query
runs in DuckDB (read-only), its rows are written as Parquet under
``$FORECAST_HUB_DATA_DIR/quality/batches`` and GX's pandas datasource reads
them. Snowflake: GX's Snowflake datasource runs the same queries as query
assets in the warehouse. Either way one checkpoint validates every dataset
and writes the data docs site under ``$FORECAST_HUB_DATA_DIR/quality``, which
then loads nothing from another host (``datadocs.py``).
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from forecast_hub.errors import UserError
from forecast_hub.quality.checks import Dataset, Dialect, datasets
from forecast_hub.quality.datadocs import (
    SITE_DIR,
    SITE_NAME,
    localize_site,
    site_config,
    write_custom_styles,
)
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


def _duckdb_batches(settings: Settings, checks: list[Dataset]) -> dict[str, Path]:
    """Each dataset's rows as Parquet, queried read-only from the warehouse."""
    import duckdb

    warehouse = settings.warehouse_path
    if not warehouse.exists():
        raise UserError(f"no warehouse at {warehouse}; run `dbt build` first")
    batches = quality_dir(settings) / "batches"
    batches.mkdir(parents=True, exist_ok=True)
    try:
        connection = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as error:
        raise UserError(
            f"the warehouse {warehouse} is in use by another process; run the checkpoint after it"
        ) from error
    paths = {}
    try:
        connection.execute("set TimeZone = 'UTC'")
        for dataset in checks:
            path = batches / f"{dataset.name}.parquet"
            connection.execute(f"copy ({dataset.query('duckdb')}) to '{path}' (format parquet)")
            paths[dataset.name] = path
    finally:
        connection.close()
    return paths


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
    emulator); without, in the DuckDB warehouse of ``settings``.
    """
    import great_expectations as gx

    silver = settings.silver_dir / "sales" / "**" / "*.parquet"
    checks = datasets(f"read_parquet('{silver}', hive_partitioning = false)")
    context = _context(settings)
    dialect: Dialect = "duckdb" if snowflake is None else "snowflake"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if snowflake is None:
            paths = _duckdb_batches(settings, checks)
            source = context.data_sources.add_or_update_pandas(name="duckdb_warehouse")
            assets = {
                dataset.name: source.add_parquet_asset(name=dataset.name, path=paths[dataset.name])
                for dataset in checks
            }
            batches = {
                name: asset.add_batch_definition_whole_dataframe(f"{name}_all")
                for name, asset in assets.items()
            }
        else:
            # The emulator's address goes to the connector itself: the
            # Snowflake SQLAlchemy dialect refuses host and port in the URL.
            # Its retries are bounded as on every emulator connection.
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
            batches = {
                dataset.name: source.add_query_asset(
                    name=dataset.name, query=dataset.query(dialect)
                ).add_batch_definition_whole_table(f"{dataset.name}_all")
                for dataset in checks
            }
        definitions = []
        for dataset in checks:
            suite = gx.ExpectationSuite(
                name=f"{SUITE_PREFIX}.{dataset.name}", expectations=dataset.expectations()
            )
            suite = context.suites.add_or_update(suite)
            definitions.append(
                context.validation_definitions.add_or_update(
                    gx.ValidationDefinition(
                        name=f"{dialect}.{dataset.name}", data=batches[dataset.name], suite=suite
                    )
                )
            )
        checkpoint = context.checkpoints.add_or_update(
            gx.Checkpoint(
                name=f"{CHECKPOINT_NAME}_{dialect}",
                validation_definitions=definitions,
                actions=[
                    gx.checkpoint.UpdateDataDocsAction(
                        name="update_data_docs", site_names=[SITE_NAME]
                    )
                ],
                result_format="SUMMARY",
            )
        )
        result = checkpoint.run()
    localize_site(data_docs_site(settings))
    failures = []
    evaluated = 0
    for run in result.run_results.values():
        for outcome in run.results:
            evaluated += 1
            if not outcome.success:
                config = outcome.expectation_config
                failures.append(f"{run.suite_name}: {config.type} {config.kwargs}")
    return QualityResult(result.success, data_docs_index(settings), failures, evaluated)


def data_docs_site(settings: Settings) -> Path:
    """The folder of the local data docs site: it opens on its own, copied anywhere."""
    return quality_dir(settings) / "gx" / SITE_DIR


def data_docs_index(settings: Settings) -> Path:
    """The page a person opens: the local data docs site of the GX project."""
    return data_docs_site(settings) / "index.html"
