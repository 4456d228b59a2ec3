"""Every step of the pipeline at growing sizes: wall time, peak memory, cost per million rows.

For each size (sales rows; default 20M, 50M and 200M) the generated client
files of four tenants go through each step as `make demo` runs it, each step
in its own process. A size grows the tenants' SKUs (50 locations x 1,000 days
each, about 1,100 sales rows a SKU; 5,000 SKUs a tenant at 20M, 45,000 at
200M), not their number: every size has the same tenants, so the same mix of
grains (two daily, one weekly, one monthly, from seeds/tenant_settings.csv),
and a cost per million rows compares the same work. (Tenants the seed does
not list forecast daily, so growing the number of tenants would make a large
size mostly daily series, which cost more per sales row at every size.)


    generate  ingest  land (duckdb)  hybrid  dbt build --full-refresh
    quality (duckdb)  api-load (the API reading the published draft)

and for each step the wall time, the peak resident memory of its whole
process tree (sampled every SAMPLE_SECONDS from /proc) and the peak size of
the data folder are recorded. Printed and written under --out: a table
with the cost per million rows and its ratio to the smallest size's,
results.json, and scale.png (time and memory against rows).

Generated files are kept per size under --work and reused by a later run of
the same size (its generate figures are those of the run that made them);
everything else a size wrote is deleted after it unless --keep. Each step's
output goes to <out>/logs-<size>/<step>.log. Before a
size starts, the free disk is checked against BYTES_PER_ROW.

    python benchmarks/scale.py [--sizes 20M,50M,200M] [--work /tmp/scale-data] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
TENANTS, LOCATIONS, DAYS, SEED = 4, 50, 1000, 42
# Sales rows a SKU of that size gets (generate's density, corrections
# included: 5,505,831 rows for a tenant of 5,000 SKUs).
ROWS_PER_SKU = 5_505_831 / 5000
# A size's SKUs a tenant are rounded to this.
SKU_STEP = 1000
SAMPLE_SECONDS = 0.25
# The data folder's size is sampled every this many memory samples.
DISK_EVERY = 8
# Disk per sales row of each stage's output, measured at 22M rows (bronze 9.4,
# silver 8.2, the built warehouse 86), and the build's spill past the default
# 3GB memory limit (measured at 48.5M rows: the data folder grew by 5.9 GB
# during the build, about 120 bytes a row). The check asks for their sum
# times DISK_MARGIN before a size starts.
BYTES_PER_ROW = {"bronze": 10, "silver": 9, "warehouse": 90, "spill": 120, "quality": 5}
DISK_MARGIN = 1.25
# A step whose cost per million rows exceeds the smallest size's by more than
# this is not linear.
LINEAR_RATIO = 1.25
STEPS = ("generate", "ingest", "land", "hybrid", "build", "quality", "api-load")


@dataclass
class Measure:
    step: str
    seconds: float
    peak_rss_bytes: int
    disk_bytes: int  # the data folder's peak size during the step
    reused: bool = False


@dataclass
class SizeRun:
    label: str
    skus: int
    rows: int = 0
    measures: list[Measure] = field(default_factory=list)
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)


def parse_size(text: str) -> int:
    """20M, 1.5G, 500k or a plain number of rows."""
    units = {"k": 10**3, "m": 10**6, "g": 10**9}
    text = text.strip().lower()
    scale = units.get(text[-1:], 1)
    number = text[:-1] if text[-1:] in units else text
    try:
        rows = int(float(number) * scale)
    except ValueError:
        raise SystemExit(f"--sizes: {text!r} is not a number of rows such as 20M") from None
    if rows < 1:
        raise SystemExit(f"--sizes: {text!r} must be at least one row")
    return rows


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and every process below it, from /proc."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def run_step(command: list[str], env: dict[str, str], log: Path, data_dir: Path) -> Measure:
    """Run one step to completion, sampling its process tree's memory and the data folder."""
    peak = peak_disk = 0
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak, peak_disk
            ticks = 0
            while not done.wait(SAMPLE_SECONDS):
                peak = max(peak, _tree_rss(process.pid))
                if ticks % DISK_EVERY == 0:
                    peak_disk = max(peak_disk, disk_bytes(data_dir))
                ticks += 1

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        code = process.wait()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    if code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{' '.join(command[-3:])} failed ({code}); {log}:\n{tail}")
    step = log.stem
    return Measure(step, seconds, peak, max(peak_disk, disk_bytes(data_dir)))


def disk_bytes(folder: Path) -> int:
    total = 0
    for path, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(path, name)).st_blocks * 512
            except OSError:
                continue
    return total


def commands(data_dir: Path, skus: int) -> dict[str, list[str]]:
    cli = [sys.executable, "-c", "from forecast_hub.cli import main; main()"]
    dbt = str(Path(sys.executable).with_name("dbt"))
    sizes = ["--skus", str(skus), "--locations", str(LOCATIONS), "--days", str(DAYS)]
    load = (
        "import sys; from pathlib import Path;"
        " from forecast_hub.api.cache import CacheConfig, ForecastCache;"
        " serving = Path(sys.argv[1]) / 'serving';"
        " config = CacheConfig(serving.parent / 'cache', 1 << 40, 'preload');"
        " cache = ForecastCache(serving, config);"
        " assert cache.refresh_now(), cache.error; generation = cache.current();"
        " print(generation.build_id, generation.rows, 'draft rows')"
    )
    return {
        "generate": [
            *cli,
            "generate",
            "--out",
            str(data_dir / "bronze"),
            "--tenants",
            str(TENANTS),
            *sizes,
            "--seed",
            str(SEED),
        ],
        "ingest": [*cli, "ingest"],
        "land": [*cli, "land", "--target", "duckdb"],
        "hybrid": [*cli, "hybrid", "--target", "duckdb"],
        "build": [
            dbt,
            "build",
            "--full-refresh",
            "--exclude-resource-type",
            "unit_test",
            "--target-path",
            str(data_dir / "target"),
            "--log-path",
            str(data_dir / "logs"),
        ],
        "quality": [*cli, "quality", "--target", "duckdb"],
        "api-load": [sys.executable, "-c", load, str(data_dir)],
    }


def _generated(data_dir: Path, skus: int) -> dict[str, Any] | None:
    """The generate manifest's config and rows, when the files there are of this size."""
    manifest = data_dir / "bronze" / ".forecast-hub-generate.json"
    record = data_dir / "generate.json"
    if not (manifest.is_file() and record.is_file()):
        return None
    config = json.loads(manifest.read_text())["config"]
    wanted = {"tenants": TENANTS, "skus": skus, "locations": LOCATIONS, "days": DAYS, "seed": SEED}
    if any(config.get(key) != value for key, value in wanted.items()):
        return None
    loaded: dict[str, Any] = json.loads(record.read_text())
    return loaded


def _sales_rows(data_dir: Path) -> int:
    manifest = json.loads((data_dir / "bronze" / ".forecast-hub-generate.json").read_text())
    return sum(entry["rows"] for entry in manifest["files"] if entry["feed"] == "sales")


def check_disk(work: Path, rows: int, reuse: bool) -> None:
    stages = {k: v for k, v in BYTES_PER_ROW.items() if not (reuse and k == "bronze")}
    need = int(rows * sum(stages.values()) * DISK_MARGIN)
    free = shutil.disk_usage(work).free
    if free < need:
        raise SystemExit(
            f"{rows:,} rows need about {need / 1e9:.1f} GB free under {work}"
            f" ({', '.join(f'{k} {v} B/row' for k, v in stages.items())}, x{DISK_MARGIN});"
            f" {free / 1e9:.1f} GB are: free some space or pick smaller --sizes"
        )


def _clean(data_dir: Path) -> None:
    """Everything a run wrote but the generated files and their record."""
    for entry in data_dir.iterdir():
        if entry.name not in ("bronze", "generate.json"):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()


def run_size(work: Path, rows: int, keep: bool, out: Path) -> SizeRun:
    skus = SKU_STEP * max(1, round(rows / (TENANTS * ROWS_PER_SKU * SKU_STEP)))
    label = f"{rows / 1e6:g}M"
    data_dir = work / label
    data_dir.mkdir(parents=True, exist_ok=True)
    _clean(data_dir)
    generated = _generated(data_dir, skus)
    check_disk(work, int(TENANTS * skus * ROWS_PER_SKU), reuse=generated is not None)
    run = SizeRun(label, skus, load_average=os.getloadavg())
    env = {
        **os.environ,
        "FORECAST_HUB_DATA_DIR": str(data_dir),
        "DBT_PROFILES_DIR": str(REPO / "profiles"),
        "PYTHONPATH": os.pathsep.join([str(REPO / "scripts"), os.environ.get("PYTHONPATH", "")]),
    }
    steps = commands(data_dir, skus)
    logs = out / f"logs-{label}"
    logs.mkdir(parents=True, exist_ok=True)
    with tqdm(total=len(STEPS), desc=f"{label} rows", unit="step") as bar:
        for step in STEPS:
            bar.set_postfix_str(step)
            if step == "generate" and generated is not None:
                run.measures.append(Measure(**{**generated, "reused": True}))
            else:
                measure = run_step(steps[step], env, logs / f"{step}.log", data_dir)
                run.measures.append(measure)
                if step == "generate":
                    (data_dir / "generate.json").write_text(json.dumps(asdict(measure)))
            bar.update()
    run.rows = _sales_rows(data_dir)
    if not keep:
        _clean(data_dir)
    return run


def table(runs: list[SizeRun]) -> str:
    """Markdown: per step and size, seconds, peak GB, s per M rows and its ratio to the first."""
    base = {m.step: m.seconds / (runs[0].rows / 1e6) for m in runs[0].measures}
    lines = [
        "| step | rows | seconds | peak GB | disk GB | s per M rows | x smallest |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for step in STEPS:
        for run in runs:
            m = next(m for m in run.measures if m.step == step)
            cost = m.seconds / (run.rows / 1e6)
            ratio = cost / base[step] if base[step] else 0.0
            flag = " (not linear)" if ratio > LINEAR_RATIO else ""
            reused = " (reused)" if m.reused else ""
            lines.append(
                f"| {step}{reused} | {run.rows / 1e6:.1f}M | {m.seconds:.1f} |"
                f" {m.peak_rss_bytes / 1e9:.2f} | {m.disk_bytes / 1e9:.1f} |"
                f" {cost:.2f} | {ratio:.2f}{flag} |"
            )
    return "\n".join(lines)


def chart(runs: list[SizeRun], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (times, memory) = plt.subplots(1, 2, figsize=(12, 4.5))
    rows = [run.rows / 1e6 for run in runs]
    for step in STEPS:
        measures = [next(m for m in run.measures if m.step == step) for run in runs]
        times.plot(rows, [m.seconds for m in measures], marker="o", label=step)
        memory.plot(rows, [m.peak_rss_bytes / 1e9 for m in measures], marker="o", label=step)
    times.set(xlabel="sales rows (millions)", ylabel="wall time (s)", title="time per step")
    memory.set(xlabel="sales rows (millions)", ylabel="peak RSS (GB)", title="memory per step")
    for axes in (times, memory):
        axes.grid(alpha=0.3)
        axes.set_xlim(left=0)
        axes.set_ylim(bottom=0)
    memory.legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20M,50M,200M", help="sales rows per run, e.g. 20M,50M")
    parser.add_argument("--work", type=Path, default=Path("/tmp/scale-data"))
    parser.add_argument("--out", type=Path, default=None, help="default: <work>/report")
    parser.add_argument("--keep", action="store_true", help="keep each size's data folder")
    args = parser.parse_args()
    sizes = sorted({parse_size(size) for size in args.sizes.split(",") if size.strip()})
    work: Path = args.work.resolve()
    out: Path = (args.out or work / "report").resolve()
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    runs = [run_size(work, rows, args.keep, out) for rows in sizes]
    report = table(runs)
    loads = ", ".join(f"{run.label}: {run.load_average[0]:.1f}" for run in runs)
    (out / "results.json").write_text(json.dumps([asdict(run) for run in runs], indent=1))
    (out / "scale.md").write_text(f"{report}\n\nload average (1 min) at the start: {loads}\n")
    chart(runs, out / "scale.png")
    print(report)
    print(f"load average (1 min) at the start: {loads}")
    print(f"results: {out / 'results.json'}, chart: {out / 'scale.png'}")


if __name__ == "__main__":
    main()
