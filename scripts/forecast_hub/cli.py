"""The `forecast-hub` command line: a thin layer over the package's API."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import click

from forecast_hub.errors import UserError
from forecast_hub.settings import (
    API_HOST_ENV,
    API_PORT_ENV,
    DATA_DIR_ENV,
    TARGET_ENV,
    WAREHOUSE_TARGETS,
    Settings,
    WarehouseTarget,
)


def _settings() -> Settings:
    return Settings.from_env()


def _setting(name: str) -> Callable[[], Any]:
    """An option's default from the settings object, which reads and checks its variable.

    Click's own ``envvar=`` would read the variable a second time, past the
    settings' validation; this keeps the settings object the one reader.
    """
    return lambda: getattr(_settings(), name)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=f"Paths default under ./data; set {DATA_DIR_ENV} to move them.",
)
@click.version_option(package_name="forecast-hub")
def cli() -> None:
    """Client CSV feeds to a demand-forecast draft planners adjust by hand."""


@cli.command()
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Bronze folder to write client files into [default: $FORECAST_HUB_DATA_DIR/bronze].",
)
@click.option(
    "--tenants",
    type=click.IntRange(1, 1000),
    default=3,
    show_default=True,
    help="Client tenants, each with its own files for every feed.",
)
@click.option(
    "--skus",
    type=click.IntRange(1, 1_000_000),
    default=200,
    show_default=True,
    help="SKUs per tenant.",
)
@click.option(
    "--locations",
    type=click.IntRange(1, 100_000),
    default=10,
    show_default=True,
    help="Locations per tenant.",
)
@click.option(
    "--days",
    type=click.IntRange(1, 20_000),
    default=730,
    show_default=True,
    help="Days of sales history.",
)
@click.option("--seed", type=int, default=42, show_default=True, help="Same seed, same bytes.")
@click.option(
    "--dirty",
    is_flag=True,
    help="Inject a known share of bad files and rows, recorded in "
    "<out>/.forecast-hub-generate.json.",
)
def generate(
    out: Path | None, tenants: int, skus: int, locations: int, days: int, seed: int, dirty: bool
) -> None:
    """Write realistic multi-tenant client files for all five feeds."""
    from forecast_hub.generate import GenerateConfig, generate_bronze

    config = GenerateConfig(
        tenants=tenants, skus=skus, locations=locations, days=days, seed=seed, dirty=dirty
    )
    target = out or _settings().bronze_dir
    summary = generate_bronze(target, config, progress=sys.stderr.isatty())
    click.echo(summary.one_line())


@cli.command()
@click.option(
    "--bronze",
    type=click.Path(path_type=Path),
    default=None,
    help="Bronze folder to read [default: $FORECAST_HUB_DATA_DIR/bronze].",
)
@click.option(
    "--silver",
    type=click.Path(path_type=Path),
    default=None,
    help="Silver folder to write [default: $FORECAST_HUB_DATA_DIR/silver].",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the whole run report as JSON on stdout (the summary goes to stderr).",
)
def ingest(bronze: Path | None, silver: Path | None, as_json: bool) -> None:
    """Bronze CSV to typed, partitioned silver Parquet, with quarantine and lineage.

    Writes a JSON run report under $FORECAST_HUB_DATA_DIR/reports with the
    per-file counts: rows in = rows in silver + rows quarantined.
    """
    from forecast_hub.ingest import IngestPaths, ingest_bronze

    paths = IngestPaths.resolve(_settings(), bronze=bronze, silver=silver)
    report = ingest_bronze(paths, progress=sys.stderr.isatty())
    for file_report in report.files:
        if file_report.status in ("rejected", "failed"):
            click.echo(f"{file_report.status}: {file_report.path}: {file_report.reason}", err=True)
        elif file_report.rows_quarantined:
            click.echo(
                f"quarantined {file_report.rows_quarantined} rows of {file_report.path}",
                err=True,
            )
    for entry in report.unknown_entries:
        click.echo(f"left alone: {entry} (files belong in <tenant>/<feed>/)", err=True)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    click.echo(report.one_line(), err=as_json)
    if not report.ok:
        raise UserError(report.failure_message())


@cli.command()
@click.option(
    "--target",
    type=click.Choice(WAREHOUSE_TARGETS),
    default=_setting("target"),
    help="Warehouse to load silver files into: the embedded DuckDB file, the local "
    "Snowflake emulator (FORECAST_HUB_EMULATOR_PORT), a Snowflake account (SNOWFLAKE_*), "
    "or a PostgreSQL database (FORECAST_HUB_POSTGRES_*)"
    f"  [env: {TARGET_ENV}; default: {Settings.target}]",
)
def land(target: WarehouseTarget) -> None:
    """Load new silver files into raw warehouse tables, exactly once.

    On the emulator and snowflake targets, then check every recorded silver
    file is in its raw table once with all its rows; fail naming any that is not.
    """
    settings = _settings()
    if target == "duckdb":
        from forecast_hub.land import land_silver

        click.echo(land_silver(settings).one_line())
    elif target == "postgres":
        from forecast_hub.postgres import PostgresSettings
        from forecast_hub.postgres.land import land_postgres

        click.echo(land_postgres(settings, PostgresSettings.from_env()).one_line())
    else:
        from forecast_hub.snowflake import SnowflakeSettings
        from forecast_hub.snowflake.land import land_target

        snowflake_settings = SnowflakeSettings.from_env(target, settings=settings)
        click.echo(land_target(settings, snowflake_settings).one_line())


@cli.command()
@click.option(
    "--target",
    type=click.Choice(["duckdb", "postgres", "emulator", "snowflake"]),
    default="duckdb",
    show_default=True,
    help="Where to apply. duckdb: the edits store (FORECAST_HUB_EDITS_STORE: the SQLite"
    " file, or a PostgreSQL database) and the warehouse's planning schema, which gets a"
    " copy of the store's rows. postgres: schema planning of the PostgreSQL database"
    " (FORECAST_HUB_POSTGRES_*), which is the edits store there; nothing is copied."
    " emulator|snowflake: schema planning of the emulator (standard tables) or the"
    " account (hybrid tables; FORECAST_HUB_HYBRID_TABLES), which `serve --target`"
    " writes; nothing is copied.",
)
@click.option(
    "--write-ddl",
    is_flag=True,
    help="First regenerate the DDL files under hybrid/ from forecast_hub/hybrid/tables.py.",
)
def hybrid(target: str, write_ddl: bool) -> None:
    """Apply the hybrid-table DDL (edits, preferences, edit log); idempotent.

    Creates or migrates forward, keeping every row. On duckdb: the edits store
    and the warehouse tables of schema planning, then copies the store's rows
    into the warehouse, where dbt's v_forecast reads them; run it before the
    first dbt build, and again to show the latest edits in the warehouse's
    v_forecast. On postgres, emulator and snowflake the tables are the ones
    the API writes and v_forecast reads, so nothing is copied.
    """
    from forecast_hub.hybrid import apply_hybrid, write_ddl_files

    if write_ddl:
        for path in write_ddl_files():
            click.echo(f"wrote {path}", err=True)
    if target == "postgres":
        from forecast_hub.postgres import PostgresSettings
        from forecast_hub.postgres.hybrid import apply_postgres_hybrid

        applied = apply_postgres_hybrid(PostgresSettings.from_env())
        for change in applied.changes:
            click.echo(change, err=True)
        click.echo(applied.one_line())
        return
    if target in ("emulator", "snowflake"):
        from forecast_hub.snowflake import SnowflakeSettings
        from forecast_hub.snowflake.hybrid import apply_snowflake_hybrid

        on_snowflake = apply_snowflake_hybrid(
            SnowflakeSettings.from_env("emulator" if target == "emulator" else "snowflake")
        )
        for change in on_snowflake.changes:
            click.echo(change, err=True)
        click.echo(on_snowflake.one_line())
        return
    summary = apply_hybrid(_settings())
    for change in summary.store_changes + summary.warehouse_changes:
        click.echo(change, err=True)
    click.echo(summary.one_line())


@cli.command()
@click.option(
    "--target",
    type=click.Choice(WAREHOUSE_TARGETS),
    default="duckdb",
    show_default=True,
    help="duckdb: the draft the last dbt build published under $FORECAST_HUB_DATA_DIR/serving,"
    " merged with the edits store (FORECAST_HUB_EDITS_STORE: sqlite, the embedded store, or"
    " a postgresql:// URL). emulator|snowflake: serving.v_forecast and the planning tables"
    " of the local emulator (FORECAST_HUB_EMULATOR_PORT) or the account (SNOWFLAKE_*);"
    " nothing is held on the API's disk.",
)
@click.option(
    "--host",
    default=_setting("api_host"),
    help=f"Interface to listen on  [env: {API_HOST_ENV}; default: {Settings.api_host}]",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=_setting("api_port"),
    help=f"Port to listen on  [env: {API_PORT_ENV}; default: {Settings.api_port}]",
)
@click.option("--access-log", is_flag=True, help="Log every request (slower).")
def serve(target: WarehouseTarget, host: str, port: int, access_log: bool) -> None:
    """Serve the forecast API of api.md until interrupted.

    On duckdb it reads the draft the last dbt build published and writes
    edits to the edits store; it never opens the warehouse file, so dbt can
    build meanwhile. On emulator|snowflake it reads serving.v_forecast and
    writes the planning tables (run `forecast-hub hybrid --target` first).
    Tokens come from $FORECAST_HUB_API_TOKENS_FILE [default:
    $FORECAST_HUB_DATA_DIR/api/tokens.json]; add one with `forecast-hub token add`.
    OpenAPI docs at /docs.
    """
    from forecast_hub.api import serve as run_server
    from forecast_hub.hybrid import edits_store_path

    settings = _settings()
    click.echo(f"serving http://{host}:{port} (docs: http://{host}:{port}/docs)", err=True)
    run_server(settings, host=host, port=port, access_log=access_log, target=target)
    if target != "duckdb":
        where = f"the planning tables of the {target}"
    elif settings.edits_store == "sqlite":
        where = str(edits_store_path(settings))
    else:
        where = "the PostgreSQL edits store"
    click.echo(f"stopped; every acknowledged edit is in {where}")


@cli.group()
def token() -> None:
    """API bearer tokens: each belongs to one tenant and one user, stored hashed."""


@token.command("add")
@click.option("--tenant", required=True, help="The tenant the token gives access to.")
@click.option("--user", required=True, help="The user edits are recorded under.")
def token_add(tenant: str, user: str) -> None:
    """Create a token and print it; only its SHA-256 is stored, so it is shown once."""
    from forecast_hub.api import add_token

    path = _settings().tokens_file
    value = add_token(path, tenant, user)
    click.echo(value)
    click.echo(
        f"token for {user} of {tenant} added to {path}; it is shown only this once", err=True
    )


@cli.group()
def edits() -> None:
    """The embedded edits store in object storage (FORECAST_HUB_OBJECT_STORE)."""


@edits.command("persist")
def edits_persist() -> None:
    """Push the edits store to object storage now: what async durability has queued,
    then a snapshot; prints what it uploaded. Safe while `serve` runs."""
    from forecast_hub.objectstore.operations import persist_edits_store

    click.echo(persist_edits_store(_settings()))


@cli.group()
def emulator() -> None:
    """The local Snowflake emulator (fakesnow) behind the emulator target, on 127.0.0.1."""


@emulator.command("start")
def emulator_start() -> None:
    """Start it on a free port (or reuse the running one); prints the variable dbt needs."""
    from forecast_hub.snowflake.emulator import start_emulator

    state = start_emulator(_settings())
    click.echo(f"FORECAST_HUB_EMULATOR_PORT={state.port}")
    click.echo(
        f"emulator at {state.url} (pid {state.pid}); stop: forecast-hub emulator stop", err=True
    )


@emulator.command("stop")
def emulator_stop() -> None:
    """Stop the data folder's emulator; its in-memory databases are gone after."""
    from forecast_hub.snowflake.emulator import stop_emulator

    state = stop_emulator(_settings())
    click.echo(
        "no emulator was running" if state is None else f"stopped the emulator on port {state.port}"
    )


@cli.group()
def postgres() -> None:
    """A local PostgreSQL 15 server behind the postgres target, on 127.0.0.1.

    Its cluster lives under $FORECAST_HUB_DATA_DIR/postgres; tuning and setup
    are described in forecast_hub/postgres/tuning.py and server.py.
    """


@postgres.command("start")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port to listen on [default: a free one].",
)
def postgres_start(port: int | None) -> None:
    """Start it (initdb on first use), or find it running; prints the variables to export.

    For example: set -a; eval "$(forecast-hub postgres start)"; set +a
    """
    from forecast_hub.postgres.server import server_root, start_server

    root = server_root(_settings().data_dir)
    state, was_running = start_server(root, port)
    for line in state.connection.env_lines():
        click.echo(line)
    how = "was already running" if was_running else "started"
    click.echo(
        f"PostgreSQL 15 {how} on 127.0.0.1:{state.port} (pid {state.pid}, cluster {root});"
        " stop: forecast-hub postgres stop",
        err=True,
    )


@postgres.command("stop")
def postgres_stop() -> None:
    """Stop the data folder's server; its databases stay on disk for the next start."""
    from forecast_hub.postgres.server import server_root, stop_server

    state = stop_server(server_root(_settings().data_dir))
    click.echo(
        "no PostgreSQL server was running"
        if state is None
        else f"stopped the PostgreSQL server on port {state.port}"
    )


@cli.group()
def snowflake() -> None:
    """Snowflake DDL kept under snowflake/ and hybrid/."""


def _snowflake_target() -> str:
    target = _settings().target
    return "snowflake" if target == "duckdb" else target


@snowflake.command("apply-ddl")
@click.option(
    "--target",
    type=click.Choice(["emulator", "snowflake"]),
    default=_snowflake_target,
    help="Where to apply: the local Snowflake emulator or the Snowflake account (SNOWFLAKE_*)"
    f"  [env: {TARGET_ENV} when emulator or snowflake; default: snowflake]",
)
@click.option(
    "--phase",
    type=click.Choice(["before_build", "after_build"]),
    default="before_build",
    show_default=True,
    help="before_build: landing, pipes, hybrid tables; after_build: tenant isolation, grants.",
)
def snowflake_apply_ddl(
    target: Literal["emulator", "snowflake"], phase: Literal["before_build", "after_build"]
) -> None:
    """Apply the DDL; statements the emulator cannot run need
    FORECAST_HUB_SNOWFLAKE_ACCOUNT_ONLY_DDL=true (the default on an account)."""
    from forecast_hub.snowflake import SnowflakeSettings
    from forecast_hub.snowflake.ddl import apply_target_ddl

    snowflake_settings = SnowflakeSettings.from_env(target, settings=_settings())
    click.echo(apply_target_ddl(snowflake_settings, phase).one_line())


@snowflake.command("write-ddl")
def snowflake_write_ddl() -> None:
    """Regenerate snowflake/landing.sql and pipes.sql from the feed contract."""
    from forecast_hub.snowflake.ddl import write_ddl_files

    for path in write_ddl_files():
        click.echo(f"wrote {path}")


@cli.command()
@click.option(
    "--target",
    type=click.Choice(("duckdb", "emulator", "snowflake")),
    default=_setting("target"),
    help="Warehouse whose gold tables to check: the DuckDB file, the emulator or the account"
    f"  [env: {TARGET_ENV}; default: {Settings.target}]",
)
def quality(target: Literal["duckdb", "emulator", "snowflake"]) -> None:
    """Great Expectations checkpoint over silver and gold; data docs under
    $FORECAST_HUB_DATA_DIR/quality."""
    from forecast_hub.quality import run_quality_checkpoint
    from forecast_hub.snowflake import SnowflakeSettings

    settings = _settings()
    snowflake_settings = (
        None if target == "duckdb" else SnowflakeSettings.from_env(target, settings=settings)
    )
    result = run_quality_checkpoint(settings, snowflake_settings)
    for failure in result.failures:
        click.echo(f"failed: {failure}", err=True)
    click.echo(result.one_line())
    if not result.success:
        raise UserError("the quality checkpoint failed; open the data docs page above")


def main() -> None:
    """Entry point: expected errors become one line on stderr and exit 1."""
    try:
        cli.main(prog_name="forecast-hub", standalone_mode=False)
    except UserError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
