"""What every section shares: the repository's paths, the environment its commands
run in, a command timed as a whole process (wall time and peak RSS), and errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# dbt prints "12 of 266 START ..." and "12 of 266 OK ..." for every node.
_DBT_NODE_DONE = re.compile(r"\b(\d+) of (\d+) (OK|PASS|ERROR|FAIL|WARN|SKIP|NO-OP)\b")


class BenchError(Exception):
    """An expected failure of a benchmark step, reported in one line."""


@dataclass(frozen=True)
class Timed:
    """One process: its wall time, when it started (epoch seconds), and its peak RSS."""

    wall_s: float
    started_at: float
    peak_rss_bytes: int


def bench_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every command: this checkout's package and profiles, one data folder."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        path for path in (str(REPO / "scripts"), env.get("PYTHONPATH")) if path
    )
    env["FORECAST_HUB_DATA_DIR"] = str(data_dir)
    env["DBT_PROFILES_DIR"] = str(REPO / "profiles")
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env.update(extra or {})
    return env


def forecast_hub(*args: str) -> list[str]:
    return [sys.executable, "-m", "forecast_hub", *args]


def dbt(*args: str) -> list[str]:
    return [str(BIN / "dbt"), *args]


def run_timed(
    command: Sequence[str],
    env: dict[str, str],
    log: Path,
    on_line: Callable[[str], None] | None = None,
) -> Timed:
    """Run a command to its end, stdout to `log` (and to `on_line`), stderr to the terminal.

    The peak RSS is the child's own, from wait4: the largest resident set of the
    process or of any process it waited for.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        started_at = time.time()
        started = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=REPO, env=env, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert process.stdout is not None
        for line in process.stdout:
            out.write(line)
            if on_line is not None:
                on_line(line)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise BenchError(
            f"{' '.join(command[:4])} exited {process.returncode}; its output is in {log}"
        )
    # ru_maxrss is in kilobytes on Linux.
    return Timed(wall_s=wall, started_at=started_at, peak_rss_bytes=usage.ru_maxrss * 1024)


def run_dbt_build(env: dict[str, str], target_path: Path, log: Path, *args: str) -> Timed:
    """`dbt build` with a progress bar over its nodes; run_results.json lands in target_path."""
    bar = tqdm(desc=f"dbt build {' '.join(args)}".strip(), unit="node", leave=False)

    def advance(line: str) -> None:
        match = _DBT_NODE_DONE.search(line)
        if match:
            bar.total = int(match.group(2))
            bar.update(1)

    try:
        return run_timed(
            dbt(
                "build", *args,
                "--target-path", str(target_path),
                "--log-path", str(target_path / "logs"),
            ),
            env, log, advance,
        )  # fmt: skip
    finally:
        bar.close()


def ratio(subject: float, peer: float) -> float | None:
    """subject / peer, or None when the peer took no measurable time."""
    return round(subject / peer, 3) if peer > 0 else None
