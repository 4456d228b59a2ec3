"""The local PostgreSQL server: port choice, tuning, the printed variables, start and stop."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from forecast_hub.errors import UserError
from forecast_hub.postgres import PostgresSettings
from forecast_hub.postgres.server import choose_port, server_root, start_server, stop_server
from forecast_hub.postgres.settings import DATABASE_ENV, HOST_ENV, PORT_ENV
from forecast_hub.postgres.tuning import GIB, MIB, Machine, render_config, server_settings

REFERENCE_MACHINE = Machine(cpus=2, memory_bytes=24 * GIB, shm_bytes=24 * GIB)


def test_a_free_port_is_one_the_caller_can_listen_on() -> None:
    port = choose_port()
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
    assert 1024 <= port <= 65535


def test_a_requested_port_is_kept_when_free_and_refused_when_in_use() -> None:
    free = choose_port()
    assert choose_port(free) == free
    with contextlib.closing(socket.socket()) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with pytest.raises(UserError, match=f"port {taken} on 127.0.0.1 is in use"):
            choose_port(taken)


def test_the_reference_machine_gets_a_fair_analytics_tuning() -> None:
    settings = server_settings(REFERENCE_MACHINE, port=5433)
    assert {name: settings[name] for name in (
        "shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem",
        "max_parallel_workers_per_gather", "max_parallel_workers", "synchronous_commit",
        "fsync", "full_page_writes", "wal_level", "max_wal_size", "random_page_cost",
        "listen_addresses", "port", "timezone",
    )} == {
        "shared_buffers": "6GB", "effective_cache_size": "18GB", "work_mem": "256MB",
        "maintenance_work_mem": "2GB", "max_parallel_workers_per_gather": "2",
        "max_parallel_workers": "2", "synchronous_commit": "on", "fsync": "on",
        "full_page_writes": "on", "wal_level": "minimal", "max_wal_size": "8GB",
        "random_page_cost": "1.1", "listen_addresses": "'127.0.0.1'", "port": "5433",
        "timezone": "'UTC'",
    }  # fmt: skip
    assert "dynamic_shared_memory_type" not in settings
    assert "shared_buffers = 6GB\n" in render_config(settings)


def test_tuning_follows_the_machine() -> None:
    small = server_settings(Machine(cpus=8, memory_bytes=3 * GIB, shm_bytes=64 * MIB), 5433)
    assert small["shared_buffers"] == "768MB"
    assert small["work_mem"] == "32MB"
    assert small["max_parallel_workers_per_gather"] == "4"
    assert small["max_parallel_workers"] == "8"
    # A container's small /dev/shm cannot hold parallel hash joins' segments.
    assert small["dynamic_shared_memory_type"] == "mmap"


def test_the_printed_lines_are_the_profiles_variables_and_the_store_url() -> None:
    connection = PostgresSettings(port=54321, password="s3cret-_x")
    assert connection.env_lines() == [
        "FORECAST_HUB_POSTGRES_HOST=127.0.0.1",
        "FORECAST_HUB_POSTGRES_PORT=54321",
        "FORECAST_HUB_POSTGRES_USER=forecast_hub",
        "FORECAST_HUB_POSTGRES_PASSWORD=s3cret-_x",
        "FORECAST_HUB_POSTGRES_DATABASE=forecast_hub",
        "FORECAST_HUB_EDITS_STORE=postgresql://forecast_hub:s3cret-_x@127.0.0.1:54321/forecast_hub",
    ]
    assert (
        connection.url(with_password=False)
        == "postgresql://forecast_hub@127.0.0.1:54321/forecast_hub"
    )
    odd = PostgresSettings(user="a@b", password="p:w/d", database="my db")
    assert odd.url() == "postgresql://a%40b:p%3Aw%2Fd@127.0.0.1:5432/my%20db"  # fmt: skip


def test_settings_come_from_the_environment_over_the_defaults(tmp_path: Path) -> None:
    env = {"FORECAST_HUB_DATA_DIR": str(tmp_path)}
    assert PostgresSettings.from_env(env) == PostgresSettings()
    chosen = PostgresSettings.from_env({**env, HOST_ENV: "db.example", PORT_ENV: "6543",
                                        DATABASE_ENV: "plans"})  # fmt: skip
    assert (chosen.host, chosen.port, chosen.database) == ("db.example", 6543, "plans")
    with pytest.raises(UserError, match="FORECAST_HUB_POSTGRES_PORT must be a port number"):
        PostgresSettings.from_env({**env, PORT_ENV: "54x"})


def _forecast_hub(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forecast_hub", *args],
        env={**os.environ, "FORECAST_HUB_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_start_prints_what_connects_is_idempotent_and_stop_keeps_the_data(
    reachable_home: Path,
) -> None:
    data_dir = reachable_home
    try:
        started = _forecast_hub(data_dir, "postgres", "start")
        assert started.returncode == 0, started.stderr
        lines = started.stdout.splitlines()
        values = dict(line.split("=", 1) for line in lines)
        assert [line.split("=", 1)[0] for line in lines] == [
            "FORECAST_HUB_POSTGRES_HOST", "FORECAST_HUB_POSTGRES_PORT",
            "FORECAST_HUB_POSTGRES_USER", "FORECAST_HUB_POSTGRES_PASSWORD",
            "FORECAST_HUB_POSTGRES_DATABASE", "FORECAST_HUB_EDITS_STORE",
        ]  # fmt: skip
        assert "started on 127.0.0.1" in started.stderr
        port = int(values["FORECAST_HUB_POSTGRES_PORT"])
        tuned = server_settings(Machine.detect(), port)
        with psycopg.connect(values["FORECAST_HUB_EDITS_STORE"], autocommit=True) as conn:
            for name in ("shared_buffers", "work_mem", "max_parallel_workers_per_gather",
                         "synchronous_commit", "wal_level", "port"):  # fmt: skip
                (shown,) = conn.execute(f"show {name}").fetchone() or ("",)
                assert shown == tuned[name], name
            conn.execute("create table kept (note text)")
            conn.execute("insert into kept values ('survives a restart')")
        assert PostgresSettings.from_env({"FORECAST_HUB_DATA_DIR": str(data_dir)}).port == port

        again = _forecast_hub(data_dir, "postgres", "start")
        assert again.returncode == 0, again.stderr
        assert again.stdout == started.stdout
        assert "was already running" in again.stderr

        stopped = _forecast_hub(data_dir, "postgres", "stop")
        assert stopped.stdout.strip() == f"stopped the PostgreSQL server on port {port}"
        assert _forecast_hub(data_dir, "postgres", "stop").stdout.strip() == (
            "no PostgreSQL server was running"
        )
        state, was_running = start_server(server_root(data_dir))
        assert not was_running
        with psycopg.connect(**state.connection.connect_parameters()) as conn:
            assert conn.execute("select note from kept").fetchall() == [("survives a restart",)]
    finally:
        stop_server(server_root(data_dir))


def test_a_requested_port_in_use_fails_before_anything_is_set_up(tmp_path: Path) -> None:
    with contextlib.closing(socket.socket()) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        result = _forecast_hub(tmp_path, "postgres", "start", "--port", str(taken))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: port {taken} on 127.0.0.1 is in use (Address already in use): choose another"
        " --port, or leave it out for a free one"
    )
    assert not (tmp_path / "postgres").exists()
