"""The Snowflake emulator (fakesnow's server) on 127.0.0.1, on a free port.

The emulator speaks Snowflake's HTTP protocol, so the Snowflake connector,
Snowpark and dbt-snowflake run against it unchanged; it keeps its databases
in memory, so everything a build needs must reach the same running server.
``running_emulator`` serves one test or script and always stops it;
``start_emulator``/``stop_emulator`` back ``forecast-hub emulator start|stop``
for a server that outlives one command, found again through a state file
under the data folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from forecast_hub.errors import UserError
from forecast_hub.settings import Settings
from forecast_hub.snowflake.settings import EMULATOR_HOST

STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class EmulatorState:
    """A running emulator: its process, its port and its scratch folder (stage files)."""

    pid: int
    port: int
    scratch_dir: str

    @property
    def url(self) -> str:
        return f"http://{EMULATOR_HOST}:{self.port}"


def emulator_dir(data_dir: Path) -> Path:
    return data_dir / "emulator"


def _state_path(data_dir: Path) -> Path:
    return emulator_dir(data_dir) / "server.json"


def free_port(host: str = EMULATOR_HOST) -> int:
    """A port nothing listens on now; the OS picks it, so parallel runs do not collide."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _accepts_connections(port: int) -> bool:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((EMULATOR_HOST, port)) == 0


def _spawn(port: int, scratch_dir: Path, log_path: Path, detach: bool) -> subprocess.Popen[bytes]:
    """Start the server; TMPDIR points its stage files into a folder we remove on stop."""
    scratch_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TMPDIR=str(scratch_dir))
    command = [sys.executable, "-m", "fakesnow", "-s", "--host", EMULATOR_HOST, "-p", str(port)]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=detach,
        )


def _wait_until_serving(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UserError(
                f"the Snowflake emulator exited at start ({process.returncode}); see {log_path}"
            )
        if _accepts_connections(port):
            return
        time.sleep(0.1)
    _terminate(process.pid)
    raise UserError(
        f"the Snowflake emulator did not start in {STARTUP_TIMEOUT_S:.0f}s; see {log_path}"
    )


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    # A zombie (exited, not yet reaped by its parent) no longer serves.
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def _terminate(pid: int) -> None:
    """SIGINT first (the server's own clean shutdown), SIGKILL if it hangs."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not _is_alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def running_emulator(work_dir: Path) -> Iterator[EmulatorState]:
    """An emulator for the duration of a block, stopped and cleaned up whatever happens."""
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    scratch_dir = work_dir / f"scratch-{port}"
    log_path = work_dir / "emulator.log"
    process = _spawn(port, scratch_dir, log_path, detach=False)
    try:
        _wait_until_serving(process, port, log_path)
        yield EmulatorState(pid=process.pid, port=port, scratch_dir=str(scratch_dir))
    finally:
        _terminate(process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT_S)
        shutil.rmtree(scratch_dir, ignore_errors=True)


def read_state(data_dir: Path) -> EmulatorState | None:
    """The emulator `forecast-hub emulator start` left running for this data folder, if any."""
    path = _state_path(data_dir)
    if not path.exists():
        return None
    state = EmulatorState(**json.loads(path.read_text()))
    if not _is_alive(state.pid):
        path.unlink(missing_ok=True)
        return None
    return state


def start_emulator(settings: Settings) -> EmulatorState:
    """Start a detached emulator for the data folder, or return the one already running."""
    running = read_state(settings.data_dir)
    if running is not None:
        return running
    directory = emulator_dir(settings.data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    scratch_dir = directory / "scratch"
    log_path = directory / "emulator.log"
    process = _spawn(port, scratch_dir, log_path, detach=True)
    _wait_until_serving(process, port, log_path)
    state = EmulatorState(pid=process.pid, port=port, scratch_dir=str(scratch_dir))
    _state_path(settings.data_dir).write_text(json.dumps(asdict(state)))
    return state


def stop_emulator(settings: Settings) -> EmulatorState | None:
    """Stop the data folder's emulator; None when none was running."""
    state = read_state(settings.data_dir)
    if state is None:
        return None
    _terminate(state.pid)
    _state_path(settings.data_dir).unlink(missing_ok=True)
    shutil.rmtree(state.scratch_dir, ignore_errors=True)
    return state
