"""The generate run: check the config, prepare the folder, write every tenant's feeds.

Bound: sales are sampled a tile of at most ``sales.TILE_CELLS`` (SKU, location,
day) cells at a time and written as they are made, so memory is one tile
(about 0.2 GB at 5,000 SKUs x 50 locations) whatever the tenants or days;
the run keeps one record per file and per injected bad row for the manifest.
Time: linear in cells.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from forecast_hub.errors import UserError
from forecast_hub.generate.bad_files import BAD_FILE_WRITERS
from forecast_hub.generate.locations import write_locations
from forecast_hub.generate.output import (
    GenerateConfig,
    GenerateSummary,
    Output,
    check_config,
    prepare_out,
    write_manifest,
)
from forecast_hub.generate.promotions import write_promotions
from forecast_hub.generate.sales import write_sales
from forecast_hub.generate.sku_attributes import write_attributes
from forecast_hub.generate.skus import write_skus
from forecast_hub.generate.tenants import Tenant, build_tenant, tenant_ids


def generate_bronze(out: Path, config: GenerateConfig, progress: bool = False) -> GenerateSummary:
    """Write client files for every tenant and feed under ``out``; same config, same bytes.

    ``out`` must be missing, empty, or a folder an earlier run wrote (it holds
    ``MANIFEST_NAME``); such a folder is emptied first.
    """
    check_config(config)
    out = Path(out)
    prepare_out(out)
    write_manifest(out, config, Output(out))
    output = Output(out)
    ids = tenant_ids(config.tenants)
    total = config.tenants * config.skus * config.locations
    try:
        with tqdm(
            total=total, desc="sales series", unit="series", unit_scale=True, disable=not progress
        ) as bar:
            for index, tenant_id in enumerate(ids):
                tenant = build_tenant(config, index, tenant_id)
                _write_tenant(tenant, output, bar)
        write_manifest(out, config, output)
    except OSError as error:
        raise UserError(
            f"could not write {out}: {error}; free space or pick another --out"
        ) from error
    return output.summary(config)


def _write_tenant(t: Tenant, output: Output, bar: tqdm) -> None:
    write_skus(t, output)
    write_locations(t, output)
    write_promotions(t, output)
    write_attributes(t, output)
    write_sales(t, output, bar)
    for reason in t.bad_files():
        BAD_FILE_WRITERS[reason](t, output)
