"""Group commit for the stores across the network: one writer task per process.

Requests queue their change and wait. The writer takes every change waiting
(up to ``MAX_BATCH_EDITS`` edits), hands them to the store's ``commit``,
which plans them in memory (``api/edit_plan.py``) and writes them in one
transaction, and answers each request with its own result once the
transaction has committed. One durable commit then acknowledges many edits.
At most ``concurrency`` batches are in flight; while they commit, the next
changes gather into the next batch. Batches in flight together, and those
of other processes, are kept apart by the store's row locks and
version-guarded writes.

A request not yet taken by the writer when its deadline passes gets a
``StorageUnavailable`` and is dropped: nothing of it is applied. One the
writer has taken waits for its transaction, which the store bounds with its
own timeouts.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from forecast_hub.api.edit_jobs import MAX_BATCH_EDITS, Job, Result, job_weight
from forecast_hub.api.edit_plan import BatchPlan
from forecast_hub.api.edits import StorageUnavailable

_BEFORE_ANY_BATCH = dt.datetime.min.replace(tzinfo=dt.UTC)
log = logging.getLogger("forecast_hub.api")

Commit = Callable[[Sequence[Job], dt.datetime], Awaitable[BatchPlan]]
"""Plan and write one batch at the given time; raise StorageUnavailable if it cannot."""


@dataclass(eq=False)
class _Pending:
    job: Job
    future: asyncio.Future[Result]
    taken: bool = False
    dropped: bool = False


@dataclass
class GroupCommitWriter:
    """The queue and the writer task of one store."""

    commit: Commit
    request_timeout_s: float
    on_commit: Callable[[BatchPlan, dt.datetime], None]
    concurrency: int = 1
    pending: int = 0
    failure: BaseException | None = None
    _queue: collections.deque[_Pending] = field(default_factory=collections.deque)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _stopping: bool = False
    _last_time: dt.datetime = _BEFORE_ANY_BATCH

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="edits-writer")

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done() and not self._stopping

    async def stop(self) -> None:
        """Commit what is queued, then end the task."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def submit(self, job: Job) -> Result:
        if not self.alive:
            raise StorageUnavailable("the edits store's writer is not running")
        loop = asyncio.get_running_loop()
        item = _Pending(job, loop.create_future())
        self._queue.append(item)
        self._wake.set()
        self.pending += 1
        # One timer per request (cheaper than wait_for and shield on the hot path).
        deadline = loop.call_later(self.request_timeout_s, self._expire, item)
        try:
            return await item.future
        finally:
            deadline.cancel()
            self.pending -= 1

    def _expire(self, item: _Pending) -> None:
        """The deadline of a request: dropped if the writer has not taken it yet."""
        if item.taken or item.future.done():
            return
        item.dropped = True
        item.future.set_exception(
            StorageUnavailable(
                f"the edits store did not take the change within {self.request_timeout_s:g}s;"
                " nothing of it was applied"
            )
        )

    def _take(self) -> list[_Pending]:
        batch: list[_Pending] = []
        size = 0
        while self._queue and size < MAX_BATCH_EDITS:
            item = self._queue.popleft()
            if item.dropped:
                continue
            item.taken = True
            batch.append(item)
            size += job_weight(item.job)
        return batch

    def _now(self) -> dt.datetime:
        """Strictly increasing times: a batch's edits share one, a later batch is later."""
        now = max(dt.datetime.now(dt.UTC), self._last_time + dt.timedelta(microseconds=1))
        self._last_time = now
        return now

    async def _run(self) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        in_flight: set[asyncio.Task[None]] = set()
        while True:
            if not self._queue:
                if self._stopping:
                    await asyncio.gather(*in_flight)
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            await slots.acquire()
            batch = self._take()  # taken only now: what queued meanwhile joins it
            if not batch:
                slots.release()
                continue
            task = asyncio.get_running_loop().create_task(self._commit(batch, slots))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)

    async def _commit(self, batch: list[_Pending], slots: asyncio.Semaphore) -> None:
        try:
            await self._commit_batch(batch)
        finally:
            slots.release()

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        now = self._now()
        try:
            plan = await self.commit([item.job for item in batch], now)
        except StorageUnavailable as error:
            outcome: Exception = error
        except Exception as error:  # a bug or an error the store did not classify
            log.exception("the edits store could not commit a batch")
            outcome = StorageUnavailable(f"the edits store could not commit: {error}")
        else:
            self.on_commit(plan, now)
            for item, result in zip(batch, plan.results, strict=True):
                if not item.future.done():
                    item.future.set_result(result)
            return
        for item in batch:
            if not item.future.done():
                item.future.set_exception(outcome)
