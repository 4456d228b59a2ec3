"""The group-commit writer of the stores across the network (stores/writer.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence

import pytest

from forecast_hub.api.edit_plan import BatchPlan, plan_batch
from forecast_hub.api.edits import Job, PrefsSaved, SetPrefs, StorageUnavailable
from forecast_hub.api.stores.writer import GroupCommitWriter


def test_a_change_not_taken_by_its_deadline_is_dropped_and_one_taken_waits() -> None:
    """The first batch commits slowly: its request waits past its deadline and is
    answered; the one queued behind it is refused, and never committed."""
    committed: list[Sequence[Job]] = []
    release = asyncio.Event()

    async def commit(jobs: Sequence[Job], now: dt.datetime) -> BatchPlan:
        await release.wait()
        committed.append(jobs)
        return plan_batch(jobs, {}, now)

    async def scenario() -> None:
        writer = GroupCommitWriter(commit, 0.05, lambda plan, now: None)
        writer.start()
        first = asyncio.create_task(writer.submit(SetPrefs("t", "ann", True)))
        await asyncio.sleep(0.01)  # the writer takes the first into its batch
        second = asyncio.create_task(writer.submit(SetPrefs("t", "bob", False)))
        with pytest.raises(StorageUnavailable, match="nothing of it was applied"):
            await second
        assert writer.pending == 1
        release.set()
        assert await first == PrefsSaved(True)
        await writer.stop()
        assert writer.pending == 0

    asyncio.run(scenario())
    assert committed == [[SetPrefs("t", "ann", True)]]
