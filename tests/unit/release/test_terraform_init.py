"""A release runs `terraform init` when the working directory needs it: on a fresh runner, and after
anything init reads or wrote changed; not on a directory initialised from the same inputs."""

from __future__ import annotations

import stat
from pathlib import Path

from scones.release.terraform import Terraform
from scones.release.workspace import workspace_for

# A stand-in terraform: logs its arguments; init writes the backend record, as terraform's does.
FAKE_TERRAFORM = """#!/bin/sh
echo "$*" >> "{log}"
case "$*" in
  *" init "*) mkdir -p "$TF_DATA_DIR" && echo '{{"backend": "local"}}' > "$TF_DATA_DIR/terraform.tfstate";;
esac
"""


def _terraform(tmp_path: Path) -> tuple[Terraform, Path, Path]:
    tree = tmp_path / "terraform"
    (tree / "envs" / "local").mkdir(parents=True)
    (tree / "envs" / "local" / "main.tf").write_text('module "stack" { source = "../../modules/stack" }\n')
    (tree / "modules" / "stack").mkdir(parents=True)
    (tree / "modules" / "stack" / "main.tf").write_text("")
    log, binary = tmp_path / "calls.log", tmp_path / "terraform-stand-in"
    binary.write_text(FAKE_TERRAFORM.format(log=log))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    workspace = workspace_for(
        "local", envs_dir=tree / "envs", out=tmp_path / "out", data_dir=tmp_path, state_dir=tmp_path / "state"
    )
    return Terraform(workspace, binary=str(binary)), tree, log


def _inits(log: Path) -> int:
    return sum(" init " in line for line in log.read_text().splitlines()) if log.is_file() else 0


def test_init_runs_on_a_fresh_directory_and_not_again_on_the_same_inputs(tmp_path: Path) -> None:
    terraform, tree, log = _terraform(tmp_path)
    assert terraform.ensure_initialised() and _inits(log) == 1  # a fresh runner: nothing initialised
    assert not terraform.ensure_initialised() and _inits(log) == 1
    # What a release writes into the root (the record's tfvars, plans) is not init's input.
    (tree / "envs" / "local" / "model.auto.tfvars.json").write_text('{"model_package_arn": null}')
    (tree / "envs" / "local" / "release.tfplan").write_text("plan")
    assert not terraform.ensure_initialised() and _inits(log) == 1


def test_init_runs_again_when_what_it_reads_or_wrote_changed(tmp_path: Path) -> None:
    terraform, tree, log = _terraform(tmp_path)
    terraform.ensure_initialised()
    # A module's configuration (a new module call or provider needs an init).
    (tree / "modules" / "stack" / "main.tf").write_text('module "more" { source = "../more" }\n')
    assert terraform.ensure_initialised() and _inits(log) == 2
    # The lock file (a provider upgrade) and a backend file.
    (tree / "envs" / "local" / ".terraform.lock.hcl").write_text('provider "registry.terraform.io/hashicorp/aws" {}\n')
    assert terraform.ensure_initialised() and _inits(log) == 3
    (tree / "envs" / "local" / "backend.hcl").write_text('bucket = "another"\n')
    assert terraform.ensure_initialised() and _inits(log) == 4
    # Another init of the directory (e.g. by hand, with another backend) rewrote the backend record.
    (tmp_path / "state" / ".terraform" / "terraform.tfstate").write_text('{"backend": "elsewhere"}')
    assert terraform.ensure_initialised() and _inits(log) == 5
    # The data directory gone (a fresh CI runner with the same checkout).
    for path in sorted((tmp_path / "state" / ".terraform").iterdir()):
        path.unlink()
    assert terraform.ensure_initialised() and _inits(log) == 6
    assert not terraform.ensure_initialised() and _inits(log) == 6
