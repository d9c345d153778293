"""terraform on a release's environment root: init, plan to a file, show it, apply that file, outputs.

The apply takes the saved plan and nothing else: what was reviewed is what changes ("Saved plan
files", https://developer.hashicorp.com/terraform/cli/commands/plan#out-filename; a saved plan is
applied without a prompt and takes no -var options).

`terraform init` runs when the working directory needs it, not at every release: it costs more than a
second of CPU (it checks every provider package against the lock file) and changes nothing on a
directory initialised from the same configuration. Init is repeatable and changes nothing in that case
("terraform init", https://developer.hashicorp.com/terraform/cli/commands/init: "It is safe to run this
command multiple times"), so skipping it is right exactly when its inputs are those of the init that
wrote the directory: the init options, the backend files, every .tf of the tree the root's modules come
from, the lock files, the terraform binary and its CLI configuration, and what that init wrote (the
backend record, the modules' manifest). A fingerprint of these is kept in the data directory after each
init; a fresh CI runner has none, and any change makes the release init again.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from scones.release.errors import StackNotAppliedError, TerraformCommandError
from scones.release.workspace import Workspace
from scones.toolchain.binary import find_terraform, go_runtime_settings

# The data directory's record of the last init's fingerprint, and the files of the tree that feed it
# (configuration, lock files, backend files; not tfvars, plans or docs, which init never reads).
INIT_RECORD = "scones-init.sha256"
INIT_INPUTS = (".tf", ".tf.json", ".hcl")


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
        self._init_record().write_text(self._init_fingerprint())

    def ensure_initialised(self) -> bool:
        """`terraform init` unless the data directory was initialised from the same inputs; True when it ran."""
        record = self._init_record()
        if record.is_file() and record.read_text() == self._init_fingerprint():
            return False
        self.init()
        return True

    def _data_dir(self) -> Path:
        return Path(self.env.get("TF_DATA_DIR") or self.workspace.env_dir / ".terraform")

    def _init_record(self) -> Path:
        return self._data_dir() / INIT_RECORD

    def _init_fingerprint(self) -> str:
        """What an init of this root depends on and what it wrote (the module docstring lists them)."""
        digest = hashlib.sha256()
        binary = Path(self.binary).resolve()
        stat = binary.stat() if binary.is_file() else None
        settings = [str(binary), stat and [stat.st_size, stat.st_mtime_ns], self.workspace.init_args()]
        settings.append(self.env.get("TF_CLI_CONFIG_FILE"))
        digest.update(json.dumps(settings).encode())
        data_dir = self._data_dir()
        tree = self.workspace.env_dir.parents[1]  # terraform/: the roots and the modules they call
        files = [path for path in tree.rglob("*") if path.name.endswith(INIT_INPUTS) and ".terraform" not in path.parts]
        files += [Path(self.env["TF_CLI_CONFIG_FILE"])] if self.env.get("TF_CLI_CONFIG_FILE") else []
        files += [data_dir / "terraform.tfstate", data_dir / "modules" / "modules.json"]
        for path in sorted(files):
            digest.update(f"\0{path}\0".encode())
            digest.update(path.read_bytes() if path.is_file() else b"(none)")
        return digest.hexdigest()

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
