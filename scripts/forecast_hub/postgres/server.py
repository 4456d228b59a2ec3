"""A local PostgreSQL 15 server under the data folder, on 127.0.0.1 and a free port.

``start_server`` initialises a cluster (initdb) in ``<root>/cluster`` on first
use, writes the tuned configuration (``tuning.py``) and starts it with
``pg_ctl``; ``stop_server`` stops it. Whether it runs is read from the
cluster's own ``postmaster.pid`` (its pid, port and state), so nothing else
has to be kept in step with the server. The superuser ``forecast_hub`` has a
random password, kept in ``<root>/password`` (mode 0600), and connects over
TCP with SCRAM authentication.

PostgreSQL refuses to run as root. Run as root, the server runs as the OS
user ``postgres`` (the Debian package's; created with useradd if missing),
through ``runuser``; ``<root>`` is then owned by it, and every folder above
it must let it through. When PostgreSQL 15 is missing, root installs the
Debian package postgresql-15 with apt-get.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql

from forecast_hub.apt import one_installer
from forecast_hub.errors import UserError
from forecast_hub.postgres.connection import connect
from forecast_hub.postgres.settings import (
    DEFAULT_DATABASE,
    DEFAULT_HOST,
    DEFAULT_USER,
    PostgresSettings,
)
from forecast_hub.postgres.tuning import Machine, render_config, server_settings

PACKAGE = "postgresql-15"
BIN_DIR = Path("/usr/lib/postgresql/15/bin")
SERVER_OS_USER = "postgres"
CONFIG_FILE = "forecast_hub.conf"
START_TIMEOUT_S = 60
# Another process may take a free port between its choice and the server's bind.
PORT_ATTEMPTS = 3


@dataclass(frozen=True)
class ServerState:
    """A running server: the postmaster's pid, its port and the superuser's password."""

    pid: int
    port: int
    password: str | None

    @property
    def connection(self) -> PostgresSettings:
        return PostgresSettings(
            host=DEFAULT_HOST,
            port=self.port,
            user=DEFAULT_USER,
            password=self.password,
            database=DEFAULT_DATABASE,
        )


def server_root(data_dir: Path) -> Path:
    """Where `forecast-hub postgres start` keeps the data folder's server."""
    return data_dir / "postgres"


def _cluster_dir(root: Path) -> Path:
    return root / "cluster"


def _password_path(root: Path) -> Path:
    return root / "password"


def choose_port(requested: int | None = None, host: str = DEFAULT_HOST) -> int:
    """The requested port if nothing listens on it, else any port the OS finds free."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        try:
            sock.bind((host, requested or 0))
        except OSError as error:
            raise UserError(
                f"port {requested} on {host} is in use ({error.strerror}): choose another"
                " --port, or leave it out for a free one"
            ) from error
        return int(sock.getsockname()[1])


def read_state(root: Path) -> ServerState | None:
    """The server running on ``root``'s cluster, if any, from its postmaster.pid."""
    try:
        lines = (_cluster_dir(root) / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    ready = len(lines) > 7 and lines[7].strip() == "ready"
    if not ready or not _is_postgres(pid):
        return None
    password_path = _password_path(root)
    password = password_path.read_text().strip() if password_path.exists() else None
    return ServerState(pid=pid, port=port, password=password)


def _is_postgres(pid: int) -> bool:
    """A live process named postgres (a pid left by a crash may be reused by another)."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == "postgres"
    except OSError:
        return False


def ensure_installed() -> Path:
    """The folder of PostgreSQL 15's programs; installs the Debian package if root may."""
    if (BIN_DIR / "postgres").exists():
        return BIN_DIR
    if os.geteuid() != 0:
        raise UserError(
            f"PostgreSQL 15 is not installed ({BIN_DIR} is missing): install the Debian"
            f" package {PACKAGE} (sudo apt-get install {PACKAGE}) and run this again"
        )
    if shutil.which("apt-get") is None:
        raise UserError(
            f"PostgreSQL 15 is not installed and there is no apt-get here: install it"
            f" so that {BIN_DIR} holds its programs"
        )
    with one_installer():
        if not (BIN_DIR / "postgres").exists():
            _apt_install()
    if not (BIN_DIR / "postgres").exists():
        raise UserError(f"{PACKAGE} is installed but {BIN_DIR} has no postgres program")
    return BIN_DIR


def _apt_install() -> None:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(f"installing {PACKAGE} with apt-get", file=sys.stderr)
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", PACKAGE],
    ):
        # Its output goes to stderr: stdout carries only the variables to export.
        done = subprocess.run(command, env=env, stdout=sys.stderr, check=False)
        if done.returncode != 0:
            raise UserError(
                f"`{' '.join(command)}` failed ({done.returncode}); see its output above"
            )


def _server_os_user() -> str | None:
    """Who runs the server: ourselves, or (as root, which PostgreSQL refuses) postgres."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SERVER_OS_USER],
            check=True, capture_output=True,
        )  # fmt: skip
    return SERVER_OS_USER


def _owner(path: Path) -> str | None:
    """The OS user to run a cluster's programs as: its owner, when we are root."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwuid(path.stat().st_uid).pw_name


def _run(
    command: list[str], os_user: str | None, root: Path, timeout: float = START_TIMEOUT_S + 30
) -> subprocess.CompletedProcess[str]:
    """One PostgreSQL program, as ``os_user`` if given, from ``root`` (a folder it may read)."""
    prefix = ["runuser", "-u", os_user, "--"] if os_user else []
    return subprocess.run(
        [*prefix, *command],
        cwd=root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def _prepare_root(root: Path, os_user: str | None) -> None:
    root.mkdir(parents=True, exist_ok=True)
    if os_user is None:
        return
    shutil.chown(root, user=os_user, group=pwd.getpwnam(os_user).pw_gid)
    if _run(["test", "-w", str(root)], os_user, Path("/")).returncode != 0:
        raise UserError(
            f"the PostgreSQL server runs as the OS user {os_user}, which cannot reach"
            f" {root}: let it through the folders above (chmod o+x) or set"
            " FORECAST_HUB_DATA_DIR to a folder it can reach"
        )


def _password(root: Path) -> str:
    path = _password_path(root)
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(24)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(password + "\n")
    return password


def _initdb(bin_dir: Path, root: Path, os_user: str | None, password: str) -> None:
    """Create the cluster once: UTF-8, C collation, SCRAM passwords, our config included."""
    cluster = _cluster_dir(root)
    if (cluster / "PG_VERSION").exists():
        return
    password_file = root / "initdb-password"
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    if os_user:
        shutil.chown(password_file, user=os_user)
    try:
        done = _run(
            [str(bin_dir / "initdb"), "--pgdata", str(cluster), "--username", DEFAULT_USER,
             "--pwfile", str(password_file), "--auth-host", "scram-sha-256",
             "--auth-local", "scram-sha-256", "--encoding", "UTF8", "--locale", "C",
             "--no-instructions"],
            os_user, root,
        )  # fmt: skip
    finally:
        password_file.unlink(missing_ok=True)
    if done.returncode != 0:
        shutil.rmtree(cluster, ignore_errors=True)
        raise UserError(f"initdb failed ({done.returncode}): {_last_line(done.stderr)}")
    with (cluster / "postgresql.conf").open("a") as conf:
        conf.write(f"\ninclude_if_exists = '{CONFIG_FILE}'\n")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _pg_ctl_start(bin_dir: Path, root: Path, os_user: str | None, port: int) -> str | None:
    """Start on ``port``; None when it serves, else what the server logged meanwhile."""
    cluster = _cluster_dir(root)
    config = cluster / CONFIG_FILE
    config.write_text(render_config(server_settings(Machine.detect(), port)))
    if os_user:
        shutil.chown(config, user=os_user)
    log_path = root / "server.log"
    logged = log_path.stat().st_size if log_path.exists() else 0
    done = _run(
        [str(bin_dir / "pg_ctl"), "start", "--pgdata", str(cluster), "--log", str(log_path),
         "--wait", "--timeout", str(START_TIMEOUT_S), "--silent"],
        os_user, root,
    )  # fmt: skip
    if done.returncode == 0:
        return None
    with log_path.open(errors="replace") as log:
        log.seek(logged)
        return log.read().strip() or done.stderr


def start_server(root: Path, port: int | None = None) -> tuple[ServerState, bool]:
    """Start ``root``'s server, or find it running; (state, whether it was running)."""
    running = read_state(root)
    if running is not None:
        if port is not None and port != running.port:
            raise UserError(
                f"the PostgreSQL server of {root} already runs on port {running.port};"
                " stop it first to move it to another port"
            )
        _ensure_database(running.connection)
        return running, True
    if port is not None:
        choose_port(port)  # a port in use fails here, before any setup
    bin_dir = ensure_installed()
    os_user = _server_os_user()
    _prepare_root(root, os_user)
    password = _password(root)
    _initdb(bin_dir, root, os_user, password)
    for _attempt in range(PORT_ATTEMPTS):
        failure = _pg_ctl_start(bin_dir, root, os_user, choose_port(port))
        if failure is None or port is not None or "could not bind" not in failure:
            break
    if failure is not None:
        raise UserError(
            f"PostgreSQL did not start: {_last_line(failure)} (log: {root / 'server.log'})"
        )
    state = read_state(root)
    if state is None:
        raise UserError(f"PostgreSQL started but is not ready; see {root / 'server.log'}")
    _ensure_database(state.connection)
    return state, False


def _ensure_database(connection: PostgresSettings) -> None:
    maintenance = PostgresSettings(
        host=connection.host,
        port=connection.port,
        user=connection.user,
        password=connection.password,
        database="postgres",
    )
    with connect(maintenance) as conn:
        found = conn.execute(
            "select 1 from pg_database where datname = %s", [connection.database]
        ).fetchone()
        if found is None:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(connection.database)))


def stop_server(root: Path) -> ServerState | None:
    """Stop ``root``'s server (fast shutdown: sessions end, commits are kept); None if none ran."""
    state = read_state(root)
    if state is None:
        return None
    cluster = _cluster_dir(root)
    done = _run(
        [str(BIN_DIR / "pg_ctl"), "stop", "--pgdata", str(cluster), "--mode", "fast",
         "--wait", "--timeout", str(START_TIMEOUT_S), "--silent"],
        _owner(cluster), root,
    )  # fmt: skip
    if done.returncode != 0:
        raise UserError(f"pg_ctl stop failed ({done.returncode}): {_last_line(done.stderr)}")
    return state


@contextlib.contextmanager
def running_postgres(root: Path) -> Iterator[ServerState]:
    """A server for the duration of a block (tests, benchmarks), stopped whatever happens."""
    state, _ = start_server(root)
    try:
        yield state
    finally:
        stop_server(root)
