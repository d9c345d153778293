"""docs/reference/: every `scones` command, Make target and Terraform variable, generated from the code.

    python -m scones.toolchain.reference --write    # `make docs`: rewrite the files
    python -m scones.toolchain.reference --check    # the test and the commit hook: name each stale file

The commands come from the click objects (imported, never run), the targets from the Makefiles' `## `
comments (what `make help` prints), the variables from the .tf files (scones.toolchain.tf_declarations).
The output holds no date and no path of this machine, so the same checkout always writes the same files.
"""

from __future__ import annotations

import argparse
import difflib
import inspect
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import click

from scones.paths import repo_root
from scones.toolchain.makefile import MakeTarget, MakeVariable, help_targets
from scones.toolchain.tf_declarations import Output, Variable, outputs, variables

REFERENCE_DIR = Path("docs/reference")
REGENERATE = "`make docs` (`python -m scones.toolchain.reference --write`)"
ENV_ROOTS = ("local", "dev", "prod")
STACK_MODULE = "terraform/modules/stack"


def generated_note(source: str) -> str:
    return (
        f"> Generated from {source} by {REGENERATE}; do not edit it by hand. "
        "`tests/unit/toolchain/test_reference.py` fails when it is stale.\n"
    )


# ----------------------------------------------------------------------------------------- Markdown


_CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def prose(text: str) -> str:
    """Text as Markdown shows it literally: `<env>` and `*` escaped outside its code spans."""
    parts = []
    last = 0
    for span in _CODE_SPAN.finditer(text):
        parts.append(re.sub(r"([<*\\])", r"\\\1", text[last : span.start()]))
        parts.append(span.group(0))
        last = span.end()
    parts.append(re.sub(r"([<*\\])", r"\\\1", text[last:]))
    return "".join(parts)


def code(text: str) -> str:
    """An inline code span of `text`, fenced with more backticks than it holds."""
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; each cell on one line, its pipes escaped (GitHub's tables need it in code spans too)."""

    def cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(text) for text in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but - and _ dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


# ------------------------------------------------------------------------------------------ commands


def walk(command: click.Command, ctx: click.Context) -> Iterator[tuple[click.Command, click.Context]]:
    """The command and every subcommand below it, depth first, in the order `--help` lists them."""
    yield command, ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, click.Context(sub, info_name=name, parent=ctx, show_default=True))


def help_markdown(text: str) -> str:
    """click's help text as Markdown: paragraphs rewrapped, `\\b` paragraphs kept line by line."""
    text = inspect.cleandoc(text).split("\f", 1)[0]
    blocks = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = paragraph.splitlines()
        if lines and lines[0].strip() == "\b":
            blocks.append("```text\n" + "\n".join(lines[1:]) + "\n```")
        elif paragraph.strip():
            blocks.append(prose(" ".join(line.strip() for line in lines)))
    return "\n\n".join(blocks) + "\n"


def _type(param: click.Parameter, extra: dict[str, object]) -> str:
    kind = param.type
    if isinstance(param, click.Option) and param.is_flag and not param.count:
        described = "flag"
    elif isinstance(kind, click.Choice):
        described = "one of " + ", ".join(code(str(choice)) for choice in kind.choices)
    else:
        described = kind.name.removesuffix(" range")
        if "range" in extra:
            described += f" ({extra['range']})"
    if getattr(param, "multiple", False):
        described += ", repeatable"
    if param.nargs == -1:
        described += ", any number"
    return described


def _default(param: click.Parameter, extra: dict[str, object]) -> str:
    if isinstance(param, click.Option) and isinstance(param.show_default, str):
        return code(param.show_default)  # what the default stands for, e.g. <repo>/build/monitor
    if isinstance(param, click.Option):
        shown = str(extra.get("default", ""))
    else:
        default = param.default
        shown = (
            "" if default is None or callable(default) or not isinstance(default, str | int | float) else str(default)
        )
    return shown if not shown or shown.startswith("(") else code(shown)


def param_row(param: click.Parameter, ctx: click.Context) -> list[str]:
    extra: dict[str, object] = dict(param.get_help_extra(ctx)) if isinstance(param, click.Option) else {}
    if isinstance(param, click.Option):
        name = ", ".join(code(opt) for opt in param.opts)
        if param.secondary_opts:
            name += " / " + ", ".join(code(opt) for opt in param.secondary_opts)
    else:
        name = code(param.human_readable_name)
    envvars = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar or [])
    help_text = getattr(param, "help", None) or ""
    return [
        name,
        _type(param, extra),
        _default(param, extra),
        ", ".join(code(var) for var in envvars),
        "yes" if param.required else "",
        prose(" ".join(help_text.split())),
    ]


def commands_markdown(group: click.Group, name: str = "scones") -> str:
    """The reference of `name` and every command below it."""
    root = click.Context(group, info_name=name, show_default=True)
    commands = list(walk(group, root))
    contents = [
        [f"[{code(ctx.command_path)}](#{anchor(ctx.command_path)})", prose(command.get_short_help_str(limit=200))]
        for command, ctx in commands[1:]
    ]
    parts = [
        f"# {code(name)} commands\n",
        generated_note("the click commands (`python/scones/cli.py` and the modules it names)"),
        "Every command also takes `-h`/`--help`, which prints what this page shows for it.\n",
        table(["Command", "What it does"], contents),
    ]
    for command, ctx in commands:
        usage = " ".join([ctx.command_path, *command.collect_usage_pieces(ctx)])
        parts.append(f"## {code(ctx.command_path)}\n")
        if command.help:
            parts.append(help_markdown(command.help))
        parts.append(f"```text\n{usage}\n```\n")
        params = [param for param in command.params if not getattr(param, "hidden", False)]
        if params:
            header = ["Option or argument", "Type", "Default", "Environment", "Required", "Description"]
            parts.append(table(header, [param_row(param, ctx) for param in params]))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------- make


def _setting(variable: MakeVariable) -> str:
    """`NAME=default`, as it is set on the command line; a computed default is in the Variables table."""
    return code(variable.name if "$(" in variable.default else f"{variable.name}={variable.default}")


def make_markdown(targets: Sequence[MakeTarget], settable: Sequence[MakeVariable]) -> str:
    """The reference of the Make targets `make help` lists and the variables a command line can set."""
    by_name = {variable.name: variable for variable in settable}
    readers: dict[str, list[str]] = {variable.name: [] for variable in settable}
    for target in targets:
        for name in target.reads:
            readers[name].append(code(target.name))
    target_rows = [
        [
            code(f"make {target.name}"),
            prose(target.description),
            " ".join(_setting(by_name[name]) for name in target.reads),
            code(target.file),
        ]
        for target in targets
    ]
    variable_rows = [
        [
            code(variable.name),
            code(variable.default) if variable.default else "(empty)",
            code(variable.file),
            ", ".join(readers[variable.name]) or ("every recipe (exported)" if variable.exported else ""),
        ]
        for variable in settable
    ]
    return "\n".join(
        [
            "# Make targets\n",
            generated_note("the `## ` comments and `?=` variables of `Makefile` and `mk/*.mk`"),
            "`make help` lists the same targets. A variable is set on the command line, "
            "`make data DATA_BUCKET=my-bucket`; each shows here with its default.\n",
            "## Targets\n",
            table(["Target", "What it does", "Variables it reads", "Defined in"], target_rows),
            "## Variables\n",
            table(["Variable", "Default", "Declared in", "Read by"], variable_rows),
        ]
    )


# ----------------------------------------------------------------------------------------- terraform


def _inputs_table(declared: Sequence[Variable]) -> str:
    rows = [
        [
            code(variable.name),
            code(variable.type or "any"),
            "required" if variable.default is None else code(variable.default),
            prose(variable.description),
            "<br>".join(prose(message) for message in variable.validations),
        ]
        for variable in declared
    ]
    return table(["Name", "Type", "Default", "Description", "Validation error"], rows)


def _outputs_table(declared: Sequence[Output]) -> str:
    rows = [[code(out.name), prose(out.description), "yes" if out.sensitive else ""] for out in declared]
    return table(["Name", "Description", "Sensitive"], rows)


def variables_markdown(repo: Path, roots: Sequence[str] = ENV_ROOTS, module: str = STACK_MODULE) -> str:
    """The reference of the environment roots' variables and outputs and of the stack module's variables."""
    root_paths = [f"terraform/envs/{root}" for root in roots]
    parts = [
        "# Terraform variables\n",
        generated_note("the `variable` and `output` blocks of the environment roots and the stack module"),
        "The environment roots are what `make plan ENV=...` plans: their variables are what a "
        "`terraform.tfvars` (or `-var`) sets. Each calls the stack module with its own literals; the "
        "module's variables below are what a root (or your own root) can pass it.\n",
        "\n".join(f"- [{code(path)}](#{anchor(path)})" for path in [*root_paths, module]) + "\n",
    ]
    for path in root_paths:
        parts += [
            f"## {code(path)}\n",
            "### Inputs\n",
            _inputs_table(variables(repo / path)),
            "### Outputs\n",
            _outputs_table(outputs(repo / path)),
        ]
    parts += [
        f"## {code(module)}\n",
        f"Its outputs are listed in [its README](../../{module}/README.md#outputs).\n",
        "### Inputs\n",
        _inputs_table(variables(repo / module)),
    ]
    return "\n".join(parts)


# ------------------------------------------------------------------------------------------- the files


def _commands(repo: Path) -> str:
    from scones.cli import main

    return commands_markdown(main)


def _make(repo: Path) -> str:
    return make_markdown(*help_targets(repo))


def _index(repo: Path) -> str:
    lines = [
        "# Reference\n",
        generated_note("the code (`scones.toolchain.reference`)"),
        "- [commands.md](commands.md): every `scones` command and subcommand, with its usage, its options "
        "and arguments (type, default, environment variable) and its help.",
        "- [make.md](make.md): every Make target `make help` lists, the variables each one reads, and their defaults.",
        "- [variables.md](variables.md): every input variable of the environment roots "
        "(`terraform/envs/local`, `dev`, `prod`) and of the stack module, with types, defaults and "
        "validation messages, and the roots' outputs.",
    ]
    return "\n".join(lines) + "\n"


GENERATORS: dict[str, Callable[[Path], str]] = {
    "README.md": _index,
    "commands.md": _commands,
    "make.md": _make,
    "variables.md": variables_markdown,
}


def render(repo: Path) -> dict[Path, str]:
    """Every file of docs/reference/ (relative to the repository) and its text."""
    return {REFERENCE_DIR / name: generate(repo) for name, generate in GENERATORS.items()}


def stale(repo: Path, rendered: dict[Path, str] | None = None, context: int = 20) -> list[str]:
    """One message per file that differs from what the code generates, with the start of the diff."""
    found = []
    for relative, text in (render(repo) if rendered is None else rendered).items():
        path = repo / relative
        current = path.read_text() if path.is_file() else ""
        if current == text:
            continue
        diff = difflib.unified_diff(
            current.splitlines(), text.splitlines(), f"{relative} (committed)", f"{relative} (generated)", lineterm=""
        )
        lines = list(diff)
        shown = "\n".join(lines[:context]) + (
            f"\n... {len(lines) - context} more diff lines" if len(lines) > context else ""
        )
        state = "is stale" if path.is_file() else "is missing"
        found.append(f"{relative} {state}: run {REGENERATE}\n{shown}")
    return found


def write(repo: Path) -> list[Path]:
    """Write every file that changed; the ones written."""
    written = []
    for relative, text in render(repo).items():
        path = repo / relative
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written.append(relative)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the files of docs/reference/ that changed")
    mode.add_argument("--check", action="store_true", help="exit 1 naming each stale file (nothing written)")
    args = parser.parse_args(argv)
    repo = repo_root()
    if args.write:
        for path in write(repo):
            print(f"wrote {path}")
        return 0
    problems = stale(repo)
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
