"""Refresh the data docs' vendored scripts and stylesheets from the npm registry.

    .venv/bin/python scripts/vendor_datadocs.py

Packs each package that ``forecast_hub/quality/assets.py`` pins (``npm pack``),
keeps the files the pages load, the package's licence file and its
package.json, checks the hashes GX's templates pin, and replaces
``forecast_hub/quality/vendor/`` with the result. Needs node and npm.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from forecast_hub.quality.assets import PACKAGES, VENDOR_DIR, Package, sri
from npm_package import check_version, extract


def _pack(package: Package, workdir: Path) -> Path:
    spec = f"{package.name}@{package.version}"
    command = ["npm", "pack", spec, "--json", "--ignore-scripts"]
    command += ["--pack-destination", str(workdir)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise SystemExit("npm is not installed; install node and npm first") from error
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"npm pack {spec} failed: {last}")
    filename: str = json.loads(done.stdout)[0]["filename"]
    return workdir / filename


def _unpack(package: Package, tarball: Path, target: Path) -> None:
    """The package's wanted files, licence and package.json into target/<name>@<version>/."""
    wanted = [*package.files, "package.json", *([package.licence] if package.licence else [])]
    folder = target / package.folder
    extract(tarball, folder, wanted, package.folder)
    check_version(folder, package.name, package.version)
    for file, expected in package.integrity:
        actual = sri((folder / file).read_bytes(), expected.split("-", 1)[0])
        if actual != expected:
            raise SystemExit(f"{package.folder}/{file} is {actual}; GX's pages pin {expected}")


def _readme(target: Path) -> None:
    lines = [
        "# Vendored data docs assets",
        "",
        "Written by `scripts/vendor_datadocs.py` from the pins in `../assets.py`; do not edit.",
        "Each folder is one npm package at one version: the files the data docs load,",
        "its licence file and its package.json.",
        "",
        "| package | version | licence | licence file |",
        "| --- | --- | --- | --- |",
    ]
    for package in PACKAGES:
        declared = json.loads((target / package.folder / "package.json").read_text())
        licence_file = package.licence or "none shipped; package.json declares the licence"
        lines.append(
            f"| {package.name} | {package.version} | {declared.get('license')} | {licence_file} |"
        )
    (target / "README.md").write_text("\n".join(lines) + "\n")


def refresh(vendor_dir: Path = VENDOR_DIR) -> None:
    """Pack every pinned package and replace vendor_dir with what the pages need of them."""
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        staged = workdir / "vendor"
        staged.mkdir()
        for package in PACKAGES:
            _unpack(package, _pack(package, workdir), staged)
            print(f"vendored {package.folder}")
        _readme(staged)
        if vendor_dir.exists():
            shutil.rmtree(vendor_dir)
        shutil.copytree(staged, vendor_dir)
    print(f"vendor folder: {vendor_dir}")


if __name__ == "__main__":
    refresh()
