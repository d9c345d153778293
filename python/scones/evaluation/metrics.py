"""Classification metrics from probabilities: accuracy, per-class precision/recall, confusion
matrix, expected calibration error and the confidence-threshold sweep. Pure numpy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class SweepPoint:
    threshold: float
    coverage: float  # share of predictions whose top probability >= threshold
    accepted: int
    accepted_accuracy: float | None  # None when nothing is accepted


def _checked(probabilities: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probabilities = np.asarray(probabilities, dtype=float)
    labels = np.asarray(labels, dtype=int)
    if probabilities.ndim != 2 or len(probabilities) != len(labels) or len(labels) == 0:
        raise ValueError(f"need (N, C) probabilities and N labels, got {probabilities.shape} and {labels.shape}")
    return probabilities, labels


def confusion_matrix(predicted: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """matrix[true, predicted] = count."""
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


def _bin_index(confidence: np.ndarray, bins: int, low: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-width bins over [low, 1]: the top probability of C classes is never below 1/C, so
    binning from 1/C (0.5 here) instead of 0 keeps every bin usable. Bin b is (edge_b, edge_b+1]."""
    edges = np.linspace(low, 1.0, bins + 1)
    return edges, np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10, low: float = 0.5) -> float:
    """Σ_b (n_b / N) |accuracy_b - mean confidence_b| over equal-width bins of the top probability."""
    _, index = _bin_index(confidence, bins, low)
    total = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            total += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(total)


def reliability_bins(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10, low: float = 0.5
) -> list[dict[str, Any]]:
    edges, index = _bin_index(confidence, bins, low)
    rows = []
    for b in range(bins):
        members = index == b
        rows.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": int(members.sum()),
                "accuracy": float(correct[members].mean()) if members.any() else None,
                "confidence": float(confidence[members].mean()) if members.any() else None,
            }
        )
    return rows


def sweep_point(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> SweepPoint:
    accepted = confidence >= threshold
    count = int(accepted.sum())
    return SweepPoint(
        threshold=float(threshold),
        coverage=count / len(confidence),
        accepted=count,
        accepted_accuracy=float(correct[accepted].mean()) if count else None,
    )


def threshold_sweep(confidence: np.ndarray, correct: np.ndarray, thresholds: np.ndarray) -> list[SweepPoint]:
    return [sweep_point(confidence, correct, float(t)) for t in thresholds]


def lowest_threshold_meeting(confidence: np.ndarray, correct: np.ndarray, target: float) -> SweepPoint | None:
    """The lowest threshold whose accepted predictions are at least `target` accurate.

    Only the observed confidences matter (between two of them the accepted set does not
    change), so they are the exact candidates; None when no threshold accepts anything that
    accurate.
    """
    for threshold in np.unique(confidence):
        point = sweep_point(confidence, correct, float(threshold))
        if point.accepted_accuracy is not None and point.accepted_accuracy >= target:
            return point
    return None


def classification_report(
    probabilities: np.ndarray,
    labels: np.ndarray,
    class_names: tuple[str, ...],
    *,
    threshold: float,
    target: float,
    bins: int = 10,
) -> dict[str, Any]:
    probabilities, labels = _checked(probabilities, labels)
    predicted = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    correct = (predicted == labels).astype(float)
    matrix = confusion_matrix(predicted, labels, len(class_names))
    low = 1.0 / len(class_names)
    per_class = {}
    for index, name in enumerate(class_names):
        predicted_as = int(matrix[:, index].sum())
        actual = int(matrix[index, :].sum())
        hits = int(matrix[index, index])
        per_class[name] = {
            "precision": hits / predicted_as if predicted_as else None,
            "recall": hits / actual if actual else None,
            "support": actual,
        }
    grid = np.round(np.arange(0.50, 1.0, 0.005), 3)
    at_threshold = sweep_point(confidence, correct, threshold)
    meeting = lowest_threshold_meeting(confidence, correct, target)
    return {
        "count": len(labels),
        "accuracy": float(correct.mean()),
        "per_class": per_class,
        "confusion_matrix": {"rows_true_columns_predicted": class_names, "counts": matrix.tolist()},
        "expected_calibration_error": expected_calibration_error(confidence, correct, bins, low),
        "reliability": reliability_bins(confidence, correct, bins, low),
        "threshold": threshold,
        "at_threshold": at_threshold.__dict__,
        "target_accepted_accuracy": target,
        "lowest_threshold_meeting_target": meeting.__dict__ if meeting else None,
        "sweep": [point.__dict__ for point in threshold_sweep(confidence, correct, grid)],
    }


Z_95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95 % interval


def wilson_interval(successes: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for a binomial share (Wilson 1927): unlike the normal approximation it
    stays inside [0, 1] and is not empty at 0 or n successes, which is where a gate's pass rate on
    out-of-distribution images should be."""
    if total <= 0 or not 0 <= successes <= total:
        raise ValueError(f"need 0 <= successes <= total and total > 0, got {successes} of {total}")
    share = successes / total
    denominator = 1 + z * z / total
    centre = (share + z * z / (2 * total)) / denominator
    half = z * np.sqrt(share * (1 - share) / total + z * z / (4 * total * total)) / denominator
    # At 0 or n successes a bound is exactly 0 or 1; computed, it is off by a rounding error.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == total else min(1.0, centre + half)
    return float(low), float(high)
