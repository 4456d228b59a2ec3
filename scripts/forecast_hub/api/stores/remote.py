"""What the stores across the network share: group commit and preferences per request.

A remote store (PostgreSQL, the warehouse) writes through the process's
group-commit writer (``writer.py``) and its own ``_commit``, and reads a
user's preferences with its own ``_prefs`` (the user's row and the tenant's,
``'*'``, in one query); the rule that resolves them is here, once.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Sequence

from forecast_hub.api.edit_plan import BatchPlan
from forecast_hub.api.edits import Job, Result, StorageUnavailable
from forecast_hub.api.stores.writer import GroupCommitWriter
from forecast_hub.hybrid.tables import TENANT_DEFAULTS_USER


class RemoteStore(abc.ABC):
    """The writer, the times of the latest edits, and the preference rule."""

    request_timeout_s = 30.0
    writer_concurrency = 1

    def __init__(self) -> None:
        self.opened_at = dt.datetime.now(dt.UTC)
        self.edits_as_of: dict[str, dt.datetime] = {}
        self.last_commit_at: dt.datetime | None = None
        self._writer: GroupCommitWriter | None = None

    @abc.abstractmethod
    async def _commit(self, jobs: Sequence[Job], now: dt.datetime) -> BatchPlan:
        """Plan and write one batch in one transaction; StorageUnavailable if it cannot."""

    @abc.abstractmethod
    async def _prefs(self, tenant_id: str, user_id: str) -> dict[str, bool | None]:
        """user_id -> stored show_manual, of the user and the tenant's defaults ('*')."""

    def _start_writer(self) -> None:
        self._writer = GroupCommitWriter(
            self._commit, self.request_timeout_s, self._committed, self.writer_concurrency
        )
        self._writer.start()

    async def _stop_writer(self) -> None:
        if self._writer is not None:
            await self._writer.stop()

    @property
    def pending(self) -> int:
        return self._writer.pending if self._writer else 0

    @property
    def writer_alive(self) -> bool:
        return self._writer is not None and self._writer.alive

    async def submit(self, job: Job) -> Result:
        if self._writer is None:
            raise StorageUnavailable("the edits store is not open")
        return await self._writer.submit(job)

    def _committed(self, plan: BatchPlan, now: dt.datetime) -> None:
        for tenant_id, moment in plan.edits_as_of().items():
            self.edits_as_of[tenant_id] = max(moment, self.edits_as_of.get(tenant_id, moment))
        if plan.changes_anything:
            self.last_commit_at = now

    async def stored_show_manual(self, tenant_id: str, user_id: str) -> bool | None:
        return (await self._prefs(tenant_id, user_id)).get(user_id)

    async def tenant_show_manual(self, tenant_id: str) -> bool:
        default = (await self._prefs(tenant_id, TENANT_DEFAULTS_USER)).get(TENANT_DEFAULTS_USER)
        return True if default is None else default

    async def show_manual(self, tenant_id: str, user_id: str) -> bool:
        """The user's stored preference, over the tenant's default, over true."""
        prefs = await self._prefs(tenant_id, user_id)
        for who in (user_id, TENANT_DEFAULTS_USER):
            stored = prefs.get(who)
            if stored is not None:
                return stored
        return True
