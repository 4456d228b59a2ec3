"""The embedded edits store's cache: every tenant's edits in memory, loaded lazily.

Opening a large store reads only the preferences and each tenant's latest
edit time (an index walk). Each tenant's edits are then read in the
background, a tenant at a time, and handed to the event loop; until a
tenant's edits are in memory, a page's read looks up the edits of its rows
in SQLite (``UnloadedTenant``), and a read that lists them loads the tenant
at once. SQLite holds every committed batch before it is answered, so either
read sees every acknowledged edit.

A batch committed while a tenant is being read from SQLite is kept aside
and applied over what was read (``late``); applying a change twice, in
commit order, leaves the latest value, so the overlap is harmless.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from forecast_hub.api.edit_jobs import StoredEdit
from forecast_hub.hybrid.store import parse_timestamp

EditKey = tuple[str, dt.date]
TenantEdits = dict[EditKey, StoredEdit]

_COLUMNS = (
    "select sku_id, forecast_date, manual_qty, reason, edited_by, edited_at, version,"
    " is_removed from manual_edits_ht where tenant_id = ?"
)
_SELECT_TENANT = _COLUMNS
_SELECT_ONE = _COLUMNS + " and sku_id = ? and forecast_date = ?"
_SELECT_ANY = "select 1 from manual_edits_ht where tenant_id = ? limit 1"
_SELECT_LATEST = "select tenant_id, max(edited_at) from manual_edits_ht group by tenant_id"
_SELECT_PREFS = "select tenant_id, user_id, show_manual from user_prefs_ht"


def _edits(rows: list[tuple[Any, ...]]) -> TenantEdits:
    """Rows of ``_COLUMNS`` as stored edits; each distinct date and time parsed once."""
    dates: dict[str, dt.date] = {}
    times: dict[str, dt.datetime] = {}
    edits: TenantEdits = {}
    for sku_id, date_text, qty, reason, edited_by, time_text, version, removed in rows:
        date = dates.get(date_text)
        if date is None:
            date = dates[date_text] = dt.date.fromisoformat(date_text)
        edited_at = times.get(time_text)
        if edited_at is None:
            edited_at = times[time_text] = parse_timestamp(time_text)
        edits[(sku_id, date)] = StoredEdit(
            qty, reason, edited_by, edited_at, version, bool(removed)
        )
    return edits


def read_tenant(conn: sqlite3.Connection, tenant_id: str) -> TenantEdits:
    """Every stored edit of a tenant, removed ones included."""
    return _edits(conn.execute(_SELECT_TENANT, (tenant_id,)).fetchall())


@dataclass
class EditsCache:
    """What is in memory: loaded tenants, preferences, each tenant's latest edit."""

    edits: dict[str, TenantEdits] = field(default_factory=dict)
    prefs: dict[tuple[str, str], bool | None] = field(default_factory=dict)
    edits_as_of: dict[str, dt.datetime] = field(default_factory=dict)
    unloaded: set[str] = field(default_factory=set)
    """Tenants with stored edits not yet read into ``edits``."""
    late: dict[str, list[tuple[EditKey, StoredEdit]]] = field(default_factory=dict)
    """Changes of unloaded tenants committed since the cache was opened."""

    def put(self, tenant_id: str, key: EditKey, stored: StoredEdit) -> None:
        """A committed change (on the event loop)."""
        if tenant_id in self.unloaded:
            self.late.setdefault(tenant_id, []).append((key, stored))
        else:
            self.edits.setdefault(tenant_id, {})[key] = stored
        self.edits_as_of[tenant_id] = stored.edited_at

    def install(self, tenant_id: str, read: TenantEdits) -> TenantEdits:
        """A tenant read from SQLite, with what was committed since (on the event loop)."""
        if tenant_id not in self.unloaded:
            return self.edits.get(tenant_id, {})
        for key, stored in self.late.pop(tenant_id, []):
            read[key] = stored
        self.edits[tenant_id] = read
        self.unloaded.discard(tenant_id)
        return read


def open_cache(conn: sqlite3.Connection) -> EditsCache:
    """The cache of a database with no tenant loaded yet."""
    cache = EditsCache()
    for tenant_id, latest in conn.execute(_SELECT_LATEST):
        cache.edits_as_of[tenant_id] = parse_timestamp(latest)
        cache.unloaded.add(tenant_id)
    for tenant_id, user_id, show_manual in conn.execute(_SELECT_PREFS):
        cache.prefs[(tenant_id, user_id)] = None if show_manual is None else bool(show_manual)
    return cache


def load_cache(conn: sqlite3.Connection) -> EditsCache:
    """The cache of a database with every tenant loaded."""
    cache = open_cache(conn)
    for tenant_id in sorted(cache.unloaded):
        cache.install(tenant_id, read_tenant(conn, tenant_id))
    return cache


class UnloadedTenant(Mapping[EditKey, StoredEdit]):
    """A tenant's edits before they are in memory (on the event loop): a lookup reads
    the one row from SQLite; listing them reads the tenant into the cache first."""

    def __init__(self, cache: EditsCache, conn: sqlite3.Connection, tenant_id: str) -> None:
        self.cache = cache
        self.conn = conn
        self.tenant_id = tenant_id

    def __getitem__(self, key: EditKey) -> StoredEdit:
        if self.tenant_id not in self.cache.unloaded:
            return self.cache.edits.get(self.tenant_id, {})[key]
        sku_id, date = key
        rows = self.conn.execute(_SELECT_ONE, (self.tenant_id, sku_id, date.isoformat())).fetchall()
        if not rows:
            raise KeyError(key)
        return _edits(rows)[key]

    def __bool__(self) -> bool:
        if self.tenant_id not in self.cache.unloaded:
            return bool(self.cache.edits.get(self.tenant_id))
        return self.conn.execute(_SELECT_ANY, (self.tenant_id,)).fetchone() is not None

    def _loaded(self) -> TenantEdits:
        return self.cache.install(self.tenant_id, read_tenant(self.conn, self.tenant_id))

    def __iter__(self) -> Iterator[EditKey]:
        return iter(self._loaded())

    def __len__(self) -> int:
        return len(self._loaded())
