"""Every relative link in the documentation resolves: README.md, CONTRIBUTING.md and docs/*.md.

Markdown links and images, to a file or folder of the repository and to a heading (``#anchor``)
of the same or another Markdown file, with the anchors GitHub generates from headings. Links to
other sites are not followed (the tests stay offline). Code blocks and code spans are skipped.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
import re

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted(
    [REPO / "README.md", REPO / "CONTRIBUTING.md", *(REPO / "docs").glob("*.md")],
)

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$")
SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# The target of an inline link or image: "](target)" or "](target "title")".
INLINE_TARGET = re.compile(r"\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(\S+)")
HTML_ID = re.compile(r"<a\s[^>]*\b(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)
EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)")


def _prose_lines(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered from 1."""
    lines: list[tuple[int, str]] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if match := FENCE.match(line):
            marker = match[1]
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
            continue
        if fence is None:
            lines.append((number, line))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its rendered text, lower case, punctuation dropped except
    hyphens and underscores, every space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor of a Markdown file: one per heading (repeats get -1, -2, ...), and HTML ids."""
    found: set[str] = set()
    seen: Counter[str] = Counter()
    previous = ""
    for _, line in _prose_lines(text):
        heading: str | None = None
        if match := ATX_HEADING.match(line):
            heading = match[2] or ""
        elif (
            SETEXT_UNDERLINE.match(line)
            and previous.strip()
            and not previous.lstrip().startswith(("|", "#", "-", "*", ">"))
        ):
            heading = previous.strip()
        if heading is not None:
            base = slug(heading)
            found.add(base if not seen[base] else f"{base}-{seen[base]}")
            seen[base] += 1
        found.update(HTML_ID.findall(line))
        previous = line
    return found


def links(text: str) -> list[tuple[int, str]]:
    """Every link target in the prose, with its line number."""
    targets: list[tuple[int, str]] = []
    for number, line in _prose_lines(text):
        prose = CODE_SPAN.sub("", line)
        targets.extend((number, match[1].strip("<>")) for match in INLINE_TARGET.finditer(prose))
        if match := REFERENCE_DEFINITION.match(prose):
            targets.append((number, match[1].strip("<>")))
    return targets


def broken_links(document: Path, repo: Path = REPO) -> list[str]:
    """The relative links of one document that lead nowhere, as "file:line: target (why)"."""
    problems: list[str] = []
    for number, target in links(document.read_text(encoding="utf-8")):
        where = f"{document.relative_to(repo)}:{number}: {target}"
        if not target:
            problems.append(f"{where} (empty link)")
            continue
        if EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        destination = (document.parent / path_part).resolve() if path_part else document
        if not destination.is_relative_to(repo):
            problems.append(f"{where} (outside the repository)")
        elif not destination.exists():
            problems.append(f"{where} (no such file)")
        elif anchor:
            if destination.suffix != ".md" or not destination.is_file():
                problems.append(f"{where} (an anchor into something that is not Markdown)")
            elif anchor not in anchors(destination.read_text(encoding="utf-8")):
                problems.append(f"{where} (no such heading in {destination.relative_to(repo)})")
    return problems


def test_the_documents_are_there() -> None:
    names = {path.relative_to(REPO).as_posix() for path in DOCUMENTS}
    assert {"README.md", "CONTRIBUTING.md", "docs/vebus.md", "docs/marstek.md"} <= names


@pytest.mark.parametrize(
    "document", DOCUMENTS, ids=[path.relative_to(REPO).as_posix() for path in DOCUMENTS]
)
def test_every_relative_link_resolves(document: Path) -> None:
    assert broken_links(document) == []


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Before you start: enable the Open API", "before-you-start-enable-the-open-api"),
        ("What is written to the unit", "what-is-written-to-the-unit"),
        ("Victron over MK3 (USB serial)", "victron-over-mk3-usb-serial"),
        ("The `scripts/test` parts", "the-scriptstest-parts"),
        ("A [link](x.md) and *emphasis*", "a-link-and-emphasis"),
        ("Energy → dashboard", "energy--dashboard"),
        ("snake_case stays", "snake_case-stays"),
    ],
)
def test_slugs_follow_github(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_a_broken_link_is_found(tmp_path: Path) -> None:
    """The checker can fail: each kind of broken link in a small tree is reported."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text(
        "# Other\n\n## Same\n\n## Same\n\nSetext\n------\n", encoding="utf-8"
    )
    (tmp_path / "image.png").write_bytes(b"")
    document = tmp_path / "README.md"
    document.write_text(
        "# Title\n\n"
        "[fine](docs/other.md#same-1) [fine](docs/other.md#setext) ![fine](image.png)\n"
        "[fine](#title) [fine](https://example.com/missing) [fine](docs/)\n"
        "`[not a link](nowhere.md)`\n"
        "```\n[not a link](nowhere.md)\n```\n"
        "[missing file](docs/missing.md)\n"
        "![missing image](docs/missing.png)\n"
        "[missing heading](docs/other.md#same-2)\n"
        "[missing anchor here](#nowhere)\n"
        "[anchor into an image](image.png#x)\n"
        "[reference]: ../outside.md\n",
        encoding="utf-8",
    )
    assert broken_links(document, repo=tmp_path) == [
        "README.md:9: docs/missing.md (no such file)",
        "README.md:10: docs/missing.png (no such file)",
        "README.md:11: docs/other.md#same-2 (no such heading in docs/other.md)",
        "README.md:12: #nowhere (no such heading in README.md)",
        "README.md:13: image.png#x (an anchor into something that is not Markdown)",
        "README.md:14: ../outside.md (outside the repository)",
    ]
