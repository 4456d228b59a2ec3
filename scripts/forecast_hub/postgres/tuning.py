"""How the local PostgreSQL 15 server is tuned: as a fair peer tunes it for analytics.

The server is the benchmark peer of the embedded warehouse and the shape
clients' servers have, so it gets what a careful DBA gives a single-node
analytics box, derived from the machine it runs on (the CPUs and memory this
process may use, cgroup limits included). On the reference machine, 2 cores
and 24 GB, that is:

- ``shared_buffers = 6GB`` (a quarter of memory, the usual share; the rest
  is left to the OS page cache) and ``effective_cache_size = 18GB``
  (three quarters: what the planner may assume is cached).
- ``work_mem = 256MB`` (memory / 96). The heaviest load is dbt's two threads,
  each a query of up to three processes (the leader and two parallel
  workers) with a few sorts or hashes each: about 24 such nodes, times
  ``hash_mem_multiplier`` 2 for hashes, stays within the memory
  shared_buffers leaves. ``maintenance_work_mem = 2GB`` (memory / 12, at most
  2 GB) for index builds and vacuum after big loads.
- ``max_parallel_workers_per_gather = 2`` (half the cores, at least 2), with
  ``max_parallel_workers`` and ``max_parallel_maintenance_workers`` to match:
  one query may use both cores.
- ``random_page_cost = 1.1`` and ``effective_io_concurrency = 200``: the
  data is on SSD, where a random read costs about what a sequential one does.
- ``default_statistics_target = 500``: tenants differ in size by orders of
  magnitude, and finer statistics keep the planner's row estimates honest.
- WAL: ``wal_level = minimal`` with ``max_wal_senders = 0`` (a single node
  with no replica: tables that dbt creates and fills in one transaction skip
  the WAL and are synced at commit, nothing is lost in a crash),
  ``max_wal_size = 8GB`` and ``checkpoint_timeout = 15min`` so a bulk load
  does not checkpoint every few seconds.
- Durability is not traded for speed: ``synchronous_commit``, ``fsync`` and
  ``full_page_writes`` stay on, as on any server holding data people wrote.
- ``jit`` stays at its default (on).
- Sessions default to UTC and the C collation (set at initdb): strings sort
  by bytes, as on DuckDB, so ordered results compare row for row.
- The server listens on 127.0.0.1 only and has no Unix socket (its path
  would depend on the data folder's length and permissions).
  ``dynamic_shared_memory_type`` falls back to ``mmap`` where ``/dev/shm``
  is too small for parallel hash joins (a container's 64 MB default).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

GIB = 1024**3
MIB = 1024**2
# A /dev/shm smaller than this cannot hold a parallel hash join's segments.
MIN_SHM_BYTES = 1 * GIB
MAX_CONNECTIONS = 40


@dataclass(frozen=True)
class Machine:
    """What the server may use: CPUs and memory in bytes, and /dev/shm's size."""

    cpus: int
    memory_bytes: int
    shm_bytes: int | None = None

    @classmethod
    def detect(cls) -> Machine:
        return cls(cpus=_cpus(), memory_bytes=_memory_bytes(), shm_bytes=_shm_bytes())


def _size(bytes_: int) -> str:
    """A PostgreSQL memory setting: whole GB when it is one, else MB."""
    if bytes_ >= GIB and bytes_ % GIB == 0:
        return f"{bytes_ // GIB}GB"
    return f"{max(1, bytes_ // MIB)}MB"


def _round_mib(bytes_: float) -> int:
    return int(bytes_ // MIB) * MIB


def server_settings(machine: Machine, port: int) -> dict[str, str]:
    """Every setting forecast-hub writes into the server's configuration."""
    memory = machine.memory_bytes
    parallel = max(2, machine.cpus // 2)
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": "''",
        "max_connections": str(MAX_CONNECTIONS),
        "shared_buffers": _size(_round_mib(memory / 4)),
        "effective_cache_size": _size(_round_mib(memory * 3 / 4)),
        "work_mem": _size(_round_mib(memory / 96)),
        "maintenance_work_mem": _size(min(2 * GIB, _round_mib(memory / 12))),
        "max_worker_processes": str(max(8, machine.cpus)),
        "max_parallel_workers": str(max(parallel, machine.cpus)),
        "max_parallel_workers_per_gather": str(parallel),
        "max_parallel_maintenance_workers": str(parallel),
        "random_page_cost": "1.1",
        "effective_io_concurrency": "200",
        "default_statistics_target": "500",
        "wal_level": "minimal",
        "max_wal_senders": "0",
        "max_wal_size": _size(min(16 * GIB, _round_mib(memory / 3))),
        "min_wal_size": "1GB",
        "checkpoint_timeout": "15min",
        "checkpoint_completion_target": "0.9",
        "synchronous_commit": "on",
        "fsync": "on",
        "full_page_writes": "on",
        "timezone": "'UTC'",
        "log_timezone": "'UTC'",
    }
    if machine.shm_bytes is not None and machine.shm_bytes < MIN_SHM_BYTES:
        settings["dynamic_shared_memory_type"] = "mmap"
    return settings


def render_config(settings: dict[str, str]) -> str:
    header = (
        "# Written by `forecast-hub postgres start` at every start; edits are lost.\n"
        "# Why each value: scripts/forecast_hub/postgres/tuning.py.\n"
    )
    return header + "".join(f"{name} = {value}\n" for name, value in settings.items())


def _cpus() -> int:
    available = len(os.sched_getaffinity(0))
    quota = _read(Path("/sys/fs/cgroup/cpu.max"))
    if quota:
        limit, _, period = quota.partition(" ")
        if limit.isdigit() and period.strip().isdigit():
            available = min(available, max(1, int(limit) // int(period)))
    return available


def _memory_bytes() -> int:
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit = _read(Path("/sys/fs/cgroup/memory.max"))
    if limit and limit.isdigit():
        total = min(total, int(limit))
    return total


def _shm_bytes() -> int | None:
    try:
        stats = os.statvfs("/dev/shm")
    except OSError:
        return None
    return stats.f_frsize * stats.f_blocks


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
