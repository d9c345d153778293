"""Every relative link of the README and the docs leads somewhere: the file exists, and an anchor into a
Markdown file names one of its headings (as GitHub makes anchors of them). Documentation moved between
files keeps its readers only if the links move with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [
    REPO / "README.md",
    *sorted((REPO / "docs").rglob("*.md")),
    REPO / "python" / "scones" / "model" / "RECIPE.md",
    *sorted((REPO / "terraform" / "modules").glob("*/README.md")),
]
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^\s*```.*?^\s*```", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")


def anchors(markdown: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but hyphens and underscores dropped, spaces as hyphens."""
    text = _FENCE.sub("", markdown.read_text())
    found = set()
    for heading in re.findall(r"^#{1,6} +(.+?) *$", text, re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(slug)
    return found


def links(markdown: Path) -> list[str]:
    return [
        target
        for target in _LINK.findall(_CODE_SPAN.sub("", _FENCE.sub("", markdown.read_text())))
        if not re.match(r"[a-z]+:", target)  # http:, https:, mailto:
    ]


CASES = [pytest.param(doc, target, id=f"{doc.relative_to(REPO)}: {target}") for doc in DOCS for target in links(doc)]


def test_the_docs_have_relative_links() -> None:
    assert len(CASES) > 50


@pytest.mark.parametrize(("doc", "target"), CASES)
def test_every_relative_link_resolves(doc: Path, target: str) -> None:
    path, _, anchor = target.partition("#")
    destination = (doc.parent / path).resolve() if path else doc
    assert destination.exists(), f"{target}: no such file"
    if anchor and destination.suffix == ".md":
        assert anchor in anchors(destination), f"{target}: no heading #{anchor} in {destination.name}"


def test_anchors_follow_github_s_rules(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Run the demo\n## `scones bench`\n### What it costs\n```sh\n# not a heading\n```\n")
    assert anchors(page) == {"run-the-demo", "scones-bench", "what-it-costs"}
