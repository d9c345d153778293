"""The `variable` and `output` blocks a Terraform module or root declares, as written in its .tf files.

One reader for every tool that documents or checks a module's interface: the module READMEs' check
(scones.toolchain.module_readme) and the generated reference (scones.toolchain.reference). Values come back
as Terraform source text (`"scones"`, `null`, `list(string)`), the way a reader of the .tf file sees them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Kind = Literal["variable", "output"]
# python-hcl2 marks the bodies of blocks with this key; it is no attribute of the block.
_BLOCK_MARK = "__is_block__"


@dataclass(frozen=True)
class Variable:
    name: str
    type: str | None  # None: no type constraint (Terraform's `any`)
    default: str | None  # None: required (no default); "null" is a default of null
    description: str
    validations: tuple[str, ...]  # the error_message of each validation block
    sensitive: bool = False

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class Output:
    name: str
    description: str
    sensitive: bool = False


class DeclarationError(ValueError):
    """A .tf file that python-hcl2 cannot parse."""


def _files(module: Path, kind: Kind) -> list[Path]:
    # Only files that declare such a block at all are parsed: parsing costs ~0.1 s per 300 lines.
    pattern = re.compile(rf'^{kind}\s+"', re.MULTILINE)
    return [path for path in sorted(module.glob("*.tf")) if pattern.search(path.read_text())]


def _blocks(path: Path, kind: Kind) -> Iterator[tuple[str, Mapping[str, Any]]]:
    import hcl2  # the dev tools' dependency (scones[plan-testing]); imported where it is needed

    try:
        parsed = hcl2.loads(path.read_text())
    except Exception as exc:  # python-hcl2 raises lark's many exception types
        raise DeclarationError(f"{path}: cannot be parsed ({exc.__class__.__name__}: {exc})") from exc
    for entry in parsed.get(kind, []):
        for label, body in entry.items():
            yield _string(label), body


def _string(value: str) -> str:
    """The text of an HCL string literal as python-hcl2 returns it (quoted, escapes kept)."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return str(json.loads(value))  # HCL's escapes are JSON's (\n \" \\ \uNNNN)
        except ValueError:
            return value[1:-1]
    return value


def source_text(value: Any) -> str:
    """A value python-hcl2 parsed, written back as Terraform source (on one line)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # `${expr}` is how python-hcl2 returns an expression that is not a literal (a type, a function call).
        return value[2:-1] if value.startswith("${") and value.endswith("}") else value
    if isinstance(value, list):
        return "[" + ", ".join(source_text(item) for item in value) + "]"
    if isinstance(value, dict):
        items = [f"{key} = {source_text(item)}" for key, item in value.items() if key != _BLOCK_MARK]
        return "{" + ", ".join(items) + "}"
    return str(value)


def variables(module: Path) -> list[Variable]:
    """Every `variable` block of the module's .tf files, in file order."""
    found = []
    for path in _files(module, "variable"):
        for name, body in _blocks(path, "variable"):
            validations = body.get("validation", [])
            found.append(
                Variable(
                    name=name,
                    type=source_text(body["type"]) if "type" in body else None,
                    default=source_text(body["default"]) if "default" in body else None,
                    description=_string(body.get("description", '""')),
                    validations=tuple(_string(rule.get("error_message", '""')) for rule in validations),
                    sensitive=body.get("sensitive") is True,
                )
            )
    return found


def outputs(module: Path) -> list[Output]:
    """Every `output` block of the module's .tf files, in file order."""
    return [
        Output(name=name, description=_string(body.get("description", '""')), sensitive=body.get("sensitive") is True)
        for path in _files(module, "output")
        for name, body in _blocks(path, "output")
    ]


def declared(module: Path, kind: Kind) -> set[str]:
    """Names of the module's `variable` or `output` blocks."""
    return {block.name for block in (variables(module) if kind == "variable" else outputs(module))}
