"""dbt's own account of a build: node times from run_results.json, paths from manifest.json.

A node's time is its `execution_time`; its interval runs from the first
timing step's start to the last one's end. With two threads, nodes overlap,
so the time any node ran is the union of the intervals, not their sum: the
overhead of dbt itself (start-up, parsing, scheduling between nodes, the
end of the run) is the process wall time minus that union. The wall time
minus the plain sum of node times is kept beside it, and so is the per-node
share: each node's execution_time beyond its "execute" step (compiling the
node, dbt's bookkeeping), which the union counts as node time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .common import Timed

FORECAST_PATHS = ("models/intermediate/forecast/", "models/gold/forecast/")


@dataclass(frozen=True)
class Node:
    unique_id: str
    resource_type: str
    path: str
    execution_s: float
    started_at: float
    completed_at: float
    execute_step_s: float  # the "execute" timing step alone: the query, without compiling


@dataclass(frozen=True)
class Overhead:
    """Where a build's wall time went besides running nodes, in seconds."""

    wall_s: float
    node_sum_s: float
    node_union_s: float
    wall_minus_node_sum_s: float  # negative when two threads overlap more than dbt spends
    per_node_compile_and_bookkeeping_s: float  # sum of execution_time - execute step
    start_up_and_parse_s: float
    between_nodes_s: float
    after_last_node_s: float
    overhead_s: float
    overhead_share: float


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def read_nodes(target_path: Path) -> list[Node]:
    """Every node of the last dbt command whose artefacts are in target_path."""
    results = json.loads((target_path / "run_results.json").read_text())
    manifest = json.loads((target_path / "manifest.json").read_text())
    known = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    nodes = []
    for result in results["results"]:
        timing = result["timing"]
        if not timing:  # a node that did not run (skipped) has no interval
            continue
        entry = known.get(result["unique_id"], {})
        nodes.append(
            Node(
                unique_id=result["unique_id"],
                resource_type=result["unique_id"].split(".", 1)[0],
                path=entry.get("original_file_path", ""),
                execution_s=float(result["execution_time"]),
                started_at=min(_epoch(step["started_at"]) for step in timing),
                completed_at=max(_epoch(step["completed_at"]) for step in timing),
                execute_step_s=sum(
                    _epoch(step["completed_at"]) - _epoch(step["started_at"])
                    for step in timing
                    if step["name"] == "execute"
                ),
            )
        )
    return nodes


def union_seconds(nodes: list[Node]) -> float:
    """How long at least one of the nodes was running."""
    total, end = 0.0, float("-inf")
    for node in sorted(nodes, key=lambda n: n.started_at):
        start = max(node.started_at, end)
        if node.completed_at > start:
            total += node.completed_at - start
            end = node.completed_at
    return total


def overhead(process: Timed, nodes: list[Node]) -> Overhead:
    union = union_seconds(nodes)
    ended_at = process.started_at + process.wall_s
    first = min(n.started_at for n in nodes)
    last = max(n.completed_at for n in nodes)
    start_up = max(0.0, first - process.started_at)
    after = max(0.0, ended_at - last)
    spent = max(0.0, process.wall_s - union)
    return Overhead(
        wall_s=round(process.wall_s, 2),
        node_sum_s=round(sum(n.execution_s for n in nodes), 2),
        node_union_s=round(union, 2),
        wall_minus_node_sum_s=round(process.wall_s - sum(n.execution_s for n in nodes), 2),
        per_node_compile_and_bookkeeping_s=round(
            sum(max(0.0, n.execution_s - n.execute_step_s) for n in nodes), 2
        ),
        start_up_and_parse_s=round(start_up, 2),
        between_nodes_s=round(max(0.0, spent - start_up - after), 2),
        after_last_node_s=round(after, 2),
        overhead_s=round(spent, 2),
        overhead_share=round(spent / process.wall_s, 4),
    )


def forecast_models(nodes: list[Node]) -> list[Node]:
    """The models of the forecast: intermediate/forecast and gold/forecast."""
    return [n for n in nodes if n.resource_type == "model" and n.path.startswith(FORECAST_PATHS)]


def models_by_name(nodes: list[Node]) -> dict[str, float]:
    return {
        n.unique_id.rsplit(".", 1)[1]: n.execution_s for n in nodes if n.resource_type == "model"
    }
