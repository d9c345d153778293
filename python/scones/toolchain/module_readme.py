"""Every Terraform module's README documents exactly its variables and outputs.

The README's `## Inputs` table (Name | Type | Default | Validation | Description) lists every
`variable` block and its `## Outputs` table every `output` block, by name in the first column.
`make lint` and the commit hook run this; `tests/terraform/test_static.py` asserts it.

    python -m scones.toolchain.module_readme terraform/modules/*
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from scones.toolchain.tf_declarations import DeclarationError, Kind, declared

INPUTS_HEADER = ["Name", "Type", "Default", "Validation", "Description"]


def readme_table(readme: str, heading: str) -> tuple[list[str], set[str]]:
    """Header cells and first-column names of the table under `## heading` (([], set()) if absent)."""
    if f"## {heading}\n" not in readme:
        return [], set()
    section = readme.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    if not rows:
        return [], set()
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    return header, {m.group(1) for row in rows[2:] if (m := re.match(r"\|\s*`([A-Za-z0-9_]+)`", row))}


def problems(module: Path) -> list[str]:
    """What the module's README gets wrong, one line each ([] when it is right)."""
    readme_path = module / "README.md"
    if not readme_path.is_file():
        return [f"{module}: no README.md"]
    readme = readme_path.read_text()
    found = []
    header, inputs = readme_table(readme, "Inputs")
    if header != INPUTS_HEADER:
        found.append(f"{readme_path}: the Inputs table's header must be {' | '.join(INPUTS_HEADER)}, not {header}")
    checks: tuple[tuple[Kind, set[str]], ...] = (("variable", inputs), ("output", readme_table(readme, "Outputs")[1]))
    for kind, documented in checks:
        try:
            actual = declared(module, kind)
        except DeclarationError as exc:
            return [*found, str(exc)]
        if missing := sorted(actual - documented):
            found.append(f"{readme_path}: {kind}s not documented: {', '.join(missing)}")
        if stale := sorted(documented - actual):
            found.append(f"{readme_path}: documents {kind}s the module does not have: {', '.join(stale)}")
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    # Called with changed files (the commit hook) or module folders: check each module once.
    modules = sorted({(path if path.is_dir() else path.parent) for path in map(Path, args)})
    found = [line for module in modules if list(module.glob("*.tf")) for line in problems(module)]
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
