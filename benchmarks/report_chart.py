"""The report's chart: every ratio as times faster than its peer, on one log scale."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt


def write_chart(ratios: list[dict[str, Any]], path: Path, report: dict[str, Any]) -> Path | None:
    """A horizontal bar per ratio (peer / project, so right of 1 is faster than the peer)."""
    rows = [row for row in ratios if row["speed"]]
    if not rows:
        return None
    labels = [f"{row['section']}: {row['figure']}" for row in rows]
    speeds = [row["speed"] for row in rows]
    height = 0.45 * len(rows) + 1.6
    figure, axes = plt.subplots(figsize=(11, height))
    positions = list(range(len(rows)))[::-1]
    colours = ["#2b7a4b" if speed >= 1 else "#b5523b" for speed in speeds]
    axes.barh(positions, speeds, color=colours, height=0.6)
    for position, row in zip(positions, rows, strict=True):
        axes.annotate(
            f"{row['speed']:.3g}x",
            (row["speed"], position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
        if row.get("speed_target"):
            axes.plot(
                [row["speed_target"]] * 2,
                [position - 0.4, position + 0.4],
                color="black",
                linewidth=2,
            )
    axes.axvline(1, color="grey", linewidth=1, linestyle="--")
    axes.set_xscale("log")
    axes.set_yticks(positions, labels, fontsize=8)
    axes.set_xlabel(
        "times better than the peer: peer time / project time (or size; or project rate /"
        " peer rate), log scale\nleft of the dashed line: worse than the peer; black tick:"
        " the target"
    )
    size = f"{report['dataset_sales_rows']:,} sales rows"
    kind = "quick run" if report["quick"] else "full-size run"
    axes.set_title(f"forecast-hub against its peers, {kind}, {size}", fontsize=10)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path
