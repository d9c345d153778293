"""How good is a model artifact on a prepared split, and where to put the threshold.

Runs the artifact's own serving code (code/inference.py) on every image's PNG bytes, so the
numbers are the endpoint's numbers, TTA and temperature included.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import boto3
import numpy as np

from scones import CLASS_NAMES, DEFAULT_THRESHOLD
from scones.data.layout import read_split
from scones.evaluation.metrics import classification_report


def predict_split(served: Any, data_dir: Path, split: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(relative paths, (N, 2) probabilities, labels) for every image of the split."""
    entries = read_split(data_dir, split)
    probabilities = np.array([served.probabilities((data_dir / split / path).read_bytes()) for path, _ in entries])
    return [path for path, _ in entries], probabilities, np.array([label for _, label in entries])


def evaluate_artifact(
    model: str,
    data_dir: Path,
    *,
    split: str = "test",
    threshold: float = DEFAULT_THRESHOLD,
    target: float = 0.99,
    session: boto3.Session | None = None,
) -> dict[str, Any]:
    from scones.evaluation.served_model import load_served_model  # imports the artifact's torch code

    with tempfile.TemporaryDirectory(prefix="scones-eval-") as tmp:
        served = load_served_model(model, Path(tmp), session=session)
        paths, probabilities, labels = predict_split(served, data_dir, split)
        metadata = served.metadata
    report = classification_report(probabilities, labels, CLASS_NAMES, threshold=threshold, target=target)
    report["model"] = model
    report["split"] = split
    report["model_metadata"] = {k: metadata[k] for k in ("metrics", "temperature", "flip_tta") if k in metadata}
    report["predictions"] = [
        {"path": path, "label": int(label), "probabilities": [round(float(p), 6) for p in row]}
        for path, label, row in zip(paths, labels, probabilities, strict=True)
    ]
    return report


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def summary_lines(report: dict[str, Any]) -> list[str]:
    at = report["at_threshold"]
    meeting = report["lowest_threshold_meeting_target"]
    lines = [
        f"{'split':<34}{report['split']} ({report['count']} images)",
        f"{'accuracy':<34}{report['accuracy']:.3f}",
    ]
    for name, row in report["per_class"].items():
        lines.append(f"{name + ' precision / recall':<34}{_fmt(row['precision'])} / {_fmt(row['recall'])}")
    lines += [
        f"{'expected calibration error':<34}{report['expected_calibration_error']:.3f}",
        f"{'threshold':<34}{at['threshold']:.3f}",
        f"{'  coverage':<34}{at['coverage']:.3f} ({at['accepted']} accepted)",
        f"{'  accuracy of accepted':<34}{_fmt(at['accepted_accuracy'])}",
        f"{'lowest threshold for ' + format(report['target_accepted_accuracy'], '.3f'):<34}"
        + (f"{meeting['threshold']:.3f} (coverage {meeting['coverage']:.3f})" if meeting else "none reaches it"),
    ]
    matrix = report["confusion_matrix"]["counts"]
    lines.append(f"{'confusion (rows true, cols pred)':<34}{matrix}")
    return lines
