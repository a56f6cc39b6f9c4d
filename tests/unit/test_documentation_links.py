"""Every relative link in the README and docs/ leads somewhere, and README links each doc once."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(
    [REPOSITORY / "README.md", REPOSITORY / "frontend" / "README.md", *REPOSITORY.glob("docs/*.md")]
)
# [text](target) and ![alt](target), with an optional "title"; code spans and blocks removed.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)


def links_in(document: Path) -> list[str]:
    """The link targets written in a Markdown file, outside code."""
    return LINK.findall(CODE.sub("", document.read_text(encoding="utf-8")))


def anchors_of(document: Path) -> set[str]:
    """The fragment ids GitHub gives a Markdown file's headings."""
    text = re.sub(r"```.*?```", "", document.read_text(encoding="utf-8"), flags=re.DOTALL)
    anchors = set()
    for heading in HEADING.findall(text):
        plain = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
        anchors.add(re.sub(r"[^\w\- ]", "", plain).replace(" ", "-"))
    return anchors


def is_relative(target: str) -> bool:
    """Whether a link points into the repository (not a URL, a mail address or this page)."""
    return not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPOSITORY)))
def test_every_relative_link_resolves(document: Path) -> None:
    broken = []
    for target in filter(is_relative, links_in(document)):
        path, _, fragment = target.partition("#")
        destination = (document.parent / unquote(path)).resolve() if path else document
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif not destination.is_relative_to(REPOSITORY):
            broken.append(f"{target}: outside the repository")
        elif fragment and destination.suffix == ".md" and fragment not in anchors_of(destination):
            broken.append(f"{target}: no heading #{fragment}")
    assert broken == []


def test_the_readme_links_every_document_in_docs_exactly_once() -> None:
    links = [
        (REPOSITORY / target.partition("#")[0]).resolve()
        for target in filter(is_relative, links_in(REPOSITORY / "README.md"))
    ]
    for document in (REPOSITORY / "docs").glob("*.md"):
        assert links.count(document) == 1, document.name


def test_the_link_finder_sees_links_and_ignores_code() -> None:
    text = "see [a](docs/a.md#x) and ![b](b.png \"B\") but not `[c](c.md)` or https://x.example"
    assert LINK.findall(CODE.sub("", text)) == ["docs/a.md#x", "b.png"]
    assert not is_relative("https://stripe.com/docs") and is_relative("docs/api.md")
