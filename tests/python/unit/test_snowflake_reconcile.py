"""Landing reconciliation's DataFrame logic, in Snowpark's local testing mode (no server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from snowflake.snowpark import Session

from forecast_hub.snowflake.reconcile import FileMismatch, file_mismatches, mismatch_message

FILES = {"sales/tenant_id=a/1.parquet": 2, "sales/tenant_id=a/2.parquet": 1}


@pytest.fixture(scope="module")
def session() -> Iterator[Session]:
    local = Session.builder.config("local_testing", True).create()
    yield local
    local.close()


def _raw(session: Session, files: list[str]):
    return session.create_dataframe(
        [[name, index] for index, name in enumerate(files)], schema=["silver_file", "source_line"]
    )


def test_every_file_landed_once_reconciles(session: Session) -> None:
    raw = _raw(session, ["sales/tenant_id=a/1.parquet"] * 2 + ["sales/tenant_id=a/2.parquet"])
    assert file_mismatches(session, "sales", raw, FILES) == []


def test_a_missing_file_and_a_doubled_file_are_reported(session: Session) -> None:
    raw = _raw(session, ["sales/tenant_id=a/1.parquet"] * 4)
    assert file_mismatches(session, "sales", raw, FILES) == [
        FileMismatch("sales", "sales/tenant_id=a/1.parquet", 2, 4),
        FileMismatch("sales", "sales/tenant_id=a/2.parquet", 1, 0),
    ]


def test_a_file_the_manifest_does_not_know_is_reported(session: Session) -> None:
    raw = _raw(session, ["sales/tenant_id=a/1.parquet"] * 2 + ["sales/tenant_id=a/2.parquet"])
    only_first = {"sales/tenant_id=a/1.parquet": 2}
    assert file_mismatches(session, "sales", raw, only_first) == [
        FileMismatch("sales", "sales/tenant_id=a/2.parquet", 0, 1)
    ]


def test_the_mismatch_message_is_one_line_naming_files_and_counts() -> None:
    mismatches = [
        FileMismatch("sales", "sales/tenant_id=a/1.parquet", 2, 4),
        FileMismatch("sales", "sales/tenant_id=a/9.parquet", 0, 1),
    ]
    assert mismatch_message(mismatches) == (
        "2 silver file(s) not landed exactly once: sales/tenant_id=a/1.parquet: 4 of 2 rows "
        "landed; sales/tenant_id=a/9.parquet: 1 rows landed, not in the manifest"
    )


def test_the_mismatch_message_names_the_first_files_and_counts_the_rest() -> None:
    mismatches = [FileMismatch("sales", f"sales/{n}.parquet", 1, 0) for n in range(8)]
    message = mismatch_message(mismatches)
    assert message.startswith("8 silver file(s) not landed exactly once: sales/0.parquet")
    assert "sales/4.parquet: 0 of 1 rows landed; and 3 more" in message
    assert "sales/5.parquet" not in message
