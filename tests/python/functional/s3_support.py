"""An S3 server for tests (moto's, on 127.0.0.1) and a proxy in front of it that breaks.

``MotoServer`` runs ``moto_server`` in its own process; ``FaultProxy`` is a
TCP proxy on another port whose mode a test switches: ``up`` (pass
everything), ``down`` (refuse connections, drop open ones), ``slow`` (hold
each answer for ``delay`` seconds: past the client's timeout, while the
server has done the work) and ``lose_answers`` (forward each request, drop
its answer: the write lands, the writer never hears so).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import boto3

MOTO_SERVER = Path(sys.executable).with_name("moto_server")
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MotoServer:
    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(MOTO_SERVER), "-p", str(self.port), "-H", "127.0.0.1"],
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("moto_server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def client(self):  # boto3's client is untyped
        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1", **_keys())

    def new_bucket(self) -> str:
        bucket = f"t-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket


def _keys() -> dict[str, str]:
    return {
        "aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }


def s3_env(endpoint: str, object_store: str, **extra: str) -> dict[str, str]:
    """The variables a process needs to use ``object_store`` at ``endpoint``."""
    return {
        **CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "FORECAST_HUB_OBJECT_STORE": object_store,
        **extra,
    }


class FaultProxy:
    """A TCP proxy from its own port to ``target_port`` whose behaviour can be switched."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.mode = "up"
        self.delay = 0.0
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def set(self, mode: str, delay: float = 0.0) -> None:
        self.mode, self.delay = mode, delay
        if mode == "down":
            with self._lock:
                for sock in list(self._open):
                    _close(sock)
                self._open.clear()

    def close(self) -> None:
        self._stopped = True
        _close(self._listener)
        self.set("down")

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "down":
                _close(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while not self._stopped:
                ready, _, _ = select.select([client, upstream], [], [], 0.5)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        upstream.sendall(data)
                        continue
                    if self.mode == "lose_answers":
                        return
                    if self.mode == "slow":
                        time.sleep(self.delay)
                    if self.mode == "down":
                        return
                    client.sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                self._open.discard(client)
                self._open.discard(upstream)
            _close(client)
            _close(upstream)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def env_with(base: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    merged = dict(base)
    merged.update(extra)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        merged.pop(name, None)
    merged.setdefault("HOME", os.environ.get("HOME", "/tmp"))
    return merged
