"""`scones local up|down|status|env|notifications`: the local AWS emulator as a background process."""

from __future__ import annotations

import json
from pathlib import Path

import click
from botocore.exceptions import BotoCoreError, ClientError

from scones.local import control
from scones.local.inventory import list_deployed
from scones.local.notifications import NotificationRecordError, sent_notifications
from scones.local.state import LOG_FILE, StateFileError

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=control.STATE_DIR_ENV,
    default=control.DEFAULT_STATE_DIR,
    show_default=True,
    help=f"Where the emulator keeps state.json and its log (env {control.STATE_DIR_ENV}).",
)


@click.group("local")
def local_group() -> None:
    """Run the local AWS emulator: moto on 127.0.0.1 that really runs Lambdas, Step Functions
    and the SageMaker endpoint."""


@local_group.command("up")
@click.option("--port", type=click.IntRange(1, 65535), default=control.DEFAULT_PORT, show_default=True)
@click.option(
    "--timeout",
    "timeout_seconds",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for the emulator to answer.",
)
@state_dir_option
def up_cmd(port: int, timeout_seconds: float, state_dir: Path) -> None:
    """Start the emulator in the background (does nothing if it already runs)."""
    try:
        state, already = control.up(state_dir, port, timeout_seconds)
    except (control.EmulatorError, StateFileError) as exc:
        raise click.ClickException(str(exc)) from exc
    verb = "already running" if already else "running"
    click.echo(f"Local AWS emulator {verb} at {state.url} (pid {state.pid}, log {state_dir / LOG_FILE}).")
    click.echo("Point AWS clients at it with:")
    for line in control.env_exports(state.url):
        click.echo(f"  {line}")


@local_group.command("down")
@state_dir_option
def down_cmd(state_dir: Path) -> None:
    """Stop the emulator and every process it started (safe to run twice)."""
    try:
        state = control.down(state_dir)
    except StateFileError as exc:
        raise click.ClickException(str(exc)) from exc
    if state is None:
        click.echo("Local AWS emulator is not running.")
    else:
        click.echo(f"Local AWS emulator at {state.url} (pid {state.pid}) stopped.")


@local_group.command("status")
@state_dir_option
def status_cmd(state_dir: Path) -> None:
    """Say whether the emulator runs and what is deployed on it. Exit status 3 when it is down."""
    try:
        report = control.status(state_dir)
    except StateFileError as exc:
        raise click.ClickException(str(exc)) from exc
    if report.state is None:
        click.echo("Local AWS emulator is not running.")
        raise SystemExit(3)
    state = report.state
    click.echo(f"Local AWS emulator running at {state.url} (pid {state.pid}, since {state.started_at}).")
    click.echo(f"  worker processes: {len(report.worker_pids)}")
    try:
        inv = list_deployed(state.url)
    except (BotoCoreError, ClientError) as exc:
        raise click.ClickException(f"the emulator does not answer: {type(exc).__name__}: {exc}") from exc
    click.echo(f"  buckets:        {', '.join(inv.buckets) or '-'}")
    click.echo(f"  functions:      {', '.join(inv.functions) or '-'}")
    machines = [f"{name} ({count} executions)" for name, count in inv.state_machines.items()]
    click.echo(f"  state machines: {', '.join(machines) or '-'}")
    endpoints = [f"{name} ({status})" for name, status in inv.endpoints.items()]
    click.echo(f"  endpoints:      {', '.join(endpoints) or '-'}")
    click.echo(f"  topics:         {', '.join(inv.topics) or '-'}")


def _running_url(state_dir: Path) -> str:
    try:
        state = control.running_state(state_dir)
    except StateFileError as exc:
        raise click.ClickException(str(exc)) from exc
    if state is None:
        raise click.ClickException("the local AWS emulator is not running; start it with `scones local up`")
    return state.url


@local_group.command("notifications")
@click.option(
    "--topic-arn",
    "topic_arns",
    multiple=True,
    help="The topic whose messages to print (repeatable) [default: every topic of the emulator].",
)
@state_dir_option
def notifications_cmd(topic_arns: tuple[str, ...], state_dir: Path) -> None:
    """Print every message the emulator's SNS topics sent, oldest first: one JSON line each
    (topic_arn, message_id, subject, message)."""
    url = _running_url(state_dir)
    try:
        topics = list(topic_arns) or list_deployed(url).topic_arns
        for topic_arn in topics:
            for sent in sent_notifications(url, topic_arn):
                line = {"topic_arn": topic_arn, "message_id": sent.message_id, "subject": sent.subject}
                click.echo(json.dumps({**line, "message": sent.message}))
    except (NotificationRecordError, BotoCoreError, ClientError) as exc:
        raise click.ClickException(str(exc)) from exc


@local_group.command("env")
@state_dir_option
def env_cmd(state_dir: Path) -> None:
    """Print the shell exports for the running emulator: eval "$(scones local env)"."""
    for line in control.env_exports(_running_url(state_dir)):
        click.echo(line)
