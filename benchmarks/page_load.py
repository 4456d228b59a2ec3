"""The planning page in headless Chromium: what it ships, how fast a SKU opens, what a paste sends.

Against a running server (the demo's, `make serve`) and its data folder:

- shipped: the JavaScript and CSS the page loads, libraries included, in KB
  as served (uncompressed), file by file;
- open-to-drawn: the page's own measure (performance marks) from a click on
  a SKU to its chart and grid drawn, for the SKU with the longest history,
  --repeat times; the first open is reported apart, the rest as median, p95
  and max;
- a paste of 52 cells into the Manual column: the requests it makes. The 52
  edits are removed again afterwards (the edit log keeps both).

    .venv/bin/python benchmarks/page_load.py [--url http://127.0.0.1:8000]
        [--tenant northwind] [--token fh_...] [--repeat 20]

Without --token, one is added for user page-bench to the tokens file of
$FORECAST_HUB_DATA_DIR (the server re-reads it). Goals: under 500 KB
shipped, under 300 ms open-to-drawn, one request per paste.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import httpx

# The browser helpers of the test suite: Debian's Chromium driven by Playwright.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))

from browser import chromium
from forecast_hub.api.tokens import add_token
from forecast_hub.settings import Settings
from planner import Planner

PASTE_CELLS = 52


def longest_history(client: httpx.Client, tenant: str) -> tuple[str, int]:
    """The drafted SKU with the most history periods, and how many it has."""
    skus = client.get(f"/v1/tenants/{tenant}/skus", params={"limit": 10_000}).json()["rows"]
    lengths = {}
    for sku in skus:
        rows = client.get(
            f"/v1/tenants/{tenant}/history", params={"sku_id": sku["sku_id"], "limit": 10_000}
        ).json()["rows"]
        lengths[sku["sku_id"]] = len(rows)
    best = max(lengths, key=lambda sku_id: lengths[sku_id])
    return best, lengths[best]


def forecast_dates(
    client: httpx.Client, tenant: str, sku_id: str, manual: bool = False
) -> set[str]:
    """The SKU's forecast dates; with manual, only those with a manual value."""
    rows = client.get(
        f"/v1/tenants/{tenant}/forecast", params={"sku_id": sku_id, "limit": 10_000}
    ).json()["rows"]
    return {r["forecast_date"] for r in rows if not manual or r["manual_qty"] is not None}


def shipped(planner: Planner, url: str) -> dict[str, int]:
    """Bytes of every script and stylesheet the page loaded, by path."""
    sizes: dict[str, int] = {}
    for response in planner.responses:
        if response.request.resource_type in ("script", "stylesheet"):
            sizes[response.url.removeprefix(url)] = len(response.body())
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="The API serving the page.")
    parser.add_argument("--tenant", default="northwind", help="The tenant to sign in to.")
    parser.add_argument("--token", help="A token of the tenant; default: add one for page-bench.")
    parser.add_argument("--repeat", type=int, default=20, help="How many times to open the SKU.")
    args = parser.parse_args()
    url = args.url.rstrip("/")
    token = args.token or add_token(Settings.from_env().tokens_file, args.tenant, "page-bench")
    client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    sku_id, periods = longest_history(client, args.tenant)

    with chromium() as browser:
        planner = Planner(browser, url)
        planner.sign_in(args.tenant, token)
        planner.search(sku_id)
        for _ in range(args.repeat):
            planner.open_sku(sku_id)
        sizes = shipped(planner, url)
        durations = planner.measures()
        loaded = planner.measures("sku-open-to-loaded")
        dates = sorted(forecast_dates(client, args.tenant, sku_id))[:PASTE_CELLS]
        before = len(planner.puts())
        planner.paste_manual(dates[0], [str(10 + k % 7) for k in range(len(dates))])
        paste_requests = planner.puts()[before:]
        errors = planner.errors
        planner.close()
    applied = forecast_dates(client, args.tenant, sku_id, manual=True) & set(dates)
    for date in dates:
        client.delete(f"/v1/tenants/{args.tenant}/edits/{sku_id}/{date}")

    warm = sorted(durations[1:]) or durations
    report = {
        "sku": sku_id,
        "history_periods": periods,
        "shipped_kb": round(sum(sizes.values()) / 1024, 1),
        "shipped_files_kb": {path: round(size / 1024, 1) for path, size in sorted(sizes.items())},
        "open_to_drawn_ms": {
            "first": round(durations[0], 1),
            "median": round(statistics.median(warm), 1),
            "p95": round(warm[int(0.95 * (len(warm) - 1))], 1),
            "max": round(max(warm), 1),
            "opens": len(durations),
        },
        "open_to_loaded_ms_median": round(statistics.median(loaded), 1),
        "paste_cells": len(dates),
        "paste_requests": len(paste_requests),
        "paste_applied": len(applied),
        "console_errors": errors,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
