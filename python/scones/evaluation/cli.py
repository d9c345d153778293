"""The `scones evaluate` command."""

from __future__ import annotations

import json
from pathlib import Path

import click

from scones import DEFAULT_THRESHOLD
from scones.aws import aws_options, make_session
from scones.data.errors import PreparedDataError
from scones.evaluation.evaluate import evaluate_artifact, summary_lines
from scones.paths import repo_default


@click.command("evaluate")
@click.argument("model")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    **repo_default("data/prepared"),
    help="Prepared data root (scones prepare --out).",
)
@click.option("--split", default="test", show_default=True, help="Which prepared split to evaluate on.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    **repo_default("build/evaluate"),
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
    """Evaluate MODEL (model.tar.gz, its unpacked folder, or an s3:// URI) on a prepared split, and its
    gate, with and without the out-of-distribution guard, on the report parts of the OOD sets."""
    from scones.evaluation.ood_sets import OodSetError
    from scones.evaluation.served_model import ArtifactError

    try:
        session = None
        if model.startswith("s3://"):
            session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
        report = evaluate_artifact(model, data_dir, split=split, threshold=threshold, target=target, session=session)
    except (ArtifactError, OodSetError, PreparedDataError) as exc:
        raise click.ClickException(str(exc)) from exc
    from scones.evaluation.plots import write_plots

    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n")
    plots = write_plots(report, out)
    for line in summary_lines(report):
        click.echo(line)
    click.echo(f"wrote {out / 'evaluation.json'} and {', '.join(p.name for p in plots)}")
