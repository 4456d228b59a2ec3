"""The API's cache against littletable, from benchmarks/cache_bench.py when it exists.

That benchmark is its own command; this section runs it as a process
(`python benchmarks/cache_bench.py`), giving it, where its --help offers
them, `--work <folder>` and, in a quick run, `--quick` (or else a quarter of
its default `--skus`). Its results are the JSON file it writes into that
folder (`cache_bench.json`), or else the last JSON object it prints on stdout.
Every numeric figure goes into the report as it is, flattened to dotted
names. The ratios: the figures it names "ratio" or "speedup" itself, and,
where its results hold a "littletable" entry beside entries of the cache
("cache..."), littletable's figure over the cache's for each measure both
have where lower is better (bytes, seconds, ms, us). Without the file the
section says so and measures nothing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import REPO, BenchError, bench_env

CACHE_BENCH = REPO / "benchmarks" / "cache_bench.py"
RATIO_WORDS = ("ratio", "speedup")
RESULT_FILE = "cache_bench.json"
PEER = "littletable"
# Measures where less is better, by how their names end.
LOWER_IS_BETTER = ("_us", "_ms", "_seconds", "_s", "bytes_per_row")
QUICK_SKUS = 1250


@dataclass(frozen=True)
class CacheResult:
    present: bool
    command: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    versus_littletable: dict[str, float] = field(default_factory=dict)  # littletable / cache


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


def versus_littletable(result: dict[str, Any]) -> dict[str, float]:
    """littletable's figure over the cache's, for each lower-is-better measure both have."""
    peer = result.get(PEER)
    if not isinstance(peer, dict):
        return {}
    out = {}
    for kind, figures in result.items():
        if not kind.startswith("cache") or not isinstance(figures, dict):
            continue
        for key, value in figures.items():
            theirs = peer.get(key)
            if (
                key.endswith(LOWER_IS_BETTER)
                and isinstance(value, int | float)
                and isinstance(theirs, int | float)
                and value > 0
            ):
                out[f"{kind}.{key}"] = round(theirs / value, 3)
    return out


def _command(quick: bool, work: Path, env: dict[str, str]) -> list[str]:
    command = [sys.executable, str(CACHE_BENCH)]
    helped = subprocess.run(
        [*command, "--help"], cwd=REPO, env=env, capture_output=True, text=True, check=False
    ).stdout
    if "--work" in helped:
        command += ["--work", str(work)]
    if quick and "--quick" in helped:
        command.append("--quick")
    elif quick and "--skus" in helped:
        command += ["--skus", str(QUICK_SKUS)]
    return command


def run_cache(quick: bool, work: Path) -> CacheResult:
    if not CACHE_BENCH.exists():
        return CacheResult(present=False)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = bench_env(work)
    command = _command(quick, work, env)
    with (work / "cache_bench.log").open("w") as log:
        done = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=log,
                              text=True, check=False)  # fmt: skip
    (work / "cache_bench.out").write_text(done.stdout)
    if done.returncode != 0:
        raise BenchError(f"{CACHE_BENCH.name} exited {done.returncode}; see {work}/cache_bench.log")
    written = work / RESULT_FILE
    result = json.loads(written.read_text()) if written.exists() else None
    result = result if isinstance(result, dict) else _last_json_object(done.stdout)
    if result is None:
        raise BenchError(f"{CACHE_BENCH.name} wrote no {RESULT_FILE} and printed no JSON object")
    figures = _flatten(result)
    ratios = {
        name: value
        for name, value in figures.items()
        if any(word in name.rsplit(".", 1)[-1].lower() for word in RATIO_WORDS)
    }
    shown = [part.replace(str(REPO) + "/", "") for part in command]
    return CacheResult(True, shown, figures, ratios, versus_littletable(result))
