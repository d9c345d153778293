"""What `make help` lists, read from the Makefiles: each target with a `## ` comment, and the `?=` variables
(the ones a user sets on the command line, `make data DATA_BUCKET=...`) that each such target reads.

A target reads a variable that its prerequisites, its recipe or the recipes of the prerequisites it builds
(rules without a `## ` comment of their own, order-only ones left out) refer to, directly or through other
variables (`TF_ROOT := terraform/envs/$(ENV)`). Nothing is run: this reads text, as `make help` does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# `make help`'s own pattern (Makefile): a rule line with `## ` and the text after its last `## `.
_HELP_RULE = re.compile(r"^([a-zA-Z_%-]+):(.*)## (.*)$")
_RULE = re.compile(r"^([^\s:=#][^:=#]*?)\s*&?::?(?!=)(.*)$")
_ASSIGNMENT = re.compile(r"^((?:(?:export|override)\s+)*)([A-Za-z_][A-Za-z0-9_]*)\s*(\?=|:=|::=|\+=|!=|=)\s*(.*)$")
_DEFINE = re.compile(r"^define\s+([A-Za-z_][A-Za-z0-9_]*)")
# $(NAME) and ${NAME}, not the shell's $$(command); function calls ($(if ...)) are filtered by name later.
_REFERENCE = re.compile(r"(?<!\$)\$[({]([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class MakeVariable:
    name: str
    default: str  # as written after `?=` ("" for an empty default)
    file: str  # relative to the repository: Makefile, mk/data.mk
    exported: bool = False  # `export NAME ?= ...`: every recipe's commands see it in their environment


@dataclass(frozen=True)
class MakeTarget:
    name: str
    description: str
    file: str
    reads: tuple[str, ...]  # names of `?=` variables, in the order the Makefiles declare them


@dataclass
class _Makefiles:
    definitions: dict[str, list[str]] = field(default_factory=dict)  # every variable -> its values' text
    settable: dict[str, MakeVariable] = field(default_factory=dict)  # the `?=` ones, in file order
    rules: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # target word -> (prerequisites, recipe)
    help_rules: list[tuple[str, str, str]] = field(default_factory=list)  # (target, description, file)


def makefiles(repo: Path) -> list[Path]:
    """The Makefile and mk/*.mk, in the order `make help` reads them (MAKEFILE_LIST)."""
    return [repo / "Makefile", *sorted((repo / "mk").glob("*.mk"))]


def _logical_lines(text: str) -> list[str]:
    """Lines with their backslash continuations joined."""
    lines: list[str] = []
    pending = ""
    for line in text.splitlines():
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        lines.append(pending + line)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def _read(repo: Path) -> _Makefiles:
    found = _Makefiles()
    for path in makefiles(repo):
        relative = path.relative_to(repo).as_posix()
        lines = _logical_lines(path.read_text())
        index = 0
        while index < len(lines):
            line = lines[index]
            index += 1
            if define := _DEFINE.match(line):
                body = []
                while index < len(lines) and lines[index].strip() != "endef":
                    body.append(lines[index])
                    index += 1
                index += 1
                found.definitions.setdefault(define.group(1), []).append("\n".join(body))
                continue
            if line.startswith("\t") or line.lstrip().startswith("#") or not line.strip():
                continue
            if assignment := _ASSIGNMENT.match(line):
                modifiers, name, operator, value = assignment.groups()
                found.definitions.setdefault(name, []).append(value)
                if operator == "?=" and name not in found.settable:
                    found.settable[name] = MakeVariable(name, value.strip(), relative, "export" in modifiers.split())
                continue
            if rule := _RULE.match(line):
                recipe = []
                while index < len(lines) and lines[index].startswith("\t"):
                    recipe.append(lines[index])
                    index += 1
                prerequisites = rule.group(2).split("## ", 1)[0] if "## " in rule.group(2) else rule.group(2)
                for target in rule.group(1).split():
                    found.rules.setdefault(target, []).append((prerequisites, "\n".join(recipe)))
                if help_rule := _HELP_RULE.match(line):
                    found.help_rules.append((help_rule.group(1), help_rule.group(3).strip(), relative))
    return found


def _variables_read(text: str, makefiles: _Makefiles) -> set[str]:
    """Every variable `text` refers to, and those their definitions refer to, transitively."""
    seen: set[str] = set()
    pending = list(_REFERENCE.findall(text))
    while pending:
        name = pending.pop()
        if name in seen or name not in makefiles.definitions:
            continue
        seen.add(name)
        for value in makefiles.definitions[name]:
            pending.extend(_REFERENCE.findall(value))
    return seen


def _rule_text(target: str, makefiles: _Makefiles, documented: set[str], seen: set[str]) -> str:
    """The prerequisites and recipes of `target`, and those of the undocumented rules it builds."""
    seen.add(target)
    parts = []
    for prerequisites, recipe in makefiles.rules.get(target, []):
        normal = prerequisites.split("|", 1)[0]  # order-only prerequisites are only built when missing
        parts += [prerequisites, recipe]
        for word in normal.split():
            if word in makefiles.rules and word not in documented and word not in seen:
                parts.append(_rule_text(word, makefiles, documented, seen))
    return "\n".join(parts)


def help_targets(repo: Path) -> tuple[list[MakeTarget], list[MakeVariable]]:
    """The targets `make help` lists (its order) and every `?=` variable (the Makefiles' order)."""
    read = _read(repo)
    documented = {name for name, _, _ in read.help_rules}
    order = list(read.settable)
    targets = []
    for name, description, file in read.help_rules:
        names = _variables_read(_rule_text(name, read, documented, set()), read)
        reads = tuple(variable for variable in order if variable in names)
        targets.append(MakeTarget(name, description, file, reads))
    return targets, list(read.settable.values())
