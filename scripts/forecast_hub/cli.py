"""The `forecast-hub` command line: a thin layer over the package's API."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from forecast_hub.errors import UserError
from forecast_hub.settings import DATA_DIR_ENV, Settings


def _settings() -> Settings:
    return Settings.from_env()


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
@click.option("--tenants", type=click.IntRange(1, 1000), default=3, show_default=True)
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
    type=click.Choice(["duckdb"]),
    default="duckdb",
    show_default=True,
    help="Warehouse to load silver files into.",
)
def land(target: str) -> None:
    """Load new silver files into raw warehouse tables, exactly once."""
    from forecast_hub.land import land_silver

    summary = land_silver(_settings())
    click.echo(summary.one_line())


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
