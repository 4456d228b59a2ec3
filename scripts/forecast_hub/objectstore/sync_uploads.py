"""sync durability: each group commit's change object, uploaded while the next batches form.

The edits store's writer applies a batch inside its open transaction and
hands its rows here (``begin``): the object gets the next sequence number
and goes to the bucket from a pool of upload threads, written only if
absent, while the writer already applies the next batch in the same
transaction under a savepoint of its own and starts its upload too. When
the round ends, ``finish`` waits for every upload of it and says how many
batches, in sequence order, are in the bucket with every earlier one: the
writer commits those, rolls the rest back to their savepoint, and answers
them with 503. Nothing after a failed upload is acknowledged.

A refused batch's number is settled before anything else is written: an
object that landed all the same is voided (the next object written lists
it, and a restore skips it), and a number whose upload failed or whose
answer was lost is read back and, if empty, claimed with an ``aborted``
object, so a late copy can never land. Until that is done every batch gets
503. A restore stops at the first missing number, so objects uploaded after
one that never landed are not replayed even before they are settled.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from forecast_hub.api.persistence import Fenced, StorageUnavailable
from forecast_hub.objectstore.changes import ChangeObject, ChangeSet, change_name, set_local_seq
from forecast_hub.objectstore.client import ObjectStoreError, Overtaken, Unreachable

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable

    from forecast_hub.objectstore.persistence import EditsPersistence

KEEP_BATCHES = 64
"""How many of the latest numbers' batches are kept for ``after``."""
SETTLE_SECONDS = 5.0


@dataclass(eq=False)
class Upload:
    """One batch's change object on its way to the bucket."""

    change: ChangeObject
    size: int
    future: Future[None]

    @property
    def seq(self) -> int:
        return self.change.seq

    @property
    def done(self) -> bool:
        return self.future.done()


class SyncUploads:
    """The change objects of one persistence in sync durability."""

    def __init__(self, owner: EditsPersistence) -> None:
        self.owner = owner
        self.unsettled: list[int] = []
        """Numbers of refused batches not yet read back or claimed."""
        self._next_seq = 0
        self._in_flight = 0
        self._batches: dict[int, str] = {}
        """The batch this writer has put (or found) at a number, for ``after``."""
        self._dead: set[str] = set()
        """Batches of another instance uploaded behind one of its own that never landed."""
        self._pool = ThreadPoolExecutor(owner.uploads_in_flight, thread_name_prefix="edits-upload")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def begin(
        self, conn: sqlite3.Connection, changes: ChangeSet, on_done: Callable[[], None]
    ) -> Upload:
        """In the writer's open transaction: start the batch's upload, or raise."""
        owner = self.owner
        if owner.fenced:
            raise Fenced(owner.fenced_message())
        if self._in_flight == 0:
            if self.unsettled or owner.voids:
                self.settle(time.monotonic() + SETTLE_SECONDS / 5)
            self._next_seq = owner.seq + 1
        seq = self._next_seq
        change = ChangeObject(
            seq,
            owner.writer,
            "",
            uuid.uuid4().hex,
            changes,
            tuple(owner.voids),
            after=self._batches.get(seq - 1),
        )
        self._note(seq, change.batch)
        body = change.encode()
        set_local_seq(conn, change.seq)
        future = self._pool.submit(self._put, change.seq, body)
        future.add_done_callback(lambda _: on_done())
        self._next_seq += 1
        self._in_flight += 1
        return Upload(change, len(body), future)

    def _note(self, seq: int, batch: str) -> None:
        self._batches[seq] = batch
        for old in [known for known in self._batches if known < seq - KEEP_BATCHES]:
            del self._batches[old]

    def _put(self, seq: int, body: bytes) -> None:
        self.owner.store.put(change_name(seq), body, if_absent=True)

    def finish(self, uploads: list[Upload]) -> tuple[int, StorageUnavailable | None]:
        """Wait for a round's uploads: how many, in order, are acknowledged, and why not more.

        Every later one is refused and settled (or left to settle before the next write).
        """
        errors = [upload.future.exception() for upload in uploads]
        self._in_flight = 0
        acknowledged, failure = len(uploads), None
        for index, (upload, error) in enumerate(zip(uploads, errors, strict=True)):
            if error is None or self._landed(upload, error):
                continue
            acknowledged, failure = index, self._refusal(error)
            break
        for upload in uploads[:acknowledged]:
            self.owner._wrote(upload.seq, upload.change.void, upload.size)
        if acknowledged < len(uploads):
            self.refuse(uploads[acknowledged:], errors[acknowledged:])
            if self.owner.fenced:  # found out while settling: the requests say so
                failure = Fenced(self.owner.fenced_message())
        return acknowledged, failure

    def _landed(self, upload: Upload, error: BaseException) -> bool:
        """An upload whose answer was lost: read back, is it this batch's object?"""
        if not isinstance(error, Unreachable) or not error.ambiguous:
            return False
        self.owner._failed(error)
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            try:
                found = self.owner._read(upload.seq)
            except Unreachable as again:
                self.owner._failed(again)
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.2)
                continue
            return found is not None and found.batch == upload.change.batch

    def _refusal(self, error: BaseException) -> StorageUnavailable:
        owner = self.owner
        if isinstance(error, Overtaken):
            # The number was taken: by another instance (checked when it is settled).
            return StorageUnavailable(f"change number taken: {error}; nothing is acknowledged")
        if isinstance(error, Unreachable):
            owner._failed(error)
            return StorageUnavailable(
                f"the object store is unreachable; nothing of this request is acknowledged: {error}"
            )
        owner._failed(error)
        return StorageUnavailable(f"the object store refused the change: {error}")

    def refuse(self, uploads: list[Upload], errors: list[BaseException | None]) -> None:
        """Batches refused after their upload started: void what landed, settle the rest."""
        owner = self.owner
        for upload, error in zip(uploads, errors, strict=True):
            if error is None:
                owner.voids.append(upload.seq)
            else:
                self.unsettled.append(upload.seq)
            owner.seq = max(owner.seq, upload.seq)
        self._in_flight = 0
        # If the store cannot tell now, the next write settles them first (503 until then).
        with contextlib.suppress(StorageUnavailable):
            self.settle(time.monotonic() + SETTLE_SECONDS / 5)

    def settle(self, deadline: float) -> None:
        """Read back or claim every unsettled number; then put the voids in the bucket.

        Raises StorageUnavailable when the store cannot tell before ``deadline``,
        Fenced when another instance wrote one of the numbers.
        """
        owner = self.owner
        while self.unsettled or owner.voids:
            if not self.unsettled:  # voids not yet in any object: carry them in one now
                owner.seq += 1
                self.unsettled.append(owner.seq)
            seq = self.unsettled[0]
            try:
                found = owner._read(seq)
                if found is None:
                    found = ChangeObject(
                        seq,
                        owner.writer,
                        "",
                        uuid.uuid4().hex,
                        ChangeSet(),
                        tuple(owner.voids),
                        True,
                    )
                    owner.store.put(change_name(seq), found.encode(), if_absent=True)
                    owner._taken(found)
                elif found.writer != owner.writer and self._behind_a_failed_one(found):
                    self._dead.add(found.batch)
                    if not found.aborted and not found.changes.empty:
                        owner.voids.append(seq)
                elif found.writer != owner.writer:
                    self.unsettled.clear()
                    owner._fence(f"change {seq} was written by another instance")
                    raise Fenced(owner.fenced_message())
                else:
                    owner._taken(found)
                owner.seq = max(owner.seq, seq)
                self._note(seq, found.batch)
                self.unsettled.pop(0)
            except Overtaken:
                continue
            except (Unreachable, ObjectStoreError) as error:
                owner._failed(error)
                if time.monotonic() > deadline:
                    raise StorageUnavailable(
                        f"the object store is unreachable; change {seq} is not settled yet,"
                        " and nothing is acknowledged until it is"
                    ) from error
                time.sleep(0.2)

    def _behind_a_failed_one(self, found: ChangeObject) -> bool:
        """Another instance's object built on a batch of its own that never landed: that
        instance acknowledges nothing of it and is fenced by its failed one."""
        if found.after is None:
            return False
        if found.after in self._dead:
            return True
        before = self.owner._read(found.seq - 1)
        return before is not None and before.batch != found.after
