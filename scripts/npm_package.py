"""Files out of an `npm pack` tarball, for the scripts that vendor front-end libraries."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterable
from pathlib import Path


def extract(tarball: Path, folder: Path, files: Iterable[str], label: str) -> None:
    """Each of ``files`` (paths inside the package) into ``folder``; SystemExit naming
    ``label`` and the file when the package lacks one."""
    with tarfile.open(tarball) as archive:
        for file in files:
            try:
                member = archive.extractfile(f"package/{file}")
            except KeyError:
                member = None
            if member is None:
                raise SystemExit(f"{label} has no file {file}")
            path = folder / file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(member.read())


def check_version(folder: Path, name: str, version: str) -> None:
    """SystemExit unless the extracted package.json declares ``version``."""
    declared = json.loads((folder / "package.json").read_text())
    if declared.get("version") != version:
        raise SystemExit(f"npm gave {name} {declared.get('version')}, not {version}")
