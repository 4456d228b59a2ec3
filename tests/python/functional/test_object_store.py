"""Ephemeral containers: drafts and edits in object storage, on a moto S3 server.

Every server here is real and local: ``moto_server`` on 127.0.0.1, a fault
proxy in front of it (s3_support.py), the edits store in its own process
(edits_worker.py, the store as the API runs it) killed with SIGKILL at
random points, and `serve` itself for the HTTP answers. A cold start is
always on an empty data folder: the bucket alone must be enough.

An edit whose answer was still on its way when the process was killed may
or may not be there after; every other edit must be there exactly when it
was acknowledged.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_support import FaultProxy, MotoServer, s3_env

from conftest import subprocess_env
from forecast_hub.objectstore import ObjectStore
from forecast_hub.objectstore.restore import build_from_bucket

WORKER = Path(__file__).with_name("edits_worker.py")
SKUS = [f"s{k:02d}" for k in range(12)]


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3_env(server.url, "").items():
            if name.startswith("AWS_"):
                patch.setenv(name, value)
        yield server
    server.stop()


@pytest.fixture(scope="module")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    forks = Zygote(tmp_path_factory.mktemp("zygote") / "zygote.log")
    yield forks
    forks.stop()


@pytest.fixture
def bucket(moto: MotoServer) -> str:
    return f"s3://{moto.new_bucket()}/hub"


@pytest.fixture
def proxy(moto: MotoServer) -> Iterator[FaultProxy]:
    faults = FaultProxy(moto.port)
    yield faults
    faults.close()


def worker_env(folder: Path, endpoint: str, url: str, **settings: str) -> dict[str, str]:
    env = subprocess_env(folder)
    env.update(s3_env(endpoint, url, **settings))
    return env


class Zygote:
    """edits_worker.py --zygote: forks workers that start in milliseconds."""

    def __init__(self, log: Path) -> None:
        with log.open("ab") as errors:
            self.process = subprocess.Popen(
                [sys.executable, str(WORKER), "--zygote"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                env=subprocess_env(log.parent),
            )

    def fork(self, folder: Path, env: dict[str, str]) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        settings = folder / "env.json"
        settings.write_text(json.dumps(env))
        self.process.stdin.write(
            f"{settings} {folder / 'in'} {folder / 'out'} {folder / 'worker.log'}\n".encode()
        )
        self.process.stdin.flush()
        return int(self.process.stdout.readline().split()[1])

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


class Worker:
    """The edits store in its own process, fed edits on stdin; its answers collected."""

    def __init__(self, zygote: Zygote, folder: Path, env: dict[str, str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "worker.log"
        os.mkfifo(folder / "in")
        os.mkfifo(folder / "out")
        env = {k: v for k, v in env.items() if k.startswith(("AWS_", "FORECAST_HUB_"))}
        self.pid = zygote.fork(folder, env)
        self.stdin = (folder / "in").open("wb")
        self.stdout = (folder / "out").open("rb")
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.stdout:
            self.lines.append(raw.decode().strip())

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while "ready" not in self.lines:
            assert self.alive(), self.log.read_text()
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.005)

    def send(self, n: int, sku: str) -> bool:
        try:
            self.stdin.write(f"{n} {sku}\n".encode())
            self.stdin.flush()
        except (BrokenPipeError, ValueError):
            return False
        return True

    def _gone(self) -> None:
        deadline = time.monotonic() + 60
        while self.alive():
            assert time.monotonic() < deadline, "the worker did not exit"
            time.sleep(0.005)
        self._reader.join(timeout=10)
        with contextlib.suppress(BrokenPipeError):
            self.stdin.close()

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self._gone()

    def finish(self, sig: int | None = None) -> None:
        """End of input (or ``sig``): it answers what it has, persists and exits."""
        if sig is None:
            self.stdin.close()
        else:
            os.kill(self.pid, sig)
        self._gone()
        assert self.lines[-1:] == ["closed"], self.log.read_text()

    def answered(self, kind: str) -> set[int]:
        return {int(line.split()[1]) for line in list(self.lines) if line.startswith(kind + " ")}


def cold_start(url: str, folder: Path) -> tuple[dict[int, int], dict[str, float]]:
    """The bucket restored into an empty folder: each logged quantity's version, and each
    SKU's current quantity."""
    built = build_from_bucket(ObjectStore(url), folder / "edits.sqlite")
    with sqlite3.connect(built.path) as conn:
        logged = dict(conn.execute("select new_qty, version from manual_edit_log_ht"))
        current = dict(conn.execute("select sku_id, manual_qty from manual_edits_ht"))
    return {int(qty): version for qty, version in logged.items()}, current


def assert_consistent(logged: dict[int, int], current: dict[str, float], sent: dict[int, str]):
    """Each SKU's current quantity is its newest logged edit, and versions count up."""
    newest: dict[str, tuple[int, int]] = {}
    for qty, version in logged.items():
        sku = sent[qty]
        if sku not in newest or version > newest[sku][0]:
            newest[sku] = (version, qty)
    assert {sku: float(qty) for sku, (_, qty) in newest.items()} == current
    for sku in newest:
        versions = sorted(v for qty, v in logged.items() if sent[qty] == sku)
        assert versions == list(range(1, len(versions) + 1))


def load(worker: Worker, sent: dict[int, str], start: int, seconds: float, rng: random.Random):
    """Edits in small bursts for ``seconds``; numbers from ``start``; returns the next."""
    n = start
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _ in range(rng.randint(1, 6)):
            sku = rng.choice(SKUS)
            if not worker.send(n, sku):
                return n
            sent[n] = sku
            n += 1
        time.sleep(rng.uniform(0.001, 0.01))
    return n


def load_until_acknowledged(
    worker: Worker, sent: dict[int, str], start: int, rng: random.Random, within_s: float = 10.0
) -> int:
    """``load`` on, in short spells, until the worker has acknowledged an edit: on a
    busy machine the first answer may take longer than the trial's spell."""
    n = start
    deadline = time.monotonic() + within_s
    while not worker.answered("ok") and time.monotonic() < deadline:
        n = load(worker, sent, n, 0.05, rng)
    return n


# One upload at a time (the default), and four at once: the next batches applied and
# uploaded while the first uploads.
IN_FLIGHT = pytest.mark.parametrize("in_flight", ["1", "4"])


@IN_FLIGHT
def test_sync_no_acknowledged_edit_is_lost_over_50_kill_9_points(
    tmp_path: Path, bucket: str, proxy: FaultProxy, zygote: Zygote, in_flight: str
) -> None:
    rng = random.Random(50)
    sent: dict[int, str] = {}
    acknowledged: set[int] = set()
    refused: set[int] = set()
    killed_while_writing = 0
    n = 0
    for trial in range(50):
        # Every trial starts on an empty folder, restored from the bucket alone.
        folder = tmp_path / f"trial-{trial}"
        env = worker_env(folder, proxy.url, bucket, FORECAST_HUB_SYNC_UPLOADS_IN_FLIGHT=in_flight)
        worker = Worker(zygote, folder, env)
        worker.ready()
        if trial % 6 == 5:  # the store goes down for a moment: those edits are refused
            n = load(worker, sent, n, rng.uniform(0.02, 0.1), rng)
            proxy.set("down")
            n = load(worker, sent, n, 0.1, rng)
            proxy.set("up")
        elif trial % 6 == 2:  # answers lost on the way back: the writes land regardless
            n = load(worker, sent, n, rng.uniform(0.02, 0.1), rng)
            proxy.set("lose_answers")
            n = load(worker, sent, n, 0.05, rng)
            proxy.set("up")
        n = load(worker, sent, n, rng.uniform(0.05, 0.3), rng)
        n = load_until_acknowledged(worker, sent, n, rng)
        worker.kill()
        acknowledged |= worker.answered("ok")
        refused |= worker.answered("refused") | worker.answered("fenced")
        killed_while_writing += bool(worker.answered("ok"))
    logged, current = cold_start(bucket, tmp_path / "cold")
    # A kill point counts when its trial had acknowledged edits; each trial loads
    # until it has one (load_until_acknowledged), unless the store stays down.
    assert killed_while_writing >= 40, f"{killed_while_writing} of 50 trials acknowledged an edit"
    assert refused
    assert acknowledged <= logged.keys()
    assert not (refused & logged.keys())
    assert_consistent(logged, current, sent)


@IN_FLIGHT
def test_two_instances_on_one_prefix_exactly_one_keeps_writing(
    tmp_path: Path, moto: MotoServer, zygote: Zygote, in_flight: str
) -> None:
    rng = random.Random(20)
    for trial in range(20):
        url = f"s3://{moto.new_bucket()}/hub"
        workers = [
            Worker(
                zygote,
                tmp_path / f"{trial}{side}",
                worker_env(
                    tmp_path / f"{trial}{side}",
                    moto.url,
                    url,
                    FORECAST_HUB_SYNC_UPLOADS_IN_FLIGHT=in_flight,
                ),
            )
            for side in "ab"
        ]
        for worker in workers:
            worker.ready()
        sent: dict[int, str] = {}
        n = 0
        for _ in range(8):  # both take writes, interleaved
            for worker in workers:
                n = load(worker, sent, n, rng.uniform(0.005, 0.03), rng)
        for worker in workers:
            worker.finish()
        writing = [w for w in workers if not w.answered("fenced")]
        assert len(writing) == 1, [w.lines[-3:] for w in workers]
        fenced = next(w for w in workers if w is not writing[0])
        last_ok = max(fenced.answered("ok"), default=-1)
        assert all(n > last_ok for n in fenced.answered("fenced"))  # never writes again
        acknowledged = workers[0].answered("ok") | workers[1].answered("ok")
        logged, current = cold_start(url, tmp_path / f"cold-{trial}")
        assert acknowledged == logged.keys()
        assert_consistent(logged, current, sent)


def test_async_loses_at_most_n_writes_on_kill_9_and_none_after_t_seconds(
    tmp_path: Path, bucket: str, moto: MotoServer, zygote: Zygote
) -> None:
    rng = random.Random(7)
    env = worker_env(
        tmp_path / "a",
        moto.url,
        bucket,
        FORECAST_HUB_EDITS_DURABILITY="async",
        FORECAST_HUB_PERSIST_EVERY_WRITES="5",
        FORECAST_HUB_PERSIST_EVERY_SECONDS="0.5",
    )
    sent: dict[int, str] = {}
    acknowledged: set[int] = set()
    n = 0
    for trial in range(6):
        folder = tmp_path / f"a-{trial}"
        worker = Worker(zygote, folder, {**env, "FORECAST_HUB_DATA_DIR": str(folder)})
        worker.ready()
        before = set(cold_start(bucket, tmp_path / f"before-{trial}")[0])
        for _ in range(rng.randint(3, 30)):  # one at a time: each answered before the next
            sent[n] = rng.choice(SKUS)
            worker.send(n, sent[n])
            deadline = time.monotonic() + 10
            while n not in worker.answered("ok"):
                assert time.monotonic() < deadline
                time.sleep(0.001)
            n += 1
        if trial % 2:
            time.sleep(1.0)  # past T: all persisted
        worker.kill()
        mine = worker.answered("ok")
        acknowledged |= mine
        logged = set(cold_start(bucket, tmp_path / f"after-{trial}")[0])
        lost = (mine | before) - logged
        assert len(lost) <= (0 if trial % 2 else 5), (trial, sorted(lost))
        acknowledged -= lost
    # SIGTERM loses nothing, whatever N and T are.
    folder = tmp_path / "term"
    worker = Worker(
        zygote,
        folder,
        {
            **env,
            "FORECAST_HUB_DATA_DIR": str(folder),
            "FORECAST_HUB_PERSIST_EVERY_WRITES": "100000",
            "FORECAST_HUB_PERSIST_EVERY_SECONDS": "100000",
        },
    )
    worker.ready()
    n = load(worker, sent, n, 0.3, rng)
    time.sleep(0.3)
    worker.finish(signal.SIGTERM)
    acknowledged |= worker.answered("ok")
    logged, current = cold_start(bucket, tmp_path / "cold")
    assert acknowledged <= logged.keys()
    assert_consistent(logged, current, sent)
