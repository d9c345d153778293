"""Preflight of `make plan` / `make apply`: refuse variable files that set a variable the root does not declare.

Terraform only warns about such a value and plans without it, so a setting that an upgrade moved out of
the root's variables (into a literal of the root's `module "stack"` call) would silently stop applying.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

UPGRADE_NOTES = "docs/upgrading.md"
# The variable files Terraform loads by itself from a root directory.
AUTO_LOADED = ("terraform.tfvars", "terraform.tfvars.json", "*.auto.tfvars", "*.auto.tfvars.json")
_DECLARED = re.compile(r'^variable\s+"([A-Za-z_][A-Za-z0-9_-]*)"', re.MULTILINE)
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)\s*=(?!=)")
_HEREDOC = re.compile(r"<<-?\s*([A-Za-z_][A-Za-z0-9_]*)[ \t]*\n")


@dataclass(frozen=True)
class UndeclaredVariable:
    file: Path
    name: str

    def message(self) -> str:
        return (
            f"{self.file} sets `{self.name}`, which {self.file.parent} does not declare: Terraform would ignore "
            f"it with only a warning. See {UPGRADE_NOTES} for where its value lives now, and remove it from the file."
        )


def declared_variables(root: Path) -> set[str]:
    names: set[str] = set()
    for path in sorted(root.glob("*.tf")):
        names.update(_DECLARED.findall(path.read_text()))
    for path in sorted(root.glob("*.tf.json")):
        names.update(json.loads(path.read_text()).get("variable", {}))
    return names


def _skip_string(text: str, index: int) -> int:
    """Index just past the double-quoted string starting at index (template interpolations included)."""
    index += 1
    depth = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if text.startswith("${", index) or text.startswith("%{", index):
            depth += 1
            index += 2
            continue
        if char == "}" and depth:
            depth -= 1
        elif char == '"' and not depth:
            return index + 1
        index += 1
    return index


def hcl_top_level_names(text: str) -> Iterator[str]:
    """Names assigned at the top level of an HCL variable file (nested object keys are not variables)."""
    index, depth, line_start = 0, 0, True
    while index < len(text):
        char = text[index]
        if char == '"':
            index, line_start = _skip_string(text, index), False
            continue
        if char == "#" or text.startswith("//", index):
            index = text.find("\n", index)
            index = len(text) if index == -1 else index
            continue
        if text.startswith("/*", index):
            end = text.find("*/", index + 2)
            index = len(text) if end == -1 else end + 2
            continue
        heredoc = _HEREDOC.match(text, index)
        if heredoc:
            end = re.compile(rf"^[ \t]*{re.escape(heredoc.group(1))}[ \t]*$", re.MULTILINE).search(text, heredoc.end())
            index = len(text) if end is None else end.end()
            continue
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        elif char == "\n":
            line_start = True
        elif not char.isspace():
            assignment = _ASSIGNMENT.match(text, index) if depth == 0 and line_start else None
            line_start = False
            if assignment:
                yield assignment.group(1)
                index = assignment.end()
                continue
        index += 1


def variable_files(root: Path) -> list[Path]:
    return sorted({path for pattern in AUTO_LOADED for path in root.glob(pattern) if path.is_file()})


def set_variables(path: Path) -> list[str]:
    text = path.read_text()
    if path.name.endswith(".json"):
        return list(json.loads(text))
    return list(hcl_top_level_names(text))


def undeclared(root: Path, extra_files: Sequence[Path] = ()) -> list[UndeclaredVariable]:
    """Every variable a file Terraform would load (or one given) sets that the root does not declare."""
    declared = declared_variables(root)
    return [
        UndeclaredVariable(path, name)
        for path in [*variable_files(root), *extra_files]
        for name in set_variables(path)
        if name not in declared
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="Terraform root directory, e.g. terraform/envs/dev")
    parser.add_argument("--var-file", type=Path, action="append", default=[], help="another variable file to check")
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"{args.root} is not a directory")
    problems = undeclared(args.root, args.var_file)
    for problem in problems:
        print(problem.message(), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
