"""The plugin as a team meets it: a pytest run in a project of its own, through the pytest11 entry point."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scones.plan_testing import Planner, ToolMissing
from scones.plan_testing.emulator import PlanEmulator


def run_pytest(project: Path, test: str) -> subprocess.CompletedProcess[str]:
    (project / "test_team.py").write_text(textwrap.dedent(test))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_root_that_cannot_be_planned_offline_fails_in_one_line_and_starts_no_emulator(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text('module "stack" {\n  source = "git::https://example.com/stack.git?ref=v1"\n}\n')
    result = run_pytest(
        tmp_path,
        f"""
        def test_plan(plan, scones_emulator):
            try:
                plan({str(root)!r})
            finally:
                assert not scones_emulator.started
        """,
    )
    assert result.returncode == 1, result.stdout
    failure = [line for line in result.stdout.splitlines() if "RootNotPlannable" in line]
    # The failure itself, and pytest's short summary of it.
    assert failure[0].startswith("RootNotPlannable: ") and "remote module source module.stack" in failure[0]
    assert len(failure) == 2 and failure[1].startswith("FAILED test_team.py::test_plan"), result.stdout
    assert "Traceback" not in result.stdout


def test_a_session_without_plans_prints_no_summary_and_starts_nothing(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "def test_nothing(scones_planner):\n    assert not scones_planner.emulator.started\n")
    assert result.returncode == 0, result.stdout
    assert "scones plan-testing" not in result.stdout


def test_no_terraform_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import scones.toolchain.binary

    monkeypatch.setattr(scones.toolchain.binary, "find_terraform", lambda: None)
    planner = Planner(PlanEmulator(), tmp_path)
    with pytest.raises(ToolMissing, match=r"no terraform: put terraform >= 1\.10 on PATH or set TERRAFORM"):
        planner.terraform()


def test_no_provider_mirror_and_no_registry_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import scones.toolchain.cli_config as cli_config

    monkeypatch.delenv("TF_CLI_CONFIG_FILE", raising=False)
    monkeypatch.setattr(cli_config, "find_mirror", lambda extra=(): None)
    monkeypatch.setattr(cli_config, "registry_reachable", lambda timeout=5.0: False)
    with pytest.raises(ToolMissing, match=r"no filesystem mirror holding terraform-provider-aws.*is not reachable"):
        Planner(PlanEmulator(), tmp_path).environment()


def test_the_shell_cannot_change_a_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "terraform.tfrc"
    config.write_text("")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(config))
    for name in ("TF_VAR_capacity", "TF_CLI_ARGS_plan", "TF_WORKSPACE", "AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.setenv(name, "ambient")
    env = Planner(PlanEmulator(), tmp_path).environment()
    assert not {"TF_VAR_capacity", "TF_CLI_ARGS_plan", "TF_WORKSPACE", "AWS_PROFILE", "AWS_ENDPOINT_URL"} & set(env)
    # A team's own CLI configuration (mirror, plugin cache) is kept.
    assert env["TF_CLI_CONFIG_FILE"] == str(config)
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
