"""The gate's figures: Wilson intervals against published values, and pass/coverage counts on a
hand-computable case."""

from __future__ import annotations

import numpy as np
import pytest

from scones.evaluation.gate import in_distribution, out_of_distribution, passes
from scones.evaluation.metrics import wilson_interval


# Newcombe, "Two-sided confidence intervals for the single proportion: comparison of seven methods",
# Statistics in Medicine 17 (1998) 857-872, Table II, method 3 (Wilson score, no continuity correction).
@pytest.mark.parametrize(
    ("successes", "total", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_interval_matches_published_values(successes: int, total: int, low: float, high: float) -> None:
    assert wilson_interval(successes, total) == pytest.approx((low, high), abs=5e-5)


def test_wilson_interval_is_exact_at_the_ends_and_refuses_nonsense() -> None:
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(1 - high)  # symmetric around one half
    for successes, total in ((1, 0), (-1, 5), (6, 5)):
        with pytest.raises(ValueError, match="successes"):
            wilson_interval(successes, total)


# Four labelled images: top probability, right or wrong, flagged by the guard.
#   top prob  0.99  0.95  0.97  0.60
#   correct      y     y     n     y
#   flagged      n     y     y     n
PROBABILITIES = np.array([[0.99, 0.01], [0.05, 0.95], [0.97, 0.03], [0.40, 0.60]])
LABELS = np.array([0, 1, 1, 1])
FLAGGED = np.array([False, True, True, False])


def test_in_distribution_coverage_with_and_without_the_guard() -> None:
    figures = in_distribution(PROBABILITIES, LABELS, FLAGGED, threshold=0.93)
    assert figures["count"] == 4 and figures["flagged"] == 2
    assert figures["without_guard"] == {"coverage": 0.75, "accepted": 3, "accepted_accuracy": pytest.approx(2 / 3)}
    assert figures["with_guard"] == {"coverage": 0.25, "accepted": 1, "accepted_accuracy": 1.0}
    nothing = in_distribution(PROBABILITIES, LABELS, np.ones(4, bool), threshold=0.93)["with_guard"]
    assert nothing == {"coverage": 0.0, "accepted": 0, "accepted_accuracy": None}


def test_out_of_distribution_shares_per_mode_and_group() -> None:
    figures = out_of_distribution(PROBABILITIES, FLAGGED, ["flat", "flat", "noise", "noise"], threshold=0.93)
    assert figures["count"] == 4 and figures["flagged"] == 2
    assert figures["without_guard"]["passing"] == 3 and figures["without_guard"]["share"] == 0.75
    assert figures["without_guard"]["interval95"] == list(wilson_interval(3, 4))
    assert figures["with_guard"]["passing"] == 1 and figures["with_guard"]["share"] == 0.25
    assert figures["by_group"] == {
        "flat": {"count": 2, "flagged": 1, "without_guard": 2, "with_guard": 1},
        "noise": {"count": 2, "flagged": 1, "without_guard": 1, "with_guard": 0},
    }


def test_unknown_gate_mode_is_named() -> None:
    with pytest.raises(ValueError, match="unknown gate mode 'strict'"):
        passes(np.array([0.99]), np.array([False]), 0.93, "strict")
