"""scones.toolchain.reference: docs/reference/ is what the code generates, and what the code adds shows up in it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from scones.toolchain import reference
from scones.toolchain.makefile import help_targets
from scones.toolchain.reference import commands_markdown, make_markdown, stale, variables_markdown

REPO = Path(__file__).resolve().parents[3]


def test_the_committed_reference_is_what_the_code_generates() -> None:
    # On failure: `make docs`, then review and commit docs/reference/.
    assert stale(REPO) == []


def test_make_help_lists_the_targets_the_reference_documents() -> None:
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    done = subprocess.run(["make", "--no-print-directory", "help"], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    listed = [re.sub(r"\x1b\[[0-9;]*m", "", line).split()[0] for line in done.stdout.splitlines() if line.strip()]
    targets, _ = help_targets(REPO)
    assert [target.name for target in targets] == listed
    assert {"docs", "help", "test-%", "plan"} <= set(listed)


# ----------------------------------------------------------------------------------------- --check


def test_check_names_a_stale_file_and_shows_the_difference(tmp_path: Path) -> None:
    (tmp_path / "docs/reference").mkdir(parents=True)
    (tmp_path / "docs/reference/make.md").write_text("# Make targets\n\n| `make old` |\n")
    rendered = {
        Path("docs/reference/make.md"): "# Make targets\n\n| `make new` |\n",
        Path("docs/reference/x.md"): "x\n",
    }
    stale_file, missing_file = stale(tmp_path, rendered)
    assert stale_file.startswith("docs/reference/make.md is stale: run `make docs`")
    assert "-| `make old` |" in stale_file and "+| `make new` |" in stale_file
    assert missing_file.startswith("docs/reference/x.md is missing")


def test_write_then_check_passes_and_an_edit_fails_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SCONES_REPO", str(tmp_path))
    monkeypatch.setattr(reference, "render", lambda repo: {Path("docs/reference/commands.md"): "# generated\n"})
    assert reference.main(["--check"]) == 1
    assert reference.main(["--write"]) == 0
    assert (tmp_path / "docs/reference/commands.md").read_text() == "# generated\n"
    assert reference.main(["--check"]) == 0
    (tmp_path / "docs/reference/commands.md").write_text("# edited by hand\n")
    capsys.readouterr()
    assert reference.main(["--check"]) == 1
    assert "docs/reference/commands.md is stale" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------- commands


def toy_cli(*extra: click.Option) -> click.Group:
    @click.group()
    def toy() -> None:
        """A toy CLI."""

    @toy.group("store")
    def store() -> None:
        """Keep things."""

    @store.command("put")
    @click.argument("key")
    @click.option("--ttl", type=click.IntRange(min=1), default=60, help="Seconds it lives.")
    @click.option("--mode", type=click.Choice(["fast", "safe"]), default="safe", help="How it is written.")
    @click.option("--bucket", envvar="TOY_BUCKET", required=True, help="Where it goes in terraform/envs/<env>.")
    def put(key: str, ttl: int, mode: str, bucket: str) -> None:
        """Put KEY into the store.

        \b
        toy store put k --bucket b
        toy store put k --bucket b --ttl 5
        """

    for option in extra:
        put.params.append(option)
    return toy


def test_every_command_and_option_is_documented_with_its_usage_type_default_and_environment() -> None:
    text = commands_markdown(toy_cli(), "toy")
    assert "[`toy store put`](#toy-store-put) | Put KEY into the store. |" in text
    assert "## `toy store`\n" in text and "## `toy store put`\n" in text
    assert "```text\ntoy store put [OPTIONS] KEY\n```" in text
    assert "| `KEY` | text |  |  | yes |  |" in text
    assert "| `--ttl` | integer (x>=1) | `60` |  |  | Seconds it lives. |" in text
    assert "| `--mode` | one of `fast`, `safe` | `safe` |  |  | How it is written. |" in text
    # <env> would be read as an HTML tag: it is escaped.
    assert "| `--bucket` | text |  | `TOY_BUCKET` | yes | Where it goes in terraform/envs/\\<env>. |" in text
    # A \b paragraph keeps its lines.
    assert "```text\ntoy store put k --bucket b\ntoy store put k --bucket b --ttl 5\n```" in text


def test_a_new_option_shows_up() -> None:
    before = commands_markdown(toy_cli(), "toy")
    flag = click.Option(["--dry-run/--no-dry-run"], default=False, help="Say what it would do.")
    after = commands_markdown(toy_cli(flag), "toy")
    row = "| `--dry-run` / `--no-dry-run` | flag | `no-dry-run` |  |  | Say what it would do. |"
    assert row not in before and row in after


def test_the_output_is_the_same_every_time() -> None:
    assert commands_markdown(toy_cli(), "toy") == commands_markdown(toy_cli(), "toy")


# --------------------------------------------------------------------------------------------- make

MAKEFILE = """\
BIN := .venv/bin
PYTHON ?= python3
STAMP := .venv/stamp
WHERE := build/$(ENV)

$(STAMP): pyproject.toml
\t$(PYTHON) -m venv .venv

.PHONY: build
build: $(STAMP) ## Build it into build/<env>
\t$(BIN)/tool --out $(WHERE) $$(date +%s)

internal:
\techo not listed $(COLOUR)

include $(wildcard mk/*.mk)
"""

AREA_MK = """\
# An area.
ENV ?= local
COLOUR ?= blue
export GOGC ?= 400

paint: | $(STAMP) ## Paint it (COLOUR=blue)
\t$(BIN)/paint --colour $(COLOUR) \\
\t  --env $(ENV)
"""


def toy_makefiles(tmp_path: Path, extra: str = "") -> Path:
    (tmp_path / "mk").mkdir()
    (tmp_path / "Makefile").write_text(MAKEFILE)
    (tmp_path / "mk" / "area.mk").write_text(AREA_MK + extra)
    return tmp_path


def test_targets_are_documented_with_the_variables_they_read_and_their_defaults(tmp_path: Path) -> None:
    text = make_markdown(*help_targets(toy_makefiles(tmp_path)))
    # build reads ENV through WHERE, and PYTHON through the rule of its prerequisite $(STAMP).
    assert "| `make build` | Build it into build/\\<env> | `PYTHON=python3` `ENV=local` | `Makefile` |" in text
    # An order-only prerequisite (| $(STAMP)) only runs when missing: its variables are not counted.
    assert "| `make paint` | Paint it (COLOUR=blue) | `ENV=local` `COLOUR=blue` | `mk/area.mk` |" in text
    assert "internal" not in text  # no `## ` comment: `make help` does not list it
    assert "| `COLOUR` | `blue` | `mk/area.mk` | `paint` |" in text
    assert "| `GOGC` | `400` | `mk/area.mk` | every recipe (exported) |" in text


def test_a_new_target_and_variable_show_up(tmp_path: Path) -> None:
    extra = "\nSIZE ?= 3\n.PHONY: shrink\nshrink: ## Make it smaller (SIZE=3)\n\techo $(SIZE)\n"
    text = make_markdown(*help_targets(toy_makefiles(tmp_path, extra)))
    assert "| `make shrink` | Make it smaller (SIZE=3) | `SIZE=3` | `mk/area.mk` |" in text
    assert "| `SIZE` | `3` | `mk/area.mk` | `shrink` |" in text


# ---------------------------------------------------------------------------------------- terraform

ROOT_VARIABLES = """\
variable "region" {
  description = "Region of the stack."
  type        = string
}

variable "retention_days" {
  description = "Days | kept."
  type        = number
  default     = 30

  validation {
    condition     = var.retention_days > 0
    error_message = "retention_days must be positive."
  }
}
"""

ROOT_OUTPUTS = """\
output "api_key" {
  description = "The key."
  value       = "k"
  sensitive   = true
}
"""

STACK_VARIABLES = """\
variable "tags" {
  description = "Tags for <every> resource."
  type        = map(string)
  default     = {}
}
"""


def toy_terraform(tmp_path: Path, extra: str = "") -> Path:
    root = tmp_path / "terraform/envs/dev"
    root.mkdir(parents=True)
    (root / "variables.tf").write_text(ROOT_VARIABLES + extra)
    (root / "outputs.tf").write_text(ROOT_OUTPUTS)
    stack = tmp_path / "terraform/modules/stack"
    stack.mkdir(parents=True)
    (stack / "variables.tf").write_text(STACK_VARIABLES)
    return tmp_path


def test_variables_are_documented_with_type_default_description_and_validation(tmp_path: Path) -> None:
    text = variables_markdown(toy_terraform(tmp_path), roots=("dev",))
    assert "| `region` | `string` | required | Region of the stack. |  |" in text
    row = "| `retention_days` | `number` | `30` | Days \\| kept. | retention_days must be positive. |"
    assert row in text
    assert "| `api_key` | The key. | yes |" in text
    assert "| `tags` | `map(string)` | `{}` | Tags for \\<every> resource. |  |" in text
    assert "- [`terraform/envs/dev`](#terraformenvsdev)" in text


def test_a_new_variable_shows_up(tmp_path: Path) -> None:
    extra = '\nvariable "kms_key_arn" {\n  description = "A key."\n  type = string\n  default = null\n}\n'
    text = variables_markdown(toy_terraform(tmp_path, extra), roots=("dev",))
    assert "| `kms_key_arn` | `string` | `null` | A key. |  |" in text
