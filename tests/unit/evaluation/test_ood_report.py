"""`scones evaluate`'s gate figures with and without the guard, from hand-made artifacts with a
known answer: one that answers the object form, one built before it (refuses the media type), one
that ignores Accept (the emulator tests' tiny model) and one that breaks the contract."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from scones.cli import main
from scones.evaluation import ood_sets
from scones.evaluation.evaluate import evaluate_ood
from scones.evaluation.served_model import ArtifactError, ServedModel
from tests.support.local_fixtures import png
from tests.support.ood_artifacts import FLAG_BELOW, known_test_split, ood_artifact


def _evaluate(model: Path, prepared: Path, out: Path) -> tuple[dict, str]:
    result = CliRunner().invoke(main, ["evaluate", str(model), "--data-dir", str(prepared), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return json.loads((out / "evaluation.json").read_text()), result.output


def _expected_with_guard(part: str) -> float:
    """What the hand-made artifact's guard lets through: the images it does not flag."""
    images = ood_sets.load(part, "report")
    return float(np.mean([image.pixels.astype(float).std(axis=(0, 1)).mean() >= FLAG_BELOW for image in images]))


def test_the_report_counts_what_the_guard_flags(tmp_path: Path) -> None:
    report, output = _evaluate(ood_artifact(tmp_path / "model"), known_test_split(tmp_path / "prepared"), tmp_path)
    gate = report["gate"]
    assert gate["checked"] is True and gate["threshold"] == 0.93
    assert gate["in_distribution"] == {
        "count": 4,
        "flagged": 1,
        "without_guard": {"coverage": 1.0, "accepted": 4, "accepted_accuracy": 0.75},
        "with_guard": {"coverage": 0.75, "accepted": 3, "accepted_accuracy": 1.0},
    }
    # The guard changes nothing of the classification metrics: they stay the threshold's own.
    assert report["at_threshold"]["coverage"] == 1.0 and report["accuracy"] == 0.75
    for part in ood_sets.PARTS:
        figures = gate["out_of_distribution"][part]
        assert figures["split"] == "report" and figures["count"] == len(ood_sets.load(part, "report"))
        # Every answer is 0.97 sure: without the guard the gate passes everything.
        assert figures["without_guard"]["share"] == 1.0
        assert figures["with_guard"]["share"] == pytest.approx(_expected_with_guard(part))
        low, high = figures["with_guard"]["interval95"]
        assert low <= figures["with_guard"]["share"] <= high
    synthetic = gate["out_of_distribution"]["synthetic"]["by_group"]
    assert synthetic["flat"]["with_guard"] == 0 and synthetic["flat"]["flagged"] == synthetic["flat"]["count"]
    assert synthetic["colour-noise"]["with_guard"] == synthetic["colour-noise"]["count"]
    flat = next(p for p in report["predictions"] if p["path"] == "motorcycle/flat-0.png")
    assert flat["out_of_distribution"] is True and flat["in_distribution"] == 0.0
    assert len(report["ood_predictions"]) == sum(len(ood_sets.load(p, "report")) for p in ood_sets.PARTS)
    assert "gate at 0.930                     without guard / with guard\n" in output
    assert "  test coverage                   1.000 / 0.750 (1 flagged)" in output
    assert "  synthetic passing (report, 220) 1.000 [0.983, 1.000] / " in output


@pytest.mark.parametrize("mode", ["refuses", "unfitted"])
def test_an_artifact_without_a_score_is_not_checked(mode: str, tmp_path: Path) -> None:
    """Built before the guard (refuses the object form), or without a fitted guard (a null score)."""
    report, output = _evaluate(
        ood_artifact(tmp_path / "model", mode), known_test_split(tmp_path / "prepared"), tmp_path
    )
    gate = report["gate"]
    assert gate["checked"] is False
    inside = gate["in_distribution"]
    assert inside["flagged"] == 0 and inside["with_guard"] == inside["without_guard"]
    for figures in gate["out_of_distribution"].values():
        assert figures["flagged"] == 0 and figures["with_guard"] == figures["without_guard"]
    assert all("out_of_distribution" not in p for p in report["predictions"] + report["ood_predictions"])
    assert "(not checked: the artifact gives no out-of-distribution answer)" in output


def test_an_artifact_that_ignores_accept_is_not_checked(tmp_path: Path) -> None:
    served = ServedModel(ood_artifact(tmp_path / "model", "ignores"))
    answer = served.answer(png((40, 40, 40)))  # flat: the object form would flag it
    assert answer.checked is False and answer.in_distribution is None and answer.out_of_distribution is False
    assert answer.probabilities[0] == pytest.approx(0.97)  # dark: bicycle
    assert served.answers_object_form is False


def test_an_object_form_that_breaks_the_contract_is_named(tmp_path: Path) -> None:
    served = ServedModel(ood_artifact(tmp_path / "model", "malformed"))
    with pytest.raises(ArtifactError, match="breaks the contract"):
        served.answer(png((0, 0, 0)))
    result = CliRunner().invoke(
        main, ["evaluate", str(tmp_path / "model"), "--data-dir", str(known_test_split(tmp_path / "prepared"))]
    )
    assert result.exit_code == 1 and "breaks the contract" in result.output


def test_the_guide_split_can_be_measured_for_research(tmp_path: Path) -> None:
    served = ServedModel(ood_artifact(tmp_path / "model"))
    figures, rows = evaluate_ood(served, 0.93, split="guide")
    for part in ood_sets.PARTS:
        guide = ood_sets.load(part, "guide")
        assert figures[part]["split"] == "guide" and figures[part]["count"] == len(guide)
        assert {row["name"] for row in rows if row["part"] == part} == {image.name for image in guide}
