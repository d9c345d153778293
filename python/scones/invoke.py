"""`scones invoke`: run the workflow on random test images and tabulate what happened.

The seeds' `generate_test_case`, done N times: pick test images from the bucket (seeded), start
one execution per image with {"image_data": "", "s3_bucket", "s3_key"}, wait for all of them,
and report each image's true class (its parent folder), probabilities and outcome.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from scones import CLASS_NAMES
from scones.aws import aws_options, make_session, validate_bucket_name
from scones.data.layout import class_from_key

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
LOW_CONFIDENCE_ERROR = "ThresholdConfidenceNotMetError"
_INFERENCES_IN_TEXT = re.compile(r"inferences\W*\[([^\]]*)\]")


class InvokeError(click.ClickException):
    """Base class of `scones invoke` errors."""


class NoTestImagesError(InvokeError):
    """The bucket has no images under the prefix, or fewer than --count."""


@dataclass
class Row:
    key: str
    true_class: str | None
    execution_arn: str
    status: str  # Step Functions status: SUCCEEDED, FAILED, TIMED_OUT, ABORTED, RUNNING (we gave up)
    outcome: str  # succeeded | low_confidence | failed | timed_out
    error: str | None = None
    probabilities: list[float] | None = None
    predicted_class: str | None = None

    @property
    def correct(self) -> bool | None:
        if self.outcome != "succeeded" or self.true_class is None or self.predicted_class is None:
            return None
        return self.true_class == self.predicted_class


def list_test_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []) if obj["Key"].lower().endswith(IMAGE_SUFFIXES))
    return sorted(keys)


def pick_keys(keys: Sequence[str], count: int, seed: int | None) -> list[str]:
    """`count` distinct keys; the same seed and listing give the same picks."""
    if count > len(keys):
        raise NoTestImagesError(f"asked for {count} images but only {len(keys)} are there")
    return random.Random(seed).sample(sorted(keys), count)


def _floats(values: Any) -> list[float] | None:
    if isinstance(values, list) and values and all(isinstance(v, int | float) for v in values):
        return [float(v) for v in values]
    return None


def probabilities_from_output(output: str | None) -> list[float] | None:
    """body.inferences of the execution output (bare, {"body": ...} or body as a JSON string)."""
    try:
        data = json.loads(output or "null")
    except json.JSONDecodeError:
        return None
    if isinstance(data, dict):
        body = data.get("body", data)
        if isinstance(body, str):
            try:
                body = json.loads(body)
            except json.JSONDecodeError:
                return None
        if isinstance(body, dict):
            return _floats(body.get("inferences"))
    return None


def probabilities_from_cause(cause: str | None) -> list[float] | None:
    """Inferences carried by a failure's cause: a JSON field, or the message's "inferences [a, b]"."""
    if not cause:
        return None
    text = cause
    try:
        data = json.loads(cause)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        found = _floats(data.get("inferences")) or probabilities_from_output(json.dumps(data))
        if found:
            return found
        text = str(data.get("errorMessage", cause))
    match = _INFERENCES_IN_TEXT.search(text)
    if not match:
        return None
    try:
        return [float(part) for part in match.group(1).split(",") if part.strip()]
    except ValueError:
        return None


def row_from_execution(key: str, execution: dict[str, Any]) -> Row:
    status = execution["status"]
    true_index = class_from_key(key)
    row = Row(
        key=key,
        true_class=CLASS_NAMES[true_index] if true_index is not None else None,
        execution_arn=execution["executionArn"],
        status=status,
        outcome="failed",
    )
    if status == "SUCCEEDED":
        row.outcome = "succeeded"
        row.probabilities = probabilities_from_output(execution.get("output"))
    elif status == "RUNNING":
        row.outcome = "timed_out"
        row.error = "still RUNNING when --timeout expired"
    else:
        row.error = execution.get("error") or status
        row.outcome = "low_confidence" if row.error == LOW_CONFIDENCE_ERROR else "failed"
        row.probabilities = probabilities_from_cause(execution.get("cause"))
    if row.probabilities and len(row.probabilities) == len(CLASS_NAMES):
        row.predicted_class = CLASS_NAMES[max(range(len(CLASS_NAMES)), key=row.probabilities.__getitem__)]
    return row


def run_executions(
    sfn: Any,
    state_machine_arn: str,
    bucket: str,
    keys: Sequence[str],
    *,
    concurrency: int = 8,
    timeout_seconds: float = 300.0,
    on_done: Callable[[Row], None] = lambda row: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[Row]:
    """Keep at most `concurrency` executions running; poll with backoff until all end or time out."""
    run_id = uuid.uuid4().hex[:8]
    pending = list(enumerate(keys))
    running: dict[str, tuple[int, str]] = {}
    rows: dict[int, Row] = {}
    deadline = clock() + timeout_seconds
    delay = 0.2
    while pending or running:
        while pending and len(running) < concurrency:
            index, key = pending.pop(0)
            # Names are explicit: unique per run, and moto's generated names collide on a second call.
            started = sfn.start_execution(
                stateMachineArn=state_machine_arn,
                name=f"scones-invoke-{run_id}-{index:04d}",
                input=json.dumps({"image_data": "", "s3_bucket": bucket, "s3_key": key}),
            )
            running[started["executionArn"]] = (index, key)
        progressed = False
        for arn, (index, key) in list(running.items()):
            execution = sfn.describe_execution(executionArn=arn)
            if execution["status"] != "RUNNING":
                rows[index] = row_from_execution(key, execution)
                on_done(rows[index])
                del running[arn]
                progressed = True
        if not running and not pending:
            break
        if clock() >= deadline:
            for arn, (index, key) in running.items():
                rows[index] = row_from_execution(key, sfn.describe_execution(executionArn=arn))
                on_done(rows[index])
            for index, key in pending:  # never started: report them rather than drop them
                rows[index] = Row(key, None, "", "NOT_STARTED", "timed_out", "not started before --timeout")
            break
        delay = 0.2 if progressed else min(delay * 1.5, 5.0)
        sleep(delay)
    return [rows[index] for index in sorted(rows)]


def summarize(rows: Sequence[Row]) -> dict[str, Any]:
    judged = [row.correct for row in rows if row.correct is not None]
    return {
        "executions": len(rows),
        "succeeded": sum(row.outcome == "succeeded" for row in rows),
        "low_confidence": sum(row.outcome == "low_confidence" for row in rows),
        "failed": sum(row.outcome == "failed" for row in rows),
        "timed_out": sum(row.outcome == "timed_out" for row in rows),
        "succeeded_accuracy": (sum(judged) / len(judged)) if judged else None,
        "rows": [{**asdict(row), "correct": row.correct} for row in rows],
    }


def format_table(rows: Sequence[Row]) -> str:
    header = ("image", "true", "predicted", *(f"p_{name}" for name in CLASS_NAMES), "outcome")
    lines = [header]
    for row in rows:
        probabilities = row.probabilities if row.probabilities and len(row.probabilities) == len(CLASS_NAMES) else None
        outcome = row.outcome.replace("_", " ")
        if row.outcome == "failed":
            outcome = f"failed: {row.error}"
        elif row.outcome == "succeeded" and row.correct is False:
            outcome = "succeeded (wrong class)"
        lines.append(
            (
                "/".join(row.key.split("/")[-2:]),
                row.true_class or "?",
                row.predicted_class or "-",
                *(f"{p:.3f}" for p in probabilities or []),
                *(["-"] * (len(CLASS_NAMES) if probabilities is None else 0)),
                outcome,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def _summary_line(summary: dict[str, Any]) -> str:
    accuracy = summary["succeeded_accuracy"]
    shown = f"{accuracy:.1%}" if accuracy is not None else "n/a"
    return (
        f"{summary['executions']} executions: {summary['succeeded']} succeeded, "
        f"{summary['low_confidence']} low confidence, {summary['failed']} failed, "
        f"{summary['timed_out']} timed out; accuracy of succeeded predictions: {shown}"
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
@click.option("--strict", is_flag=True, help="Exit 1 if any execution failed for a reason other than low confidence.")
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
    keys = list_test_keys(session.client("s3"), bucket, prefix)
    if not keys:
        raise NoTestImagesError(f"no images under s3://{bucket}/{prefix}: run `scones prepare --bucket {bucket}`")
    picked = pick_keys(keys, count, seed)
    click.echo(f"starting {count} executions of {state_machine_arn} on images from s3://{bucket}/{prefix}")

    def progress(row: Row) -> None:
        click.echo(f"  {row.outcome:<14} {row.key}", err=True)

    rows = run_executions(
        session.client("stepfunctions"),
        state_machine_arn,
        bucket,
        picked,
        concurrency=concurrency,
        timeout_seconds=timeout,
        on_done=progress,
    )
    summary = {"state_machine_arn": state_machine_arn, "bucket": bucket, "seed": seed, **summarize(rows)}
    click.echo(format_table(rows))
    click.echo(_summary_line(summary))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(summary, indent=2) + "\n")
        click.echo(f"wrote {json_out}")
    if summary["timed_out"]:
        raise InvokeError(f"{summary['timed_out']} execution(s) did not finish within {timeout:.0f}s")
    if strict and summary["failed"]:
        raise InvokeError(f"{summary['failed']} execution(s) failed (see the table)")
