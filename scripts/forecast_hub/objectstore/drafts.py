"""Published drafts in object storage: what a build uploads and an API fetches.

A build's folder goes to ``serving/<build_id>/`` in the bucket, every file
first, and the ``serving/CURRENT`` pointer last, conditionally: on the ETag
it had when the build started (or only if absent), so two builds publishing
at once cannot interleave; the one that loses stops with a message. An API
whose data folder lacks the bucket's current build downloads it into its own
``serving/`` the way a local build writes it (a hidden staging folder renamed
into place, then the local CURRENT switched atomically), and serves it.

Which files a build has, ``publication.json`` says (``files``: the draft,
the SKUs and the planning page's tables); it is uploaded after them and
fetched before them.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from forecast_hub.errors import UserError
from forecast_hub.objectstore.client import ObjectStore, Overtaken

log = logging.getLogger("forecast_hub.objectstore")

POINTER_NAME = "serving/CURRENT"
MANIFEST = "publication.json"
# The data files of a build whose publication.json does not list them.
DRAFT_FILES = ("draft.parquet", "skus.parquet")


def _build_name(build_id: str, file: str) -> str:
    return f"serving/{build_id}/{file}"


@dataclass(frozen=True)
class PointerLease:
    """The bucket's pointer as a build found it: the condition of its final write."""

    etag: str | None


def read_pointer(store: ObjectStore) -> tuple[str | None, PointerLease]:
    """The build the bucket's CURRENT names (None if none yet) and its ETag."""
    found = store.get(POINTER_NAME)
    if found is None:
        return None, PointerLease(None)
    return found.body.decode("utf-8").strip() or None, PointerLease(found.etag)


def build_files(manifest: bytes, where: str) -> tuple[str, ...]:
    """The data files a build's publication.json lists, each a plain Parquet file name."""
    try:
        files = json.loads(manifest.decode("utf-8")).get("files", DRAFT_FILES)
    except (UnicodeDecodeError, ValueError, AttributeError):
        raise UserError(f"{where} is not a build's publication.json") from None
    if not isinstance(files, list | tuple) or not all(
        isinstance(name, str) and name.endswith(".parquet") and name == Path(name).name
        for name in files
    ):
        raise UserError(f"{where} lists files that are not a build's Parquet files")
    return tuple(files)


def upload_build(store: ObjectStore, folder: Path, lease: PointerLease) -> None:
    """Upload a published build folder, then move the bucket's pointer to it.

    UserError when another build moved the pointer since ``lease`` was read.
    """
    build_id = folder.name
    manifest = folder / MANIFEST
    for file in (*build_files(manifest.read_bytes(), str(manifest)), MANIFEST):
        store.put_file(_build_name(build_id, file), folder / file)
    body = (build_id + "\n").encode("utf-8")
    try:
        if lease.etag is None:
            store.put(POINTER_NAME, body, if_absent=True)
        else:
            store.put(POINTER_NAME, body, if_match=lease.etag)
    except Overtaken as error:
        raise UserError(
            f"another build published to {store.where(POINTER_NAME)} while this one ran;"
            " this build's files are uploaded but not current: build again"
        ) from error
    log.info("published build %s to %s", build_id, store.where(f"serving/{build_id}/"))


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def switch_local_pointer(serving_dir: Path, build_id: str) -> None:
    """Point the local CURRENT at a build folder already in place, atomically."""
    pointer = serving_dir / ".CURRENT.tmp"
    pointer.write_text(build_id + "\n", encoding="utf-8")
    _fsync(pointer)
    os.replace(pointer, serving_dir / "CURRENT")
    _fsync(serving_dir)


def _fetch_file(store: ObjectStore, build_id: str, file: str) -> bytes:
    found = store.get(_build_name(build_id, file), bulk=True)
    if found is None:
        raise UserError(
            f"{store.where(POINTER_NAME)} names build {build_id}, whose {file} is missing"
        )
    return found.body


def _write_synced(path: Path, body: bytes) -> None:
    path.write_bytes(body)
    _fsync(path)


def fetch_current_build(store: ObjectStore, serving_dir: Path) -> str | None:
    """Make the bucket's current build the local current one; its id, None if none.

    A build already in the local folder is not downloaded again.
    """
    build_id, _ = read_pointer(store)
    if build_id is None:
        return None
    target = serving_dir / build_id
    if not (target / MANIFEST).exists():
        serving_dir.mkdir(parents=True, exist_ok=True)
        staging = serving_dir / f".fetching-{build_id}"
        staging.mkdir(exist_ok=True)
        manifest = _fetch_file(store, build_id, MANIFEST)
        for file in build_files(manifest, store.where(_build_name(build_id, MANIFEST))):
            _write_synced(staging / file, _fetch_file(store, build_id, file))
        _write_synced(staging / MANIFEST, manifest)
        _fsync(staging)
        staging.rename(target)
        log.info("fetched build %s from %s", build_id, store.url)
    try:
        local = (serving_dir / "CURRENT").read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        local = None
    if local != build_id:
        switch_local_pointer(serving_dir, build_id)
    return build_id
