"""The edits store: versions, conflicts, removals and the log, committed as one."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path

import pytest

from forecast_hub.api.edits import (
    Applied,
    Conflict,
    EditRequest,
    EditsStore,
    NothingToRemove,
    PrefsSaved,
    PutEdits,
    Removed,
    RemoveEdit,
    SetPrefs,
)
from forecast_hub.hybrid import connect_store

DAY = dt.date(2025, 3, 3)


def _run(path: Path, scenario):
    async def main():
        store = EditsStore(path)
        store.open()
        try:
            return await scenario(store)
        finally:
            store.close()

    return asyncio.run(main())


def _put(*edits: EditRequest, tenant: str = "t1", user: str = "ann") -> PutEdits:
    return PutEdits(tenant, user, edits)


def test_versions_count_across_removal_and_the_log_has_every_change(tmp_path: Path) -> None:
    async def scenario(store: EditsStore):
        first = await store.submit(_put(EditRequest("a", DAY, 5.0, "promo")))
        second = await store.submit(_put(EditRequest("a", DAY, 6.0, None, 1), user="bob"))
        removed = await store.submit(RemoveEdit("t1", "ann", "a", DAY))
        again = await store.submit(RemoveEdit("t1", "ann", "a", DAY))
        stale = await store.submit(_put(EditRequest("a", DAY, 7.0, None, 0)))
        back = await store.submit(_put(EditRequest("a", DAY, 8.0, None, 3)))
        log = store.read_log("t1", None, 0, 100)
        return first, second, removed, again, stale, back, log, store.tenant_edits("t1")

    first, second, removed, again, stale, back, log, cached = _run(tmp_path / "e.sqlite", scenario)
    assert isinstance(first, Applied) and first.edits[0][1].version == 1
    assert isinstance(second, Applied) and second.edits[0][1].version == 2
    assert isinstance(removed, Removed) and removed.edit.version == 3
    assert isinstance(again, NothingToRemove)
    assert isinstance(stale, Conflict)
    assert stale.conflicts[0][2] is not None and stale.conflicts[0][2].is_removed
    assert isinstance(back, Applied) and back.edits[0][1].version == 4
    assert [(e.action, e.old_qty, e.new_qty, e.edited_by, e.version) for e in log] == [
        ("upsert", None, 5.0, "ann", 1),
        ("upsert", 5.0, 6.0, "bob", 2),
        ("remove", 6.0, None, "ann", 3),
        ("upsert", None, 8.0, "ann", 4),
    ]
    assert log[0].reason == "promo"
    assert [e.log_id for e in log] == [1, 2, 3, 4]
    assert cached[("a", DAY)].manual_qty == 8.0


def test_a_conflict_applies_nothing_of_its_request(tmp_path: Path) -> None:
    async def scenario(store: EditsStore):
        await store.submit(_put(EditRequest("a", DAY, 1.0)))
        result = await store.submit(
            _put(EditRequest("b", DAY, 2.0, None, 0), EditRequest("a", DAY, 3.0, None, 0))
        )
        return result, dict(store.tenant_edits("t1")), store.read_log("t1", None, 0, 100)

    result, cached, log = _run(tmp_path / "e.sqlite", scenario)
    assert isinstance(result, Conflict)
    assert [(index, edit.sku_id) for index, edit, _ in result.conflicts] == [(1, "a")]
    assert set(cached) == {("a", DAY)}
    assert len(log) == 1


def test_concurrent_requests_share_commits_and_each_stays_all_or_nothing(
    tmp_path: Path,
) -> None:
    async def scenario(store: EditsStore):
        jobs = [
            _put(EditRequest("k", DAY, float(n)), EditRequest(f"own-{n}", DAY, float(n)))
            for n in range(100)
        ]
        jobs += [_put(EditRequest("x", DAY, 1.0, None, 0)) for _ in range(20)]
        results = await asyncio.gather(*(store.submit(job) for job in jobs))
        return results, store.read_log("t1", None, 0, 10_000), dict(store.tenant_edits("t1"))

    results, log, cached = _run(tmp_path / "e.sqlite", scenario)
    versions = sorted(r.edits[0][1].version for r in results[:100])
    assert versions == list(range(1, 101))
    winner = next(r for r in results[:100] if r.edits[0][1].version == 100)
    assert cached[("k", DAY)].manual_qty == winner.edits[0][0].qty
    guarded = results[100:]
    assert sum(isinstance(r, Applied) for r in guarded) == 1
    assert sum(isinstance(r, Conflict) for r in guarded) == 19
    chain = [e for e in log if e.sku_id == "k"]
    assert [e.version for e in chain] == list(range(1, 101))
    assert all(a.new_qty == b.old_qty for a, b in itertools.pairwise(chain))
    assert len({e.edited_at for e in log}) < len(log), "concurrent requests shared commits"


def test_acknowledged_changes_are_in_the_file_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite"

    async def write(store: EditsStore):
        await store.submit(_put(EditRequest("a", DAY, 4.0)))
        await store.submit(SetPrefs("t1", "ann", False))
        await store.submit(SetPrefs("t1", "*", False))
        return await store.submit(SetPrefs("t1", "ann", None))

    assert isinstance(_run(path, write), PrefsSaved)
    reader = connect_store(path, read_only=True)
    assert reader.execute("select manual_qty, version from manual_edits_ht").fetchall() == [
        (4.0, 1)
    ]
    reader.close()

    async def read(store: EditsStore):
        return (
            store.tenant_edits("t1")[("a", DAY)].manual_qty,
            store.show_manual("t1", "ann"),
            store.show_manual("t1", "bob"),
            store.show_manual("t2", "ann"),
            store.edits_as_of["t1"],
        )

    qty, ann, bob, other, as_of = _run(path, read)
    assert (qty, ann, bob, other) == (4.0, False, False, True)
    assert as_of.tzinfo is dt.UTC


def test_a_stopped_writer_refuses_new_work(tmp_path: Path) -> None:
    async def scenario(store: EditsStore):
        store.close()
        with pytest.raises(Exception, match="not running"):
            await store.submit(_put(EditRequest("a", DAY, 1.0)))

    _run(tmp_path / "e.sqlite", scenario)


def test_a_reopened_store_answers_from_sqlite_until_its_tenant_is_in_memory(
    tmp_path: Path,
) -> None:
    path = tmp_path / "edits.sqlite"

    async def write(store: EditsStore):
        for n in range(50):
            await store.submit(_put(EditRequest(f"s{n}", DAY, float(n), None)))
        await store.submit(_put(EditRequest("x", DAY, 1.0, None), tenant="t2"))

    _run(path, write)

    async def reopened(store: EditsStore):
        assert store.cache.unloaded == {"t1", "t2"}  # nothing read yet but the summary
        assert set(store.edits_as_of) == {"t1", "t2"}
        page = store.tenant_edits("t1")  # looked up in SQLite, row by row
        assert page and page[("s3", DAY)].manual_qty == 3.0
        assert page.get(("s7", DAY)).manual_qty == 7.0
        assert page.get(("nope", DAY)) is None and ("s3", DAY + dt.timedelta(1)) not in page
        assert "t1" in store.cache.unloaded
        assert not store.tenant_edits("t9")
        # Committed while t1 is not in memory: kept aside, then applied over the read.
        store.cache.unloaded.add("t1")
        await store.submit(_put(EditRequest("s3", DAY, 33.0, None, 1)))
        assert store.tenant_edits("t1")[("s3", DAY)].manual_qty == 33.0
        whole = dict(store.tenant_edits("t1"))  # listing them loads the tenant
        assert len(whole) == 50 and whole[("s3", DAY)].manual_qty == 33.0
        assert whole[("s3", DAY)].version == 2 and "t1" not in store.cache.unloaded
        assert store.cache.late == {}
        for _ in range(200):  # the background reader installs t2 by itself
            if "t2" not in store.cache.unloaded:
                break
            await asyncio.sleep(0.01)
        assert store.cache.edits["t2"][("x", DAY)].manual_qty == 1.0

    _run(path, reopened)
