"""Which files of a build go to the bucket and come back: those its publication.json lists."""

from __future__ import annotations

import json

import pytest

from forecast_hub.errors import UserError
from forecast_hub.objectstore.drafts import DRAFT_FILES, build_files


def _manifest(**fields: object) -> bytes:
    return json.dumps({"build_id": "b1", **fields}).encode("utf-8")


def test_the_listed_files_are_the_builds_files() -> None:
    listed = ["draft.parquet", "skus.parquet", "series_history.parquet"]
    assert build_files(_manifest(files=listed), "serving/b1/publication.json") == tuple(listed)


def test_a_build_published_before_the_list_has_the_draft_and_the_skus() -> None:
    assert build_files(_manifest(), "serving/b1/publication.json") == DRAFT_FILES


@pytest.mark.parametrize(
    "files", [["../CURRENT.parquet"], ["nested/draft.parquet"], ["publication.json"], "x", [1]]
)
def test_a_list_naming_anything_but_parquet_files_beside_it_is_refused(files: object) -> None:
    with pytest.raises(UserError, match="lists files that are not a build's Parquet files"):
        build_files(_manifest(files=files), "serving/b1/publication.json")


def test_a_manifest_that_is_not_json_is_refused() -> None:
    with pytest.raises(UserError, match=r"is not a build's publication\.json"):
        build_files(b"\xff{", "serving/b1/publication.json")
