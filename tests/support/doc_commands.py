"""The command lines of the documentation: every line of a fenced `sh`, `bash`, `shell` or `console` block of
README.md and docs/*.md, and the alternatives its comment offers (`# or: make lambdas`).

The examples' convention (docs/commands.md, the introduction): `<name>` is a value of the reader's, `[...]` an
optional part. A line is checked with SAMPLES' value for each placeholder and with its optional parts in.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))
SHELL_LANGUAGES = frozenset({"sh", "bash", "shell", "console"})
CHECKED = frozenset({"scones", "make"})

# A sample value for each placeholder the examples use; a new placeholder needs one here.
SAMPLES = {
    "account": "123456789012",
    "region": "eu-west-1",
    "bucket": "my-data-bucket",
    "data-bucket": "scones-dev-data-123456789012-eu-west-1",
    "capture-bucket": "scones-dev-capture-123456789012-eu-west-1",
    "prefix": "scones-dev-classifier",
    "role-arn": "arn:aws:iam::123456789012:role/scones-dev-sagemaker",
    "api-url": "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/v1",
    "api-key": "0123456789abcdefghij0123456789abcdefghij",
    "state-machine-arn": "arn:aws:states:eu-west-1:123456789012:stateMachine:scones-dev-classify-image",
    "batch-state-machine-arn": "arn:aws:states:eu-west-1:123456789012:stateMachine:scones-dev-classify-batch",
    "job-name": "scones-pytorch-20261122100000",
    "function": "classify-image",
    "endpoint": "scones-local-classifier",
    "env": "dev",
    "n": "3",
    "id": "1",
    "time": "2026-01-01T12:05:00Z",
}

_FENCE = re.compile(r"^\s*```\s*(\w*)\s*$")
_PLACEHOLDER = re.compile(r"<([a-z][a-z0-9-]*)>")
_ALTERNATIVE = re.compile(r"#\s*or:\s*((?:scones|make)\b[^:#]*)")


@dataclass(frozen=True)
class DocCommand:
    doc: str  # README.md, docs/emulator.md
    line: int  # where the command starts, 1-based
    text: str  # as written

    @property
    def argv(self) -> list[str]:
        """The words the shell would pass, placeholders filled in and optional parts opened."""
        unknown = set(_PLACEHOLDER.findall(self.text)) - set(SAMPLES)
        if unknown:
            raise KeyError(f"{self}: no sample value for {', '.join(sorted(unknown))} (tests/support/doc_commands.py)")
        filled = _PLACEHOLDER.sub(lambda m: SAMPLES[m.group(1)], self.text)
        return [word.removeprefix("[").removesuffix("]") for word in shlex.split(filled, comments=True)]

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: {self.text}"


def shell_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, logical line) of the shell blocks of one Markdown file; continuations joined."""
    language: str | None = None
    pending: tuple[int, str] | None = None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = _FENCE.match(line)
        if fence:
            language = None if language is not None else fence.group(1)
            continue
        if language not in SHELL_LANGUAGES:
            continue
        text = line.strip()
        if language == "console":
            if not text.startswith("$ "):
                continue
            text = text[2:]
        start, before = pending if pending else (number, "")
        if text.endswith("\\"):
            pending = (start, before + text[:-1] + " ")
            continue
        pending = None
        yield start, before + text


def doc_commands() -> list[DocCommand]:
    """Every `scones` and `make` command of the docs' shell blocks, with the `# or:` alternatives."""
    found = []
    for path in DOCS:
        doc = str(path.relative_to(REPO))
        for number, line in shell_lines(path):
            candidates = [line.split(" #")[0].strip(), *_ALTERNATIVE.findall(line)]
            for candidate in candidates:
                if candidate.split(" ", 1)[0] in CHECKED:
                    found.append(DocCommand(doc, number, candidate.strip()))
    return found


def make_dry_run(*args: str) -> subprocess.CompletedProcess[str]:
    """`make -n ARGS` in the checkout, as a user would type it: without the flags of a `make` this suite may
    run under (`make test`), which would otherwise reach it through MAKEFLAGS and change its output."""
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    return subprocess.run(
        ["make", "--no-print-directory", "-n", *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
