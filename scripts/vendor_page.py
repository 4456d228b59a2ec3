"""Refresh the planning page's vendored libraries from the npm registry.

    .venv/bin/python scripts/vendor_page.py

Packs each library ``forecast_hub/api/page_assets.py`` pins (``npm pack``),
keeps the files the page loads, the licence file and package.json, checks
the version npm gave, bundles Tabulator's core with the modules the grid
uses into one minified ES module (esbuild, installed from npm into a
scratch folder at its pinned version), and replaces
``forecast_hub/api/web/vendor/`` with the result. Needs node and npm; the
page itself needs neither, the result is committed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from forecast_hub.api.page_assets import (
    ESBUILD_VERSION,
    LIBRARIES,
    TABULATOR,
    TABULATOR_BUNDLE,
    TABULATOR_MODULES,
    VENDOR_DIR,
    Library,
)
from npm_package import check_version, extract


def _run(command: list[str], what: str, cwd: Path | None = None) -> str:
    """Run a command; its output, or SystemExit with its last line of errors."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    except FileNotFoundError as error:
        raise SystemExit(f"{command[0]} is not installed; install node and npm first") from error
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"{what} failed: {last}")
    return done.stdout


def _pack(library: Library, workdir: Path) -> Path:
    spec = f"{library.name}@{library.version}"
    command = ["npm", "pack", spec, "--json", "--ignore-scripts", "--pack-destination"]
    filename: str = json.loads(_run([*command, str(workdir)], f"npm pack {spec}"))[0]["filename"]
    return workdir / filename


def bundle_entry(modules: tuple[str, ...] = TABULATOR_MODULES) -> str:
    """The bundle's source: Tabulator's core with these modules registered."""
    imported = ", ".join(f"{name}Module" for name in modules)
    return (
        f'import {{ Tabulator, {imported} }} from "tabulator-tables";\n'
        f"Tabulator.registerModule([{imported}]);\n"
        "export { Tabulator };\n"
    )


def _bundle_tabulator(tarball: Path, workdir: Path, target: Path) -> None:
    """Tabulator's core and TABULATOR_MODULES, minified into target/<name>/TABULATOR_BUNDLE."""
    build = workdir / "bundle"
    build.mkdir()
    (build / "package.json").write_text('{"private": true}\n')
    spec = f"esbuild@{ESBUILD_VERSION}"
    _run(
        [
            "npm",
            "install",
            "--no-save",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            spec,
            str(tarball),
        ],
        f"npm install {spec}",
        cwd=build,
    )
    (build / "entry.js").write_text(bundle_entry())
    banner = (
        f"/* {TABULATOR.name} {TABULATOR.version} (MIT, see LICENSE): its core and the"
        f" modules {', '.join(TABULATOR_MODULES)}, bundled by esbuild {ESBUILD_VERSION}"
        " (scripts/vendor_page.py) */"
    )
    output = target / TABULATOR.name / TABULATOR_BUNDLE
    _run(
        [
            str(build / "node_modules" / ".bin" / "esbuild"),
            "entry.js",
            "--bundle",
            "--minify",
            "--format=esm",
            "--legal-comments=eof",
            f"--banner:js={banner}",
            f"--outfile={output}",
        ],
        "esbuild",
        cwd=build,
    )


def _unpack(library: Library, tarball: Path, target: Path) -> None:
    """The library's files, licence and package.json into target/<name>/."""
    folder = target / library.name
    files = (*library.files, library.licence, "package.json")
    extract(tarball, folder, files, f"{library.name}@{library.version}")
    check_version(folder, library.name, library.version)


def _readme(target: Path) -> None:
    lines = [
        "# Vendored libraries of the planning page",
        "",
        "Written by `scripts/vendor_page.py` from the pins in `../../page_assets.py`;",
        "do not edit. Each folder is one npm package at one version: the files the page",
        "loads, its licence file and its package.json. Of tabulator-tables the page loads",
        f"`{TABULATOR_BUNDLE}`: its core and the modules the grid uses",
        f"({', '.join(TABULATOR_MODULES)}), bundled by esbuild {ESBUILD_VERSION}.",
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
            tarball = _pack(library, workdir)
            _unpack(library, tarball, staged)
            if library is TABULATOR:
                _bundle_tabulator(tarball, workdir, staged)
            print(f"vendored {library.name}@{library.version}")
        _readme(staged)
        if vendor_dir.exists():
            shutil.rmtree(vendor_dir)
        shutil.copytree(staged, vendor_dir)
    print(f"vendor folder: {vendor_dir}")


if __name__ == "__main__":
    refresh()
