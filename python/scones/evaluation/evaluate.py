"""How good is a model artifact on a prepared split, where to put the threshold, and what its gate
lets through that is not a vehicle.

Runs the artifact's own serving code (code/inference.py) on every image's PNG bytes, so the
numbers are the endpoint's numbers, TTA, temperature and out-of-distribution guard included. The
gate is measured with and without the guard, on the split and on the report parts of the
out-of-distribution sets (scones.evaluation.ood_sets): never on their guide parts, which may have
guided the guard's design.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import numpy as np

from scones import CLASS_NAMES, DEFAULT_THRESHOLD
from scones.data.layout import read_split
from scones.evaluation import gate, ood_sets
from scones.evaluation.metrics import classification_report

if TYPE_CHECKING:
    from scones.evaluation.served_model import Answer, ServedModel

OOD_SPLIT = "report"


def predict_split(
    served: ServedModel, data_dir: Path, split: str
) -> tuple[list[str], list[Answer], np.ndarray, list[float]]:
    """(relative paths, the endpoint's answers, labels, seconds per answer) for every image of the split.

    The seconds are input_fn + predict_fn + output_fn of the full answer, one image at a time: what the
    endpoint's serving code spends per request."""
    entries = read_split(data_dir, split)
    answers, seconds = [], []
    for path, _ in entries:
        body = (data_dir / split / path).read_bytes()
        started = time.perf_counter()
        answers.append(served.answer(body))
        seconds.append(time.perf_counter() - started)
    return [path for path, _ in entries], answers, np.array([label for _, label in entries]), seconds


def _arrays(answers: list[Answer]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([a.probabilities for a in answers]), np.array([a.out_of_distribution for a in answers])


def _answer_fields(answer: Answer) -> dict[str, Any]:
    fields: dict[str, Any] = {"probabilities": [round(p, 6) for p in answer.probabilities]}
    if answer.checked:
        fields["in_distribution"] = answer.in_distribution
        fields["out_of_distribution"] = answer.out_of_distribution
    return fields


def evaluate_ood(
    served: ServedModel, threshold: float, *, split: str = OOD_SPLIT, natural_file: Path | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The gate on one split of each out-of-distribution set: figures per part, and a row per image.
    `scones evaluate` reports the report split; research on the guard may look at the guide split."""
    figures, rows = {}, []
    for part in ood_sets.PARTS:
        images = ood_sets.load(part, split, natural_file=natural_file)
        answers = [served.answer(image.png()) for image in images]
        probabilities, flagged = _arrays(answers)
        figures[part] = {
            "split": split,
            **gate.out_of_distribution(probabilities, flagged, [image.group for image in images], threshold),
        }
        rows += [
            {"part": part, "name": image.name, "source": image.source, **_answer_fields(answer)}
            for image, answer in zip(images, answers, strict=True)
        ]
    return figures, rows


def evaluate_artifact(
    model: str,
    data_dir: Path,
    *,
    split: str = "test",
    threshold: float = DEFAULT_THRESHOLD,
    target: float = 0.99,
    session: boto3.Session | None = None,
    natural_file: Path | None = None,
) -> dict[str, Any]:
    """`natural_file` overrides the natural OOD images' file (ood_sets.load)."""
    from scones.evaluation.served_model import load_served_model, one_thread  # imports torch

    with tempfile.TemporaryDirectory(prefix="scones-eval-") as tmp, one_thread():
        served = load_served_model(model, Path(tmp), session=session)
        paths, answers, labels, seconds = predict_split(served, data_dir, split)
        ood_figures, ood_rows = evaluate_ood(served, threshold, natural_file=natural_file)
        metadata = served.metadata
    probabilities, flagged = _arrays(answers)
    report = classification_report(probabilities, labels, CLASS_NAMES, threshold=threshold, target=target)
    report["model"] = model
    # The median: the first answers also pay for torch's lazy initialisation.
    report["serving_ms_per_image"] = round(1000 * float(np.median(seconds)), 3)
    report["split"] = split
    report["model_metadata"] = {k: metadata[k] for k in ("metrics", "temperature", "flip_tta") if k in metadata}
    report["gate"] = {
        "threshold": threshold,
        # False: the artifact gives no score (built before the guard, or without a fitted one), so
        # its with-guard figures are the threshold's alone, as the workflow logs "not checked".
        "checked": any(answer.checked for answer in answers),
        "in_distribution": gate.in_distribution(probabilities, labels, flagged, threshold),
        "out_of_distribution": ood_figures,
    }
    report["predictions"] = [
        {"path": path, "label": int(label), **_answer_fields(answer)}
        for path, label, answer in zip(paths, labels, answers, strict=True)
    ]
    report["ood_predictions"] = ood_rows
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
    return lines + gate_lines(report["gate"], report["split"])


def _share(figures: dict[str, Any]) -> str:
    low, high = figures["interval95"]
    return f"{figures['share']:.3f} [{low:.3f}, {high:.3f}]"


def gate_lines(figures: dict[str, Any], split: str) -> list[str]:
    """The gate without and with the guard: coverage on the split, shares of OOD images passing."""
    inside = figures["in_distribution"]
    lines = [
        f"{'gate at ' + format(figures['threshold'], '.3f'):<34}without guard / with guard"
        + ("" if figures["checked"] else " (not checked: the artifact gives no out-of-distribution answer)"),
        f"{'  ' + split + ' coverage':<34}{inside['without_guard']['coverage']:.3f} / "
        f"{inside['with_guard']['coverage']:.3f} ({inside['flagged']} flagged)",
        f"{'  ' + split + ' accuracy of accepted':<34}{_fmt(inside['without_guard']['accepted_accuracy'])} / "
        f"{_fmt(inside['with_guard']['accepted_accuracy'])}",
    ]
    for part, ood in figures["out_of_distribution"].items():
        label = f"  {part} passing ({ood['split']}, {ood['count']})"
        lines.append(f"{label:<34}{_share(ood['without_guard'])} / {_share(ood['with_guard'])}")
    return lines
