"""Resuming a release: a re-run continues the environment's unfinished run of the same inputs, and takes
the finished results of the stages that cost money or time instead of doing them again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from scones.paths import repo_root
from scones.release.config import load_config
from scones.release.errors import TerraformCommandError
from scones.release.pipeline import Release, ReleaseRequest
from scones.release.workspace import workspace_for

URL = "s3://b/models/m/model.tar.gz"


def _release(tmp_path: Path, request: ReleaseRequest, lines: list[str]) -> Release:
    workspace = workspace_for("local", envs_dir=repo_root() / "terraform" / "envs", out=tmp_path, data_dir=tmp_path)
    config = load_config(workspace.config_file)
    # No stage of these tests reaches Terraform or AWS.
    return Release(workspace, config, request, session=None, terraform=object(), echo=lines.append)  # type: ignore[arg-type]


def _attempt(tmp_path: Path, calls: list[str], *, fail_at: str | None, url: str = URL) -> Release:
    """One attempt: train and evaluate (costly, reusable), then plan, which fails when asked to."""
    release = _release(tmp_path, ReleaseRequest(model_data_url=url), [])
    release.open_run()

    def body(name: str) -> Any:
        def run() -> tuple[str, str, Any]:
            calls.append(name)
            if name == fail_at:
                raise TerraformCommandError("terraform plan failed (exit 1)")
            return "done", name, {"stage": name}

        return run

    try:
        release.stage("train", body("train"), reuse=True)
        release.stage("evaluate", body("evaluate"), reuse=True)
        release.stage("plan", body("plan"))
    except click.ClickException as exc:
        release.run.finish("failed", exc.message)
    else:
        release.run.finish("released")
    return release


def test_a_rerun_after_a_failure_resumes_without_repeating_the_costly_stages(tmp_path: Path) -> None:
    calls: list[str] = []
    first = _attempt(tmp_path, calls, fail_at="plan")
    assert first.run.data["status"] == "failed" and first.run.data["stages"]["plan"]["outcome"] == "failed"
    second = _attempt(tmp_path, calls, fail_at=None)
    assert second.run.folder == first.run.folder  # the same run, continued
    assert calls == ["train", "evaluate", "plan", "plan"]  # training and evaluation once
    assert second.run.data["status"] == "released"
    assert second.run.data["stages"]["plan"]["outcome"] == "done"


def test_a_release_that_ended_is_not_resumed(tmp_path: Path) -> None:
    calls: list[str] = []
    first = _attempt(tmp_path, calls, fail_at=None)
    second = _attempt(tmp_path, calls, fail_at=None)
    assert second.run.folder != first.run.folder
    assert calls == ["train", "evaluate", "plan"] * 2


def test_a_rerun_with_other_inputs_starts_afresh_and_closes_the_unfinished_run(tmp_path: Path) -> None:
    calls: list[str] = []
    first = _attempt(tmp_path, calls, fail_at="plan")
    second = _attempt(tmp_path, calls, fail_at=None, url="s3://b/models/other/model.tar.gz")
    assert second.run.folder != first.run.folder
    assert calls == ["train", "evaluate", "plan"] * 2
    assert json.loads(first.run.report_file.read_text())["status"] == "abandoned"
