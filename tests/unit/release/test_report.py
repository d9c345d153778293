"""The release record: report.json after every stage, summary.md for a pull request, and which run a
re-run resumes."""

from __future__ import annotations

import json
from pathlib import Path

from scones.release.report import Run, new_run, summary_markdown, unfinished_run

INPUTS = {"model_data_url": "s3://b/models/m/model.tar.gz", "model_image_uri": None, "epochs": None}


def _finished_release(out: Path) -> Run:
    run = new_run(out / "local", INPUTS)
    run.record_stage("train", "skipped", 0.01, "releasing s3://b/models/m/model.tar.gz (--model-data-url)")
    run.record_stage("evaluate", "done", 7.5, "accuracy 0.9100", {"accuracy": 0.91})
    run.set(
        candidate={
            "model_data_url": "s3://b/models/m/model.tar.gz",
            "source": "--model-data-url",
            "metrics": {"accuracy": 0.91, "coverage": 0.65, "accepted_accuracy": 0.98},
        },
        deployed={"model_data_url": "s3://b/models/old/model.tar.gz", "metrics": {"accuracy": 0.9}},
        gate={
            "passed": True,
            "compared_with_deployed": True,
            "checks": [{"metric": "accuracy", "kind": "floor", "value": 0.91, "required": 0.85, "passed": True}],
        },
        plan={"headline": "1 to update, 2 to replace", "markdown": "**Plan:** 1 to update, 2 to replace\n"},
        verification={
            "endpoint_name": "scones-dev-classifier",
            "status": "InService",
            "endpoint_config_name": "scones-dev-classifier-2026",
        },
        smoke={"passed": True, "outcomes": {}, "line": "4 executions", "captured": 4, "captures_expected": 4},
    )
    run.finish("released")
    return run


def test_every_stage_is_in_the_report_with_its_number_outcome_and_time(tmp_path: Path) -> None:
    run = _finished_release(tmp_path)
    report = json.loads(run.report_file.read_text())
    assert report["status"] == "released" and report["inputs"] == INPUTS
    assert report["stages"]["evaluate"] == {
        "number": 3,
        "outcome": "done",
        "seconds": 7.5,
        "detail": "accuracy 0.9100",
        "result": {"accuracy": 0.91},
    }


def test_the_summary_shows_metrics_side_by_side_gate_plan_checks_and_timings(tmp_path: Path) -> None:
    summary = (_finished_release(tmp_path).folder / "summary.md").read_text()
    assert "**released**" in summary
    assert "| accuracy | 0.9100 | 0.9000 |" in summary
    assert "| coverage | 0.6500 | - |" in summary  # the deployed model registered no coverage
    assert "Gate: **passed**" in summary and "- accuracy floor: 0.9100 vs 0.8500" in summary
    assert "**Plan:** 1 to update, 2 to replace" in summary
    assert "Verification: `scones-dev-classifier` InService on `scones-dev-classifier-2026`" in summary
    assert "Smoke test: **passed**: 4 executions; 4 of 4 capture records" in summary
    assert "| 3 | evaluate | done | 7.5 | accuracy 0.9100 |" in summary


def test_a_failed_release_says_why_first() -> None:
    summary = summary_markdown({"env": "prod", "run": "r", "status": "failed", "error": "version 3 is not approved"})
    assert summary.splitlines()[:3] == ["### Release `prod` r: **failed**", "", "> version 3 is not approved"]


def test_only_the_latest_run_is_resumed_and_only_when_it_did_not_end(tmp_path: Path) -> None:
    out = tmp_path / "local"
    assert unfinished_run(out) is None
    ended = _finished_release(tmp_path)
    assert unfinished_run(out) is None  # released: a new release starts afresh
    failed = new_run(out, INPUTS)
    failed.finish("failed", "terraform apply failed")
    resumed = unfinished_run(out)
    assert resumed is not None and resumed.folder == failed.folder
    assert resumed.result("evaluate") is None and Run(ended.folder, ended.data).result("evaluate") == {"accuracy": 0.91}
    new_run(out, INPUTS).finish("refused", "gate")
    assert unfinished_run(out) is None  # the latest ended: the failed one before it is not picked up


def test_two_runs_in_one_second_get_their_own_folders(tmp_path: Path) -> None:
    assert new_run(tmp_path / "dev", INPUTS).folder != new_run(tmp_path / "dev", INPUTS).folder
