"""The benchmark's arithmetic, its verdicts against the goals, and what it deploys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scones import bench
from scones.bench import GOALS, SEEDS, BenchError, check_outcomes, format_table, guard_figures, percentile
from scones.deploy import StackConfig
from scones.evaluation.gate import share
from scones.workflow import ExecutionResult, Outcome, classify


@pytest.mark.parametrize("q", [0, 25, 50, 95, 100])
def test_percentile_matches_numpy(q: float) -> None:
    values = [120.0, 80.0, 95.5, 300.0, 101.0, 99.0, 87.0]
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)


def test_low_confidence_rejections_count_as_normal_runs_other_failures_do_not() -> None:
    def ended(status: str, error: str | None = None) -> ExecutionResult:
        described = {"status": status, "executionArn": f"arn:{status}:{error}", "error": error, "cause": "why"}
        return classify("data/test/bicycle/x.png", {k: v for k, v in described.items() if v is not None})

    succeeded, rejected = ended("SUCCEEDED"), ended("FAILED", "ThresholdConfidenceNotMetError")
    assert (succeeded.outcome, rejected.outcome) == (Outcome.SUCCEEDED, Outcome.LOW_CONFIDENCE)
    check_outcomes([succeeded, rejected])
    with pytest.raises(BenchError, match="ImageNotFoundError"):
        check_outcomes([succeeded, ended("FAILED", "ImageNotFoundError")])
    with pytest.raises(BenchError, match="TIMED_OUT"):
        check_outcomes([ended("TIMED_OUT")])
    with pytest.raises(BenchError, match="RUNNING"):  # still running when the wait ended
        check_outcomes([ended("RUNNING")])


def _gate(synthetic_passing: int = 4, natural_passing: int = 40) -> dict:
    """`scones evaluate`'s gate figures (scones.evaluation.evaluate) for 220 synthetic and 134 natural
    report images and a test split of 200."""

    def ood(passing: int, count: int) -> dict:
        return {
            "split": "report",
            "count": count,
            "flagged": count - passing,
            "without_guard": share(np.arange(count) < count - 10),
            "with_guard": share(np.arange(count) < passing),
            "by_group": {},
        }

    return {
        "threshold": 0.93,
        "checked": True,
        "in_distribution": {
            "count": 200,
            "flagged": 3,
            "without_guard": {"coverage": 0.8, "accepted": 160, "accepted_accuracy": 1.0},
            "with_guard": {"coverage": 0.79, "accepted": 158, "accepted_accuracy": 1.0},
        },
        "out_of_distribution": {"synthetic": ood(synthetic_passing, 220), "natural": ood(natural_passing, 134)},
    }


def _results(gate: dict | None = None, **overrides: float | None) -> dict:
    results = {
        "test_accuracy": 0.97,
        "coverage_at_threshold": 0.9,
        "accepted_accuracy": 0.995,
        **guard_figures(gate or _gate()),
        "threshold": 0.93,
        "serving_ms_per_image": 8.6,
        "train_seconds": 150.0,
        "train_peak_rss_mb": 600.0,
        "workflow_p50_ms": 90.0,
        "workflow_p95_ms": 140.0,
        "api_p50_ms": 120.0,
        "api_p95_ms": 180.0,
        "api_rps_50": 25.0,
        "batch_images_per_second": 30.0,
        "batch_map_images_per_second": 150.0,
        "apply_seconds": 25.0,
        "seeds": SEEDS,
    }
    results.update(overrides)
    return results


def test_table_shows_every_goal_met_and_the_seeds_beside_ours() -> None:
    table = format_table(_results())
    assert "MISSED" not in table
    assert table.count(" ok") == len(GOALS)
    assert "0.81 (val)" in table  # the seeds only ever reported validation accuracy


def test_table_flags_a_missed_goal() -> None:
    slow = _results(workflow_p50_ms=400.0, test_accuracy=0.9, apply_seconds=75.0, serving_ms_per_image=13.0)
    missed = [line.split()[0] for line in format_table(slow).splitlines() if "MISSED" in line]
    assert missed == ["test_accuracy", "serving_ms_per_image", "workflow_p50_ms", "apply_seconds"]


def test_table_shows_the_guard_figures_with_intervals_and_the_issue_targets() -> None:
    results = _results()
    assert results["ood_synthetic_passing"] == pytest.approx(4 / 220)
    assert results["ood_natural_passing_without_guard"] == pytest.approx(124 / 134)
    assert results["ood_guard_checked"] is True and results["test_flagged"] == 3
    rows = {line.split()[0]: line for line in format_table(results).splitlines()}
    low, high = results["ood_synthetic_passing_interval95"]
    assert f"0.018 [{low:.3f}, {high:.3f}]" in rows["ood_synthetic_passing"]
    assert "<= 0.05 ok" in rows["ood_synthetic_passing"]
    assert "<= 0.35 ok" in rows["ood_natural_passing"]
    assert ">= 0.78 ok" in rows["coverage_with_guard"] and ">= 0.99 ok" in rows["accepted_accuracy_with_guard"]
    assert rows["ood_natural_passing_without_guard"].split()[1] == f"{124 / 134:.3f}"  # no target of its own
    assert "not checked" not in format_table(results)
    unchecked = _gate()
    unchecked["checked"] = False
    assert format_table(_results(unchecked)).endswith(
        "out-of-distribution guard: not checked (the artifact gives no such answer); with guard = without"
    )
    missed = format_table(_results(_gate(synthetic_passing=30, natural_passing=60))).splitlines()
    assert [line.split()[0] for line in missed if "MISSED" in line] == ["ood_synthetic_passing", "ood_natural_passing"]


def test_seed_figures_are_the_ones_the_seeds_state() -> None:
    # ../shared/seeds: "a validation accuracy slightly over 81%", and "~60%" of the monitored
    # predictions below a threshold that "was relatively high, at 95%". No coverage was reported.
    assert SEEDS == {"validation_accuracy": 0.81, "share_below_threshold": 0.60, "threshold": 0.95}
    rows = {line.split()[0]: line for line in format_table(_results()).splitlines()}
    assert "~60% below 0.95" in rows["coverage_at_threshold"]
    assert "0.4" not in rows["coverage_at_threshold"]
    assert ">0.81 (val)" in rows["test_accuracy"]


def test_the_bench_measures_a_stack_deployed_by_the_release_pipeline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`scones bench` deploys as `scones demo` does, through a release (scones.deploy.release_stack), on a
    fresh emulator of its own, and measures what that release deployed."""
    config = StackConfig(out=tmp_path / "bench", port=1)
    (config.out / "stale").mkdir(parents=True)  # an earlier run's state: removed first
    released = object()
    seen: dict[str, Any] = {}

    @contextmanager
    def private_emulator(state_dir: Path, port: int) -> Iterator[str]:
        seen["emulator"] = (state_dir, port)
        yield config.url

    def release_stack(given: StackConfig) -> object:
        seen["stale_gone"] = not (given.out / "stale").exists()
        return released

    monkeypatch.setattr(bench, "emulator", private_emulator)
    monkeypatch.setattr(bench, "release_stack", release_stack)
    monkeypatch.setattr(bench, "measure", lambda deployment, **sizes: {"deployment": deployment, **sizes})

    results = bench.run_bench(config, latency_runs=3, warmup=1, batch=5, batch_map=7)
    assert results == {"deployment": released, "latency_runs": 3, "warmup": 1, "batch": 5, "batch_map": 7}
    assert seen == {"emulator": (config.emulator_dir, 1), "stale_gone": True}
