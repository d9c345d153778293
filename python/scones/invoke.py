"""`scones invoke`: run the workflow on random test images and tabulate what happened.

The seeds' `generate_test_case`, done N times: pick test images from the bucket (seeded), run
one execution per image (scones.workflow), and report each image's true class (its parent
folder), probabilities, the model's out-of-distribution verdict and outcome.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from scones import CLASS_NAMES
from scones.aws import aws_options, make_session, validate_bucket_name
from scones.data.sampling import NotEnoughImagesError, list_image_keys, pick_keys
from scones.workflow import ExecutionResult, Outcome, run_executions, summarize, summary_line


class InvokeError(click.ClickException):
    """Base class of `scones invoke` errors."""


class NoTestImagesError(InvokeError):
    """The bucket has no images under the prefix, or fewer than --count."""


def format_table(results: Sequence[ExecutionResult]) -> str:
    header = ("image", "true", "predicted", *(f"p_{name}" for name in CLASS_NAMES), "ood", "outcome")
    lines = [header]
    for result in results:
        probabilities = result.probabilities if result.predicted_class is not None else None
        outcome = str(result.outcome).replace("_", " ")
        if result.outcome is Outcome.FAILED:
            outcome = f"failed: {result.error}"
        elif result.outcome is Outcome.SUCCEEDED and result.correct is False:
            outcome = "succeeded (wrong class)"
        lines.append(
            (
                "/".join(result.key.split("/")[-2:]),
                result.true_class or "?",
                result.predicted_class or "-",
                *(f"{p:.3f}" for p in probabilities or []),
                *(["-"] * (len(CLASS_NAMES) if probabilities is None else 0)),
                # "-": no verdict reached us (a failure before the filter, a record from before the guard).
                "-" if result.ood is None else result.ood.describe(),
                outcome,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


@click.command("invoke")
@click.option("--count", "-n", type=click.IntRange(min=1), default=10, show_default=True, help="Executions to start.")
@click.option("--seed", type=int, default=None, help="Seed for picking images (default: random).")
@click.option(
    "--state-machine-arn",
    envvar="SCONES_STATE_MACHINE_ARN",
    required=True,
    help="The workflow (terraform output state_machine_arn) [env SCONES_STATE_MACHINE_ARN].",
)
@click.option(
    "--bucket", envvar="SCONES_BUCKET", required=True, help="Bucket with the test images [env SCONES_BUCKET]."
)
@click.option("--prefix", default="data/test/", show_default=True, help="Key prefix of the test images.")
@click.option("--concurrency", type=click.IntRange(min=1), default=8, show_default=True, help="Executions at once.")
@click.option(
    "--timeout", type=click.FloatRange(min=1), default=300.0, show_default=True, help="Seconds to wait in all."
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the summary (counts, accuracy, one row per image) here.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 if any execution failed for a reason other than a rejection (low confidence, out of distribution).",
)
@aws_options
def invoke_cmd(
    count: int,
    seed: int | None,
    state_machine_arn: str,
    bucket: str,
    prefix: str,
    concurrency: int,
    timeout: float,
    json_out: Path | None,
    strict: bool,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Start COUNT workflow executions on random test images and print what each one did."""
    try:
        validate_bucket_name(bucket)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--bucket") from None
    session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
    keys = list_image_keys(session.client("s3"), bucket, prefix)
    if not keys:
        raise NoTestImagesError(f"no images under s3://{bucket}/{prefix}: run `scones prepare --bucket {bucket}`")
    try:
        picked = pick_keys(keys, count, seed)
    except NotEnoughImagesError as exc:
        raise NoTestImagesError(str(exc)) from None
    click.echo(f"starting {count} executions of {state_machine_arn} on images from s3://{bucket}/{prefix}")

    def progress(result: ExecutionResult) -> None:
        click.echo(f"  {result.outcome:<14} {result.key}", err=True)

    results = run_executions(
        session.client("stepfunctions"),
        state_machine_arn,
        bucket,
        picked,
        concurrency=concurrency,
        timeout_seconds=timeout,
        name_prefix="scones-invoke",
        on_done=progress,
    )
    summary = {"state_machine_arn": state_machine_arn, "bucket": bucket, "seed": seed, **summarize(results)}
    click.echo(format_table(results))
    click.echo(summary_line(summary))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(summary, indent=2) + "\n")
        click.echo(f"wrote {json_out}")
    if summary["timed_out"]:
        raise InvokeError(f"{summary['timed_out']} execution(s) did not finish within {timeout:.0f}s")
    if strict and summary["failed"]:
        raise InvokeError(f"{summary['failed']} execution(s) failed (see the table)")
