"""The release gate: floors, the tolerance against the deployed model, and the numbers it prints."""

from __future__ import annotations

from pathlib import Path

from scones.release.config import parse_config
from scones.release.gate import candidate_metrics, decide

CONFIG = parse_config(
    Path("release.json"),
    {
        "floors": {"accuracy": 0.85, "coverage": 0.5, "accepted_accuracy": 0.95},
        "tolerance": 0.02,
        "approval": "auto",
        "smoke": {"count": 1},
    },
)
GOOD = {"accuracy": 0.9, "coverage": 0.6, "accepted_accuracy": 0.97}


def test_a_candidate_meeting_every_floor_passes_with_nothing_deployed() -> None:
    decision = decide(GOOD, None, CONFIG)
    assert decision.passed and not decision.compared_with_deployed
    assert [check.kind for check in decision.checks] == ["floor"] * 3


def test_a_candidate_below_a_floor_is_refused_with_its_numbers() -> None:
    decision = decide({**GOOD, "coverage": 0.41}, None, CONFIG)
    assert not decision.passed
    assert decision.reason() == "coverage           0.4100 >= 0.5000  REFUSED"


def test_a_floor_met_exactly_passes() -> None:
    assert decide({"accuracy": 0.85, "coverage": 0.5, "accepted_accuracy": 0.95}, None, CONFIG).passed


def test_a_candidate_worse_than_the_deployed_model_by_more_than_the_tolerance_is_refused() -> None:
    deployed = {"accuracy": 0.95, "coverage": 0.6, "accepted_accuracy": 0.97}
    decision = decide(GOOD, deployed, CONFIG)  # accuracy 0.90 < 0.95 - 0.02
    assert decision.compared_with_deployed and not decision.passed
    assert [check.line() for check in decision.failures] == [
        "accuracy           0.9000 >= deployed - tolerance = 0.9300  REFUSED"
    ]
    assert decide(GOOD, {**deployed, "accuracy": 0.92}, CONFIG).passed  # within the tolerance


def test_a_candidate_that_accepts_nothing_has_no_accepted_accuracy_and_is_refused() -> None:
    decision = decide({"accuracy": 0.9, "coverage": 0.0, "accepted_accuracy": None}, None, CONFIG)
    assert {check.metric for check in decision.failures} == {"coverage", "accepted_accuracy"}
    assert "accepted_accuracy  none >= 0.9500  REFUSED" in decision.reason()


def test_the_gate_reads_the_workflows_figures_guard_included_from_an_evaluation() -> None:
    evaluation = {
        "accuracy": 0.91,
        "count": 200,
        "gate": {
            "threshold": 0.93,
            "in_distribution": {
                "without_guard": {"coverage": 0.7, "accepted_accuracy": 0.96},
                "with_guard": {"coverage": 0.65, "accepted_accuracy": 0.98},
            },
        },
    }
    assert candidate_metrics(evaluation) == {
        "accuracy": 0.91,
        "coverage": 0.65,
        "accepted_accuracy": 0.98,
        "threshold": 0.93,
        "count": 200,
    }
