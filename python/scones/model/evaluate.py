"""`scones evaluate`: how good is a model artifact on a prepared split, and where to put the threshold.

Runs the artifact's own serving code (code/inference.py) on every image's PNG bytes, so the
numbers are the endpoint's numbers, TTA and temperature included.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import boto3
import click
import numpy as np

from scones import CLASS_NAMES, DEFAULT_THRESHOLD
from scones.aws import aws_options, make_session
from scones.data.errors import PreparedDataError
from scones.data.layout import read_split
from scones.model.metrics import classification_report


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
    from scones.model.served_model import load_served_model  # imports the artifact's torch code

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


@click.command("evaluate")
@click.argument("model")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/prepared"),
    show_default=True,
    help="Prepared data root (scones prepare --out).",
)
@click.option("--split", default="test", show_default=True, help="Which prepared split to evaluate on.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/evaluate"),
    show_default=True,
    help="Folder for evaluation.json and the PNG plots.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Confidence threshold of the workflow's filter.",
)
@click.option(
    "--target",
    type=click.FloatRange(0.0, 1.0),
    default=0.99,
    show_default=True,
    help="Accuracy the accepted predictions must reach.",
)
@aws_options
def evaluate_cmd(
    model: str,
    data_dir: Path,
    split: str,
    out: Path,
    threshold: float,
    target: float,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Evaluate MODEL (model.tar.gz, its unpacked folder, or an s3:// URI) on a prepared split."""
    from scones.model.served_model import ArtifactError

    try:
        session = None
        if model.startswith("s3://"):
            session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
        report = evaluate_artifact(model, data_dir, split=split, threshold=threshold, target=target, session=session)
    except (ArtifactError, PreparedDataError) as exc:
        raise click.ClickException(str(exc)) from exc
    from scones.model.evaluate_plots import write_plots

    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n")
    plots = write_plots(report, out)
    for line in summary_lines(report):
        click.echo(line)
    click.echo(f"wrote {out / 'evaluation.json'} and {', '.join(p.name for p in plots)}")
