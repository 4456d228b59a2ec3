"""The stores across the network: the batch rule, and the PostgreSQL store itself.

The batch planner answers a group commit's requests in order against the
stored rows, with the embedded store's rule; the PostgreSQL store is driven
here through the Protocol the routes use, against a real server, and
``forecast-hub hybrid`` copies what it holds into the warehouse for dbt.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import psycopg
import pytest

from forecast_hub.api.edit_plan import keys_of, plan_batch
from forecast_hub.api.edits import (
    Applied,
    Conflict,
    EditRequest,
    EditsStore,
    Job,
    NothingToRemove,
    PrefsSaved,
    PutEdits,
    Removed,
    RemoveEdit,
    SetPrefs,
    StoredEdit,
)
from forecast_hub.api.stores import EditsBackend, edits_for_page, postgres, resolved
from forecast_hub.api.stores.postgres import PostgresEditsStore
from forecast_hub.hybrid import apply_hybrid, edits_store_path
from forecast_hub.postgres import PostgresSettings
from forecast_hub.settings import Settings

T = TypeVar("T")
DAY = dt.date(2025, 3, 3)
NOW = dt.datetime(2025, 3, 2, 9, 0, tzinfo=dt.UTC)


def put(*edits: EditRequest, user: str = "ann", tenant: str = "t1") -> PutEdits:
    return PutEdits(tenant, user, edits)


def test_a_batch_plans_each_request_over_the_ones_before_it() -> None:
    stored = {("t1", "a", DAY): StoredEdit(3.0, None, "bob", NOW, 4, False)}
    jobs: list[Job] = [
        put(EditRequest("a", DAY, 5.0, "promo", expected_version=4)),
        put(EditRequest("a", DAY, 6.0, expected_version=4)),  # stale after the first
        put(EditRequest("b", DAY, 1.0), EditRequest("a", DAY, 7.0)),
        RemoveEdit("t1", "bob", "a", DAY),
        RemoveEdit("t1", "bob", "a", DAY),
        SetPrefs("t1", "ann", False),
        SetPrefs("t1", "ann", None),
    ]
    later = NOW + dt.timedelta(hours=1)
    plan = plan_batch(jobs, stored, later)

    first, stale, both, removed, again, saved, reset = plan.results
    assert isinstance(first, Applied) and first.edits[0][1].version == 5
    assert isinstance(stale, Conflict) and stale.conflicts[0][2] == first.edits[0][1]
    assert isinstance(both, Applied) and [s.version for _, s in both.edits] == [1, 6]
    assert isinstance(removed, Removed) and removed.edit.version == 7
    assert isinstance(again, NothingToRemove)
    assert (saved, reset) == (PrefsSaved(False), PrefsSaved(None))
    # One final row per key, guarded by the version it was read at.
    assert {key: (w.edit.version, w.read_version) for key, w in plan.edits.items()} == {
        ("t1", "a", DAY): (7, 4),
        ("t1", "b", DAY): (1, None),
    }
    assert [(r.key[1], r.action, r.old_qty, r.new_qty, r.version) for r in plan.log] == [
        ("a", "upsert", 3.0, 5.0, 5),
        ("b", "upsert", None, 1.0, 1),
        ("a", "upsert", 5.0, 7.0, 6),
        ("a", "remove", 7.0, None, 7),
    ]
    assert plan.prefs == {("t1", "ann"): None}
    assert plan.edits_as_of() == {"t1": later}
    assert keys_of(jobs) == [("t1", "a", DAY), ("t1", "b", DAY)]


def test_a_removed_edit_counts_on_and_a_refused_request_writes_nothing() -> None:
    stored = {("t1", "a", DAY): StoredEdit(None, None, "bob", NOW, 2, True)}
    refused = plan_batch([put(EditRequest("a", DAY, 1.0, expected_version=0))], stored, NOW)
    assert isinstance(refused.results[0], Conflict)
    assert (refused.edits, refused.log, refused.changes_anything) == ({}, [], False)
    back = plan_batch([put(EditRequest("a", DAY, 1.0, expected_version=2))], stored, NOW)
    (applied,) = back.results
    assert isinstance(applied, Applied) and applied.edits[0][1].version == 3
    assert back.log[0].old_qty is None


def run(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(work())


def test_the_postgres_store_through_the_protocol(postgres_database: PostgresSettings) -> None:
    async def scenario() -> None:
        store: EditsBackend = PostgresEditsStore(postgres_database.url())
        await resolved(store.open())
        try:
            assert await resolved(store.reachable())
            applied = await store.submit(put(EditRequest("a", DAY, 5.0, "promo")))
            assert isinstance(applied, Applied)
            stale = await store.submit(put(EditRequest("a", DAY, 6.0, expected_version=0)))
            assert isinstance(stale, Conflict) and stale.conflicts[0][2] is not None
            assert isinstance(await store.submit(RemoveEdit("t1", "bob", "a", DAY)), Removed)
            await store.submit(put(EditRequest("a", DAY, 7.0, expected_version=2)))
            await store.submit(SetPrefs("t1", "*", False))
            await store.submit(SetPrefs("t1", "ann", True))

            edits = await resolved(store.tenant_edits("t1"))
            assert {key: (e.manual_qty, e.version) for key, e in edits.items()} == {
                ("a", DAY): (7.0, 3)
            }
            page = await edits_for_page(store, "t1", lambda: ["a", "z"], DAY, DAY)
            assert list(page) == [("a", DAY)]
            assert await edits_for_page(store, "t2", lambda: ["a"], None, None) == {}
            assert store.edits_as_of["t1"] == edits[("a", DAY)].edited_at
            assert await resolved(store.show_manual("t1", "ann")) is True
            assert await resolved(store.show_manual("t1", "bob")) is False
            assert await resolved(store.tenant_show_manual("t1")) is False
            assert await resolved(store.stored_show_manual("t1", "bob")) is None
            log = await resolved(store.read_log("t1", None, 0, 100))
            assert [(e.action, e.old_qty, e.new_qty, e.version) for e in log] == [
                ("upsert", None, 5.0, 1),
                ("remove", 5.0, None, 2),
                ("upsert", None, 7.0, 3),
            ]
            assert await resolved(store.read_log("t1", None, log[1].log_id, 100)) == log[2:]
            since = await resolved(store.read_log("t1", log[2].edited_at, 0, 100))
            assert since == log[2:]
            assert await resolved(store.read_log("t2", None, 0, 100)) == []
        finally:
            await resolved(store.close())

    run(scenario)


def test_hybrid_copies_the_postgres_store_into_the_warehouse(
    postgres_database: PostgresSettings, tmp_path: Path
) -> None:
    url = postgres_database.url()
    settings = Settings(data_dir=tmp_path, edits_store=url)
    first = apply_hybrid(settings)
    assert first.store_path == postgres_database.url(with_password=False)
    assert "created planning.manual_edits_ht" in first.store_changes

    async def write() -> None:
        store = PostgresEditsStore(url)
        await store.open()
        try:
            await store.submit(put(EditRequest("a", DAY, 5.0), EditRequest("b", DAY, 2.5)))
            await store.submit(RemoveEdit("t1", "ann", "b", DAY))
            await store.submit(SetPrefs("t1", "*", False))
        finally:
            await store.close()

    run(write)
    again = apply_hybrid(settings)
    assert again.store_changes == []
    assert again.copied == {"manual_edits_ht": 2, "user_prefs_ht": 1, "manual_edit_log_ht": 3}
    assert not edits_store_path(settings).exists()
    warehouse = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        copied = warehouse.execute(
            "select sku_id, forecast_date, manual_qty, version, is_removed, edited_at"
            " from planning.manual_edits_ht order by sku_id"
        ).fetchall()
    finally:
        warehouse.close()
    with psycopg.connect(url) as conn:
        stored = conn.execute(
            "select sku_id, forecast_date, manual_qty, version, is_removed, edited_at"
            " from planning.manual_edits_ht order by sku_id"
        ).fetchall()
    assert copied == stored


def test_an_unreachable_postgres_store_is_one_clear_line(tmp_path: Path) -> None:
    from forecast_hub.errors import UserError

    settings = Settings(
        data_dir=tmp_path, edits_store="postgresql://ann:secret@127.0.0.1:1/forecast_hub"
    )
    with pytest.raises(UserError) as refused:
        apply_hybrid(settings)
    message = str(refused.value)
    assert "postgresql://ann@127.0.0.1:1/forecast_hub" in message and "secret" not in message


def test_the_embedded_store_satisfies_the_protocol_as_it_is(tmp_path: Path) -> None:
    async def scenario() -> None:
        store: EditsBackend = EditsStore(tmp_path / "edits.sqlite")
        await resolved(store.open())
        try:
            await store.submit(put(EditRequest("a", DAY, 5.0)))
            assert await resolved(store.show_manual("t1", "ann")) is True
            page = await edits_for_page(store, "t1", lambda: [], None, None)
            assert page[("a", DAY)].manual_qty == 5.0
        finally:
            await resolved(store.close())

    run(scenario)


def test_a_row_written_by_another_process_between_read_and_write_replans_the_batch(
    postgres_database: PostgresSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another store commits the same key after this one read it (first a new key,
    then an existing one): the guarded write refuses, and the batch is planned again
    over the rows as they now are; the log keeps one unbroken version chain."""
    url = postgres_database.url()
    one, other = PostgresEditsStore(url), PostgresEditsStore(url)
    read_rows = postgres._read_rows
    races = [6.0, 8.0]  # what the other store writes while this one is between statements
    racing: list[float] = []

    async def read_then_race(conn: Any, query: str, keys: Any) -> dict[Any, StoredEdit]:
        rows = await read_rows(conn, query, keys)
        if races and not racing and query == postgres._READ_ROWS:
            racing.append(races.pop(0))  # the other store's own read does not race
            edit = EditRequest("a", DAY, racing[0])
            await other.submit(put(edit, user="bob", tenant="t9"))
            racing.clear()
        return rows

    async def scenario() -> None:
        await one.open()
        await other.open()
        try:
            monkeypatch.setattr(postgres, "_read_rows", read_then_race)
            first = await one.submit(put(EditRequest("a", DAY, 5.0), tenant="t9"))
            second = await one.submit(put(EditRequest("a", DAY, 7.0), tenant="t9"))
            assert isinstance(first, Applied) and isinstance(second, Applied)
            assert [first.edits[0][1].version, second.edits[0][1].version] == [2, 4]
            log = await one.read_log("t9", None, 0, 100)
            assert [(e.edited_by, e.old_qty, e.new_qty, e.version) for e in log] == [
                ("bob", None, 6.0, 1),
                ("ann", 6.0, 5.0, 2),
                ("bob", 5.0, 8.0, 3),
                ("ann", 8.0, 7.0, 4),
            ]
            assert races == []
        finally:
            await one.close()
            await other.close()

    run(scenario)
