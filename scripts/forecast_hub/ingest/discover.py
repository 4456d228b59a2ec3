"""The bronze files of a run, in arrival order, and whether each sits where files belong.

Client files sit in ``<bronze>/<tenant>/<feed>/``. A file elsewhere under a
feed folder, under a folder that is not a feed or not a valid tenant, or of
another type is still found, to be recorded as rejected with the reason;
entries that fit no tenant or feed folder at all are only named.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from forecast_hub.errors import UserError
from forecast_hub.feeds import FEEDS, TENANT_PATTERN
from forecast_hub.ingest.pipeline import Lineage
from forecast_hub.ingest.scan import FileScan

_CSV_SUFFIXES = (".csv", ".csv.gz")


class Problem(NamedTuple):
    """Why a file is rejected for where it is or what it is called."""

    code: str
    message: str


@dataclass(frozen=True)
class BronzeFile:
    path: Path
    relative: str
    tenant_id: str
    feed: str
    problem: Problem | None  # set when the file is rejected by its location

    def lineage(self, seq: int, scan: FileScan, ingested_at: str) -> Lineage:
        return Lineage(
            tenant_id=self.tenant_id,
            source_file=self.relative,
            source_file_seq=seq,
            file_sha256=scan.sha256,
            ingested_at=ingested_at,
            file_id=_file_id(self.relative, scan.sha256),
        )


class Discovery(NamedTuple):
    files: list[BronzeFile]  # in arrival order
    unknown: list[str]  # entries that fit no <tenant>/<feed>/ folder


def discover(bronze: Path) -> Discovery:
    """Every file under <bronze>/<tenant>/<feed>/, and the entries that fit nowhere.

    Names starting with a dot are ignored (they are not client drops).
    """
    if not bronze.is_dir():
        raise UserError(
            f"bronze folder {bronze} does not exist; run `forecast-hub generate` "
            f"or point --bronze / FORECAST_HUB_DATA_DIR at the client files"
        )
    files: list[BronzeFile] = []
    unknown: list[str] = []
    for tenant_dir in _visible(bronze):
        if not tenant_dir.is_dir():
            unknown.append(tenant_dir.relative_to(bronze).as_posix())
            continue
        tenant_ok = re.fullmatch(TENANT_PATTERN.strip("^$"), tenant_dir.name) is not None
        for feed_dir in _visible(tenant_dir):
            if not feed_dir.is_dir():
                unknown.append(feed_dir.relative_to(bronze).as_posix())
                continue
            for path in _walk_files(feed_dir):
                relative = path.relative_to(bronze).as_posix()
                files.append(
                    BronzeFile(
                        path,
                        relative,
                        tenant_dir.name,
                        feed_dir.name,
                        _location_problem(path, tenant_dir.name, feed_dir.name, tenant_ok),
                    )
                )
    files.sort(key=lambda f: (_mtime_ns(f.path), f.relative))
    return Discovery(files, unknown)


def file_size(path: Path) -> int:
    """The size for the progress bar; a file that cannot be read counts as empty."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _mtime_ns(path: Path) -> int:
    """Arrival order key; a file that cannot be read sorts first and fails on its own."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _walk_files(folder: Path) -> Iterator[Path]:
    for entry in _visible(folder):
        if entry.is_dir():
            yield from _walk_files(entry)
        else:
            yield entry


def _location_problem(path: Path, tenant_id: str, feed: str, tenant_ok: bool) -> Problem | None:
    if not tenant_ok:
        return Problem(
            "invalid_tenant",
            f"tenant folder {tenant_id!r} must match [a-z0-9_]{{1,32}}",
        )
    if feed not in FEEDS:
        return Problem(
            "unknown_feed",
            f"folder {feed!r} is not a feed; use one of {', '.join(FEEDS)}",
        )
    if path.parent.name != feed:
        return Problem("misplaced_file", "files must sit directly in the feed folder")
    if not path.name.lower().endswith(_CSV_SUFFIXES):
        return Problem("unsupported_file_type", "only .csv and .csv.gz files are ingested")
    return None


def _file_id(relative: str, sha256: str) -> str:
    """The name of a file's outputs: its name without suffixes, and its checksum's start."""
    name = relative.rsplit("/", 1)[-1]
    for suffix in (".gz", ".csv"):
        name = name.removesuffix(suffix).removesuffix(suffix.upper())
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) + "-" + sha256[:16]
