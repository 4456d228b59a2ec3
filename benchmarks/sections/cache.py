"""The API's cache against littletable, from benchmarks/cache_bench.py when it exists.

That benchmark is its own command; this section runs it as a process
(`python benchmarks/cache_bench.py`, with `--quick` when its --help offers
one) and takes the last JSON object it prints on stdout, as the other
benchmarks here print theirs. Its numeric figures go into the report as they
are, flattened to dotted names; those whose name holds "ratio" or "speedup"
are its ratios. Without the file the section says so and measures nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import REPO, BenchError, bench_env

CACHE_BENCH = REPO / "benchmarks" / "cache_bench.py"
RATIO_WORDS = ("ratio", "speedup")


@dataclass(frozen=True)
class CacheResult:
    present: bool
    command: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)


def _last_json_object(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    found = None
    for index, char in enumerate(text):
        if char == "{" and (index == 0 or text[index - 1] == "\n"):
            try:
                value, _ = decoder.raw_decode(text, index)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                found = value
    return found


def _flatten(value: Any, prefix: str = "") -> dict[str, float]:
    if isinstance(value, dict):
        out: dict[str, float] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}{key}."))
        return out
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {prefix.rstrip("."): float(value)}
    return {}


def run_cache(quick: bool, data_dir: Path) -> CacheResult:
    if not CACHE_BENCH.exists():
        return CacheResult(present=False)
    env = bench_env(data_dir)
    command = [sys.executable, str(CACHE_BENCH)]
    if quick:
        helped = subprocess.run(
            [*command, "--help"], cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        if "--quick" in helped.stdout:
            command.append("--quick")
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-300:]}")
    result = _last_json_object(done.stdout)
    if result is None:
        raise BenchError(f"{CACHE_BENCH.name} printed no JSON object on stdout")
    figures = _flatten(result)
    ratios = {
        name: value
        for name, value in figures.items()
        if any(word in name.rsplit(".", 1)[-1].lower() for word in RATIO_WORDS)
    }
    return CacheResult(True, [c.replace(str(REPO) + "/", "") for c in command], figures, ratios)
