"""The edits store as the API code sees it: one Protocol, three backends.

Every route reaches the store through ``EditsBackend``:

- the embedded store (``forecast_hub.api.edits.EditsStore``): SQLite beside
  the API, read from memory;
- PostgreSQL (``postgres.py``): ``FORECAST_HUB_EDITS_STORE=postgresql://...``;
- Snowflake's planning tables (``snowflake.py``): `serve --target
  emulator|snowflake`, hybrid tables on an account.

The Protocol is the embedded store's own surface, so that store satisfies it
as it is. A member answers now (the embedded store, from memory) or later
(a store across the network): ``Answer[T]`` is either, and ``resolved``
waits for the second kind, so a route reads every backend the same way.

What each provides: ``submit`` a change (a batch of edits upserted all or
nothing with version checks, a removal, preferences) and wait until it is
committed or refused; ``tenant_edits`` and, for the stores that read across
the network, ``edits_in`` (a tenant's edits of some SKUs and dates);
``read_log`` (the append-only log); and the preferences
(``show_manual`` and its two parts).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypeVar, cast, runtime_checkable

from forecast_hub.api.config import ApiConfig
from forecast_hub.api.edits import EditsStore, Job, LogEntry, Result, StoredEdit
from forecast_hub.errors import UserError
from forecast_hub.settings import without_password

if TYPE_CHECKING:
    from forecast_hub.api.stores.warehouse import Warehouse

T = TypeVar("T")

Answer: TypeAlias = T | Awaitable[T]
"""What a store member returns: the value, or an awaitable of it."""

EditKey = tuple[str, dt.date]
"""(sku_id, forecast_date) of an edit within a tenant."""


async def resolved(answer: Answer[T]) -> T:
    """The value of an answer, waited for when the store answers later."""
    if isinstance(answer, Awaitable):
        return await cast(Awaitable[T], answer)
    return answer


class EditsBackend(Protocol):
    """Edits, preferences and the log of every tenant, as the routes use them."""

    @property
    def opened_at(self) -> dt.datetime:
        """When the store was opened: ``X-Edits-As-Of`` of a tenant without edits."""

    @property
    def edits_as_of(self) -> Mapping[str, dt.datetime]:
        """Per tenant, the time of the latest edit this process knows of."""

    @property
    def last_commit_at(self) -> dt.datetime | None:
        """When this process last committed a change."""

    @property
    def pending(self) -> int:
        """Requests waiting for their commit."""

    @property
    def writer_alive(self) -> bool:
        """Whether changes can be committed now."""

    def open(self) -> Answer[None]:
        """Connect (and, where the store owns its tables, migrate them forward)."""

    def close(self) -> Answer[None]:
        """Commit every queued change, then release every connection."""

    def reachable(self) -> Answer[bool]:
        """Whether the storage answers a query now."""

    async def submit(self, job: Job) -> Result:
        """Queue a change and wait until it is committed or refused.

        ``StorageUnavailable`` when it could not be committed: nothing of it
        was applied.
        """

    def tenant_edits(self, tenant_id: str) -> Answer[Mapping[EditKey, StoredEdit]]:
        """Every stored edit of a tenant, removed ones included."""

    def stored_show_manual(self, tenant_id: str, user_id: str) -> Answer[bool | None]:
        """The user's own stored preference; None inherits the tenant's."""

    def tenant_show_manual(self, tenant_id: str) -> Answer[bool]:
        """The tenant's default, true unless stored."""

    def show_manual(self, tenant_id: str, user_id: str) -> Answer[bool]:
        """The user's stored preference, over the tenant's default, over true."""

    def read_log(
        self, tenant_id: str, since: dt.datetime | None, after: int, limit: int
    ) -> Answer[list[LogEntry]]:
        """Log entries of a tenant at or after ``since``, past log id ``after``."""


@runtime_checkable
class ReadsEditsInRange(Protocol):
    """A store whose reads cross the network reads only what a page shows."""

    async def edits_in(
        self,
        tenant_id: str,
        sku_ids: Sequence[str],
        start: dt.date | None,
        end: dt.date | None,
    ) -> Mapping[EditKey, StoredEdit]:
        """The tenant's stored edits of these SKUs between two dates (inclusive)."""


async def edits_for_page(
    store: EditsBackend,
    tenant_id: str,
    page_skus: Callable[[], Sequence[str]],
    start: dt.date | None,
    end: dt.date | None,
) -> Mapping[EditKey, StoredEdit]:
    """The edits a page of these dates may show (a superset is fine).

    A store held in memory hands over its whole tenant at no cost; one across
    the network is asked for the page's SKUs (``page_skus()``, worked out
    only then) and dates only.
    """
    if isinstance(store, ReadsEditsInRange):
        sku_ids = page_skus()
        if not sku_ids:
            return {}
        return await store.edits_in(tenant_id, sku_ids, start, end)
    return await resolved(store.tenant_edits(tenant_id))


@dataclass(frozen=True)
class Backend:
    """The store the API writes, what it is called and what an acknowledgement promises."""

    name: str
    """embedded, postgresql, emulator or snowflake: the first word of X-Data-Source."""
    store: EditsBackend
    edits_source: str
    """Where the edits are, as X-Data-Source names it (no password)."""
    acknowledged_after: str
    """When an edit is acknowledged, as /healthz says it."""
    warehouse: Warehouse | None = None
    """The read path of serving.v_forecast (emulator and snowflake), else None."""


def choose_backend(config: ApiConfig) -> Backend:
    """The backend of a configuration: embedded, PostgreSQL or the warehouse's tables."""
    if config.target != "duckdb":
        if config.edits_store_url != "sqlite":
            raise UserError(
                "FORECAST_HUB_EDITS_STORE chooses the store of `serve --target duckdb`; on"
                f" --target {config.target} the edits are the warehouse's planning tables:"
                " unset it"
            )
        assert config.snowflake is not None
        from forecast_hub.api.stores.snowflake import snowflake_backend

        return snowflake_backend(config.snowflake)
    if config.edits_store_url == "sqlite":
        from forecast_hub.objectstore.operations import edits_persistence

        persistence = edits_persistence(
            config.object_store,
            config.durability,
            config.edits_store,
            config.persist_every_writes,
            config.persist_every_seconds,
            config.sync_uploads_in_flight,
        )
        return Backend(
            name="embedded",
            store=EditsStore(config.edits_store, persistence=persistence),
            edits_source="edits/edits.sqlite",
            acknowledged_after="commit with synchronous=FULL",
        )
    from forecast_hub.api.stores.postgres import PostgresEditsStore

    return Backend(
        name="postgresql",
        store=PostgresEditsStore(config.edits_store_url),
        edits_source=without_password(config.edits_store_url),
        acknowledged_after="commit with synchronous_commit=on",
    )
