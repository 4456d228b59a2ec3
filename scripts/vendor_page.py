"""Refresh the planning page's vendored libraries from the npm registry.

    .venv/bin/python scripts/vendor_page.py

Packs each library ``forecast_hub/api/page_assets.py`` pins (``npm pack``),
keeps the files the page loads, the licence file and package.json, checks
the version npm gave, and replaces ``forecast_hub/api/web/vendor/`` with the
result. Needs node and npm.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from forecast_hub.api.page_assets import LIBRARIES, VENDOR_DIR, Library


def _pack(library: Library, workdir: Path) -> Path:
    spec = f"{library.name}@{library.version}"
    command = [
        "npm",
        "pack",
        spec,
        "--json",
        "--ignore-scripts",
        "--pack-destination",
        str(workdir),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise SystemExit("npm is not installed; install node and npm first") from error
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"npm pack {spec} failed: {last}")
    filename: str = json.loads(done.stdout)[0]["filename"]
    return workdir / filename


def _unpack(library: Library, tarball: Path, target: Path) -> None:
    """The library's files, licence and package.json into target/<name>/."""
    folder = target / library.name
    with tarfile.open(tarball) as archive:
        for file in (*library.files, library.licence, "package.json"):
            try:
                member = archive.extractfile(f"package/{file}")
            except KeyError:
                member = None
            if member is None:
                raise SystemExit(f"{library.name}@{library.version} has no file {file}")
            path = folder / file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(member.read())
    declared = json.loads((folder / "package.json").read_text())
    if declared.get("version") != library.version:
        raise SystemExit(
            f"npm gave {library.name} {declared.get('version')}, not {library.version}"
        )


def _readme(target: Path) -> None:
    lines = [
        "# Vendored libraries of the planning page",
        "",
        "Written by `scripts/vendor_page.py` from the pins in `../../page_assets.py`;",
        "do not edit. Each folder is one npm package at one version: the files the page",
        "loads, its licence file and its package.json.",
        "",
        "| package | version | licence | licence file |",
        "| --- | --- | --- | --- |",
    ]
    for library in LIBRARIES:
        declared = json.loads((target / library.name / "package.json").read_text())
        lines.append(
            f"| {library.name} | {library.version} | {declared.get('license')} |"
            f" {library.name}/{library.licence} |"
        )
    (target / "README.md").write_text("\n".join(lines) + "\n")


def refresh(vendor_dir: Path = VENDOR_DIR) -> None:
    """Pack every pinned library and replace vendor_dir with what the page needs of them."""
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        staged = workdir / "vendor"
        staged.mkdir()
        for library in LIBRARIES:
            _unpack(library, _pack(library, workdir), staged)
            print(f"vendored {library.name}@{library.version}")
        _readme(staged)
        if vendor_dir.exists():
            shutil.rmtree(vendor_dir)
        shutil.copytree(staged, vendor_dir)
    print(f"vendor folder: {vendor_dir}")


if __name__ == "__main__":
    refresh()
