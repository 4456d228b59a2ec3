"""The documentation stands on its own in a clone of the repository.

Every relative link of README.md, CONTRIBUTING.md and docs/*.md resolves to
a file or folder inside the repository, every anchor names a heading of its
page, and no page points at a place outside the repository.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_CODE_SPAN = re.compile(r"(`+).*?\1")
_INLINE_LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# Places that exist only on some machine, never in a clone.
_OUTSIDE = re.compile(r"\.\./shared|\bshared/(?:spec|style)\b|(?<![\w.])/(?:work|tmp|home|Users)/")
_PARENT_PATH = re.compile(r"(?<![\w./])(?:\.\./)+[\w./-]*")


def documents(root: Path) -> list[Path]:
    pages = [root / "README.md", root / "CONTRIBUTING.md"]
    return pages + sorted((root / "docs").glob("*.md"))


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for _, line in _prose_lines(page.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _link_problem(page: Path, target: str, root: Path) -> str | None:
    if _SCHEME.match(target):
        return None  # a URL, not a path of the repository
    if target.startswith("/"):
        return f"{target}: an absolute path; link relative to the page"
    path_part, _, anchor = target.partition("#")
    destination = (page.parent / path_part) if path_part else page
    if not _inside(destination, root):
        return f"{target}: outside the repository"
    if not destination.exists():
        return f"{target}: no such file in the repository"
    if anchor:
        if destination.suffix != ".md" or not destination.is_file():
            return f"{target}: an anchor into something that is not a page"
        if anchor not in anchors(destination):
            return f"{target}: {destination.name} has no heading #{anchor}"
    return None


def problems(page: Path, root: Path) -> list[str]:
    """Every broken link, missing anchor and mention of a place outside ``root``."""
    text = page.read_text(encoding="utf-8")
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for mention in _OUTSIDE.findall(line):
            found.append(f"line {number}: {mention!r} is outside the repository")
        for mention in _PARENT_PATH.findall(line):
            if not _inside(page.parent / mention, root):
                found.append(f"line {number}: {mention!r} is outside the repository")
    for number, line in _prose_lines(text):
        prose = _CODE_SPAN.sub("", line)
        targets = _INLINE_LINK.findall(prose)
        if reference := _REFERENCE.match(prose):
            targets.append(reference.group(1))
        for target in targets:
            if problem := _link_problem(page, target, root):
                found.append(f"line {number}: {problem}")
    return found


@pytest.mark.parametrize("page", documents(REPO), ids=lambda page: page.name)
def test_every_link_resolves_inside_the_repository(page: Path) -> None:
    assert page.is_file(), f"{page.relative_to(REPO)} is missing"
    assert problems(page, REPO) == []


def test_each_contract_has_its_page() -> None:
    pages = {"api", "client-feeds", "commands", "ingest", "operations", "snowflake"}
    assert {f"{name}.md" for name in pages} <= {page.name for page in documents(REPO)}


def test_a_planted_broken_link_anchor_or_outside_path_is_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("# Guide\n\n## Known limits\n\nText.\n")
    (tmp_path / "CONTRIBUTING.md").write_text("See [the guide](docs/guide.md#known-limits).\n")
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Title\n\n"
        "[good](docs/guide.md) and [here](#title) and [web](https://example.org/x)\n"
        "[missing](docs/nothing.md)\n"
        "[bad anchor](docs/guide.md#no-such-heading)\n"
        "[escapes](../elsewhere.md)\n"
        "[absolute](/etc/passwd)\n"
        "The specs are in `../shared/spec/`.\n"
        "```\n[not a link](nowhere.md)\n```\n"
        "`[not a link either](nowhere.md)`\n"
    )
    found = problems(readme, tmp_path)
    assert found == [
        "line 6: '../elsewhere.md' is outside the repository",
        "line 8: '../shared' is outside the repository",
        "line 8: '../shared/spec/' is outside the repository",
        "line 4: docs/nothing.md: no such file in the repository",
        "line 5: docs/guide.md#no-such-heading: guide.md has no heading #no-such-heading",
        "line 6: ../elsewhere.md: outside the repository",
        "line 7: /etc/passwd: an absolute path; link relative to the page",
    ]
    assert problems(tmp_path / "CONTRIBUTING.md", tmp_path) == []
    assert problems(tmp_path / "docs" / "guide.md", tmp_path) == []


def test_anchors_follow_githubs_slugs(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# The `forecast-hub` API\n## Where the data lives\n## Notes\n## Notes\n"
        "```\n# not a heading\n```\n### emulator, snowflake\n"
    )
    assert anchors(page) == {
        "the-forecast-hub-api",
        "where-the-data-lives",
        "notes",
        "notes-1",
        "emulator-snowflake",
    }
