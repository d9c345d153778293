"""terraform on a release's environment root: init, plan to a file, show it, apply that file, outputs.

The apply takes the saved plan and nothing else: what was reviewed is what changes ("Saved plan
files", https://developer.hashicorp.com/terraform/cli/commands/plan#out-filename; a saved plan is
applied without a prompt and takes no -var options).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from scones.release.errors import StackNotAppliedError, TerraformCommandError
from scones.release.workspace import Workspace
from scones.toolchain.binary import find_terraform, go_runtime_settings


class Terraform:
    def __init__(self, workspace: Workspace, binary: str | None = None) -> None:
        found = binary or find_terraform()
        if found is None:
            raise TerraformCommandError("no terraform: run through `make` (it installs one when none is on PATH)")
        self.workspace = workspace
        self.binary = found
        self.env = {**os.environ, **go_runtime_settings(), **workspace.terraform_env()}

    def _run(self, *args: str, log: Path | None = None, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        cmd = [self.binary, f"-chdir={self.workspace.env_dir}", *args]
        result = subprocess.run(cmd, env=self.env, text=True, capture_output=True, check=False)
        if log is not None:
            log.write_text(result.stdout + result.stderr)
        if result.returncode not in ok:
            tail = (result.stderr or result.stdout).strip()[-3000:]
            where = f" (log: {log})" if log is not None else ""
            raise TerraformCommandError(f"terraform {args[0]} failed (exit {result.returncode}){where}:\n{tail}")
        return result

    def init(self) -> None:
        self._run("init", "-input=false", "-no-color", *self.workspace.init_args())

    def plan(self, plan_file: Path, *, destroy: bool = False) -> bool:
        """Write the plan to `plan_file`; True when it changes anything."""
        args = ["plan", "-input=false", "-no-color", "-detailed-exitcode", f"-out={plan_file}"]
        args += ["-destroy"] if destroy else []
        result = self._run(*args, *self.workspace.plan_args(), log=plan_file.with_suffix(".log"), ok=(0, 2))
        return result.returncode == 2

    def show_json(self, plan_file: Path) -> dict[str, Any]:
        return dict(json.loads(self._run("show", "-json", str(plan_file)).stdout))

    def apply(self, plan_file: Path) -> None:
        self._run("apply", "-input=false", "-no-color", str(plan_file), log=plan_file.with_suffix(".apply.log"))

    def outputs(self) -> dict[str, Any]:
        raw = json.loads(self._run("output", "-json").stdout or "{}")
        return {name: value["value"] for name, value in raw.items()}

    def stack(self) -> dict[str, Any]:
        """The root's `stack` output: what the state records (docs/model-record.md)."""
        stack = self.outputs().get("stack")
        if not isinstance(stack, dict) or not stack.get("data_bucket_name"):
            raise StackNotAppliedError(
                f"environment {self.workspace.env!r} has no stack in its Terraform state yet: "
                f"apply it once first (make apply ENV={self.workspace.env})"
            )
        return stack
