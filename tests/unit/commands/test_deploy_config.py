"""The configuration of a stack run (demo, bench, end-to-end tests): paths survive terraform's -chdir."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from scones.deploy import StackConfig


def test_relative_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `scones bench --out build/x` once handed terraform (run with -chdir=terraform/envs/local)
    # a var-file path relative to the wrong folder.
    monkeypatch.chdir(tmp_path)
    config = StackConfig(out=Path("build/bench"), data_dir=Path("prepared"))
    assert config.out == tmp_path / "build" / "bench"
    assert config.state_file == tmp_path / "build" / "bench" / "terraform.tfstate"
    assert config.tfvars_file.is_absolute() and config.data_dir == tmp_path / "prepared"
    assert config.env_dir.is_absolute() and config.source.is_absolute()
    assert replace(config, seed=3).out == config.out
    assert config.emulator_dir == config.out / "local"
