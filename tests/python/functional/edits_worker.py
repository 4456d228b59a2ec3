"""A process that runs the edits store as the server does and reports every answer.

Started by the object-store tests with the settings in its environment. It
prints ``ready`` once the store is open (restored from the bucket), then
reads ``<n> <sku>`` lines from stdin and submits each as an edit of quantity
``n`` (so every edit is told apart by its quantity), concurrently, and
prints ``ok <n>``, ``refused <n>`` or ``fenced <n>`` as each is answered.
End of input or SIGTERM: it waits for the answers, closes the store (which
persists) and exits. Tests kill it with SIGKILL at random points.

Started with ``--zygote`` it imports everything once and then forks one
worker per line ``<env.json> <stdin fifo> <stdout fifo> <stderr file>`` it
reads, printing each one's pid: a trial then costs a fork, not an
interpreter start. Each forked worker is a process of its own, killed and
restarted like any other.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import sys
from pathlib import Path

from forecast_hub.api.edits import EditRequest, EditsStore, Fenced, PutEdits, StorageUnavailable
from forecast_hub.hybrid.store import edits_store_path
from forecast_hub.objectstore.operations import edits_persistence
from forecast_hub.settings import Settings

DAY = dt.date(2025, 3, 3)
TENANT = "t"


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def submit(store: EditsStore, n: int, sku: str) -> None:
    try:
        await store.submit(PutEdits(TENANT, "w", (EditRequest(sku, DAY, float(n)),)))
    except Fenced:
        say(f"fenced {n}")
    except StorageUnavailable:
        say(f"refused {n}")
    else:
        say(f"ok {n}")


async def main() -> None:
    logging.basicConfig(level="INFO", format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("botocore").setLevel("WARNING")
    settings = Settings.from_env()
    path = edits_store_path(settings)
    persistence = edits_persistence(
        settings.object_store,
        settings.durability,
        path,
        settings.persist_every_writes,
        settings.persist_every_seconds,
        settings.sync_uploads_in_flight,
    )
    store = EditsStore(path, persistence=persistence)
    store.open()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    reading = asyncio.ensure_future(reader.readline())
    loop.add_signal_handler(signal.SIGTERM, reading.cancel)
    say("ready")
    tasks: set[asyncio.Task[None]] = set()
    try:
        while True:
            line = await reading
            if not line:
                break
            n, sku = line.decode().split()
            task = asyncio.create_task(submit(store, int(n), sku))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            reading = asyncio.ensure_future(reader.readline())
            loop.add_signal_handler(signal.SIGTERM, reading.cancel)
    except asyncio.CancelledError:
        pass
    await asyncio.gather(*tasks)
    await asyncio.to_thread(store.close)
    say("closed")


def zygote() -> None:
    """Fork a worker per request line; the kernel reaps them (SIGCHLD ignored)."""
    import json
    import os

    from forecast_hub.objectstore.client import ObjectStore

    ObjectStore("s3://warm-up/boto3")  # boto3's models loaded once, before any fork
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    for line in sys.stdin:
        env_file, fifo_in, fifo_out, errors = line.split()
        pid = os.fork()
        if pid:
            say(f"pid {pid}")
            continue
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.update(json.loads(Path(env_file).read_text()))
        error_fd = os.open(errors, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(error_fd, 2)
        os.dup2(os.open(fifo_in, os.O_RDONLY), 0)
        os.dup2(os.open(fifo_out, os.O_WRONLY), 1)
        # The streams of the fork's own descriptors, kept open for its whole life.
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        asyncio.run(main())
        os._exit(0)


if __name__ == "__main__":
    zygote() if "--zygote" in sys.argv else asyncio.run(main())
