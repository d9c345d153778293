"""What the workflow's gate lets through, with and without the out-of-distribution guard. Pure numpy.

The gate of FilterLowConfidence (docs/contracts.md): an image passes when the endpoint did not flag
it as out of distribution and its top probability reaches the threshold. "Without guard" is the
threshold alone, as before the guard existed (and as for an artifact that is not checked).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scones.evaluation.metrics import wilson_interval

MODES = ("without_guard", "with_guard")


def passes(confidence: np.ndarray, flagged: np.ndarray, threshold: float, mode: str) -> np.ndarray:
    """Which images the gate passes in `mode` ("without_guard" or "with_guard")."""
    if mode not in MODES:
        raise ValueError(f"unknown gate mode {mode!r}; known: {', '.join(MODES)}")
    confident = np.asarray(confidence, dtype=float) >= threshold
    return confident & ~np.asarray(flagged, dtype=bool) if mode == "with_guard" else confident


def share(passing: np.ndarray) -> dict[str, Any]:
    """How many of a set pass: count, share and its 95 % Wilson interval."""
    count, total = int(np.sum(passing)), len(passing)
    low, high = wilson_interval(count, total)
    return {"passing": count, "count": total, "share": count / total, "interval95": [low, high]}


def in_distribution(
    probabilities: np.ndarray, labels: np.ndarray, flagged: np.ndarray, threshold: float
) -> dict[str, Any]:
    """Coverage and accuracy of the accepted predictions on labelled vehicle images, per mode, and how
    many the guard flagged (each one a vehicle a driver would not be routed for)."""
    probabilities = np.asarray(probabilities, dtype=float)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    result: dict[str, Any] = {"count": len(correct), "flagged": int(np.sum(flagged))}
    for mode in MODES:
        accepted = passes(probabilities.max(axis=1), flagged, threshold, mode)
        count = int(accepted.sum())
        result[mode] = {
            "coverage": count / len(correct),
            "accepted": count,
            "accepted_accuracy": float(correct[accepted].mean()) if count else None,
        }
    return result


def out_of_distribution(
    probabilities: np.ndarray, flagged: np.ndarray, groups: Sequence[str], threshold: float
) -> dict[str, Any]:
    """Share of a set of non-vehicle images that the gate passes, per mode, overall and per group."""
    confidence = np.asarray(probabilities, dtype=float).max(axis=1)
    flagged = np.asarray(flagged, dtype=bool)
    gate = {mode: passes(confidence, flagged, threshold, mode) for mode in MODES}
    groups = np.asarray(groups)
    by_group = {}
    for group in dict.fromkeys(groups.tolist()):  # first-seen order
        members = groups == group
        by_group[group] = {
            "count": int(members.sum()),
            "flagged": int(flagged[members].sum()),
            **{mode: int(gate[mode][members].sum()) for mode in MODES},
        }
    return {
        "count": len(confidence),
        "flagged": int(flagged.sum()),
        **{mode: share(gate[mode]) for mode in MODES},
        "by_group": by_group,
    }
