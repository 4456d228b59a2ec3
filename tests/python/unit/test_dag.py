"""The dbt DAG flows one way: staging -> intermediate -> gold -> serving.

dbt's own manifest (``dbt parse`` into a temporary target path, no warehouse
contacted) gives every node's folder and inputs. The rules:

- only models under models/staging call ``source()``; no other model,
  snapshot, analysis or singular data test does;
- a model or snapshot reads only nodes of its own layer or an earlier one;
- seeds are reference data and configuration: any layer may read them;
- a snapshot (snapshots/) counts as intermediate: it keeps the history of
  what intermediate resolved, so it may read staging and intermediate, and
  intermediate, gold and serving may read it;
- every model lives in one layer's folder.

Generic data tests and unit tests are not layers: they read what they check.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[3]
LAYERS = ("staging", "intermediate", "gold", "serving")
SNAPSHOT_LAYER = "intermediate"
PROJECT = "forecast_hub"

Manifest = dict[str, Any]


def _dbt() -> str:
    beside = Path(sys.executable).with_name("dbt")
    found = str(beside) if beside.exists() else shutil.which("dbt")
    assert found, "dbt is not installed in this environment"
    return found


def parse_manifest(work: Path) -> Manifest:
    """dbt's manifest of the project, parsed into ``work``."""
    env = dict(os.environ)
    env["DBT_PROFILES_DIR"] = str(REPO / "profiles")
    env["FORECAST_HUB_DATA_DIR"] = str(work / "data")
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    target = work / "target"
    command = [_dbt(), "parse", "--target-path", str(target), "--log-path", str(work / "logs")]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"dbt parse failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    manifest: Manifest = json.loads((target / "manifest.json").read_text("utf-8"))
    return manifest


def layer_of(node: dict[str, Any]) -> str | None:
    """The layer a model or snapshot belongs to; None for a model outside every layer."""
    if node["resource_type"] == "snapshot":
        return SNAPSHOT_LAYER
    parts = Path(node["original_file_path"]).parts
    if len(parts) > 2 and parts[0] == "models" and parts[1] in LAYERS:
        return parts[1]
    return None


def _is_checked(node: dict[str, Any]) -> bool:
    """A node of this project whose inputs are its own choice (not a generic test)."""
    if node["package_name"] != PROJECT or node["resource_type"] == "unit_test":
        return False
    return not (node["resource_type"] == "test" and node.get("test_metadata"))


def flow_violations(manifest: Manifest) -> list[str]:
    """Every source() outside staging and every edge from a later layer to an earlier one."""
    nodes: dict[str, dict[str, Any]] = manifest["nodes"]
    found = []
    for unique_id, node in sorted(nodes.items()):
        if not _is_checked(node):
            continue
        layered = node["resource_type"] in ("model", "snapshot")
        layer = layer_of(node) if layered else None
        if layered and layer is None:
            found.append(f"{unique_id} is in no layer's folder: {node['original_file_path']}")
        for parent_id in node["depends_on"].get("nodes", []):
            if parent_id.startswith("source."):
                if not (node["resource_type"] == "model" and layer == "staging"):
                    found.append(f"{unique_id} reads {parent_id}: only staging calls source()")
                continue
            parent = nodes.get(parent_id)
            if layer is None or parent is None or parent["resource_type"] == "seed":
                continue
            parent_layer = layer_of(parent)
            if parent_layer is not None and LAYERS.index(parent_layer) > LAYERS.index(layer):
                found.append(f"{unique_id} ({layer}) reads {parent_id} ({parent_layer})")
    return found


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    return parse_manifest(tmp_path_factory.mktemp("dbt_parse"))


def _node(manifest: Manifest, name: str) -> tuple[str, dict[str, Any]]:
    [(unique_id, node)] = [
        (unique_id, node) for unique_id, node in manifest["nodes"].items() if node["name"] == name
    ]
    return unique_id, node


def test_the_project_flows_one_way(manifest: Manifest) -> None:
    layers = {layer_of(n) for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert layers == set(LAYERS), "every layer has models, so every rule is exercised"
    assert flow_violations(manifest) == []


def test_a_gold_model_read_from_intermediate_is_a_back_edge(manifest: Manifest) -> None:
    planted = copy.deepcopy(manifest)
    fct_sales_id, _ = _node(planted, "fct_sales")
    summed_id, summed = _node(planted, "int_sales_summed_to_sku_days")
    summed["depends_on"]["nodes"].append(fct_sales_id)
    assert flow_violations(planted) == [f"{summed_id} (intermediate) reads {fct_sales_id} (gold)"]


def test_serving_read_from_gold_and_a_snapshot_read_from_staging_are_back_edges(
    manifest: Manifest,
) -> None:
    planted = copy.deepcopy(manifest)
    v_forecast_id, _ = _node(planted, "v_forecast")
    snapshot_id, _ = _node(planted, "skus_snapshot")
    draft_id, draft = _node(planted, "fct_forecast_draft")
    staging_id, staging = _node(planted, "stg_client__skus")
    draft["depends_on"]["nodes"].append(v_forecast_id)
    staging["depends_on"]["nodes"].append(snapshot_id)
    assert flow_violations(planted) == [
        f"{draft_id} (gold) reads {v_forecast_id} (serving)",
        f"{staging_id} (staging) reads {snapshot_id} (intermediate)",
    ]


def test_source_outside_staging_is_found(manifest: Manifest) -> None:
    planted = copy.deepcopy(manifest)
    [source_id] = [
        unique_id
        for unique_id, source in planted["sources"].items()
        if source["name"] == "manual_edits_ht"
    ]
    v_forecast_id, v_forecast = _node(planted, "v_forecast")
    v_forecast["depends_on"]["nodes"].append(source_id)
    assert flow_violations(planted) == [
        f"{v_forecast_id} reads {source_id}: only staging calls source()"
    ]


def test_seeds_are_read_anywhere_and_staging_reads_sources(manifest: Manifest) -> None:
    """What the rules allow is used: a real seed read from gold and sources from staging."""
    _, dim_sku = _node(manifest, "dim_sku")
    _, stg_sales = _node(manifest, "stg_client__sales")
    assert any(parent.startswith("seed.") for parent in dim_sku["depends_on"]["nodes"])
    assert any(parent.startswith("source.") for parent in stg_sales["depends_on"]["nodes"])
