"""`scones batch`: classify every object under a prefix with the batch state machine (scones.batch)."""

from __future__ import annotations

import json

import click

from scones import batch
from scones.aws import aws_options, make_session


@click.command("batch")
@click.option("--prefix", required=True, help="Key prefix of the images in the batch's bucket, e.g. data/test/.")
@click.option(
    "--state-machine-arn",
    envvar="SCONES_BATCH_STATE_MACHINE_ARN",
    required=True,
    help="The batch state machine (output stack.batch_state_machine_arn) [env SCONES_BATCH_STATE_MACHINE_ARN].",
)
@click.option("--wait/--no-wait", default=False, help="Follow the batch to its end and print the summary.")
@click.option("--json", "json_out", is_flag=True, help="Print the summary as JSON (with --wait).")
@click.option(
    "--timeout", type=click.FloatRange(min=1), default=3600.0, show_default=True, help="Seconds to wait (with --wait)."
)
@aws_options
def batch_cmd(
    prefix: str,
    state_machine_arn: str,
    wait: bool,
    json_out: bool,
    timeout: float,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Classify every object under PREFIX; with --wait, show progress, the summary and where the results are."""
    session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
    sfn, s3 = session.client("stepfunctions"), session.client("s3")
    try:
        machine = batch.BatchMachine.describe(sfn, state_machine_arn)
        count = batch.check_prefix(s3, machine, prefix)
    except batch.BatchError as exc:
        raise click.ClickException(str(exc)) from None
    execution_arn = batch.start(sfn, machine, prefix)
    click.echo(f"started {execution_arn} on {count} object(s) under s3://{machine.bucket}/{prefix}", err=True)
    if not wait:
        return

    def show(current: batch.Progress) -> None:
        if machine.items_per_chunk > 1:
            # The Map Run counts only chunks that failed whole; an image's own failure is in the summary.
            failed = f"{current.failed} in failed chunks of {machine.items_per_chunk}"
        else:
            failed = f"{current.failed} failed"
        click.echo(f"  {current.done}/{current.total} items done, {failed}", err=True)

    try:
        execution = batch.wait(sfn, execution_arn, timeout_seconds=timeout, on_progress=show)
    except batch.BatchError as exc:
        raise click.ClickException(str(exc)) from None
    summary, _ = batch.summarize_execution(s3, execution)
    summary = batch.tolerate(summary, machine)
    written = batch.write_summary(s3, summary)
    if json_out:
        click.echo(json.dumps({**summary.as_dict(), "summary": written}, indent=2))
    else:
        click.echo("\n".join(batch.summary_lines(summary)))
        if written:
            click.echo(f"  summary: {written}")
    if summary.status != "SUCCEEDED":
        raise click.ClickException(f"the batch ended {summary.status}")
    if summary.error:
        raise click.ClickException(f"the batch ended {summary.status} with {summary.error}: {summary.cause}")
