"""`scones local up|down|status|env|fault|alarms|notifications`: the local AWS emulator as a background process."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from botocore.exceptions import BotoCoreError, ClientError

from scones.local import control
from scones.local.alarms import ALARM, evaluate_remote, in_alarm
from scones.local.emulator_api import EmulatorApiError
from scones.local.fault_api import FaultClient
from scones.local.faults import FAULT_TYPES, ActiveFault, FaultSpecError, fault_for_target
from scones.local.inventory import list_deployed
from scones.local.notifications import sent_notifications
from scones.local.state import LOG_FILE, StateFileError
from scones.paths import repo_default

state_dir_option = click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=control.STATE_DIR_ENV,
    **repo_default("build/local"),
    help=f"Where the emulator keeps state.json and its log (env {control.STATE_DIR_ENV}).",
)


@click.group("local")
def local_group() -> None:
    """Run the local AWS emulator: moto on 127.0.0.1 that really runs Lambdas, Step Functions
    and the SageMaker endpoint."""


@local_group.command("up")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=control.DEFAULT_PORT,
    show_default=True,
    help="Port on 127.0.0.1 to listen on.",
)
@click.option(
    "--timeout",
    "timeout_seconds",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for the emulator to answer.",
)
@click.option(
    "--iam/--no-iam",
    "enforce_iam",
    default=True,
    show_default=True,
    help="Enforce IAM: Lambdas, Step Functions and the endpoint act as their roles, held to their policies; "
    "the keys printed below keep full access.",
)
@state_dir_option
def up_cmd(port: int, timeout_seconds: float, enforce_iam: bool, state_dir: Path) -> None:
    """Start the emulator in the background (does nothing if it already runs)."""
    try:
        state, already = control.up(state_dir, port, timeout_seconds, enforce_iam=enforce_iam)
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
    machines = [
        f"{name} ({'express' if count is None else f'{count} executions'})"
        for name, count in inv.state_machines.items()
    ]
    click.echo(f"  state machines: {', '.join(machines) or '-'}")
    endpoints = [f"{name} ({status})" for name, status in inv.endpoints.items()]
    click.echo(f"  endpoints:      {', '.join(endpoints) or '-'}")
    click.echo(f"  topics:         {', '.join(inv.topics) or '-'}")


@local_group.command("env")
@state_dir_option
def env_cmd(state_dir: Path) -> None:
    """Print the shell exports for the running emulator: eval "$(scones local env)"."""
    for line in control.env_exports(_emulator_url(None, state_dir)):
        click.echo(line)


def _emulator_url(url: str | None, state_dir: Path) -> str:
    """`url` if given, else the URL of the emulator `scones local up` started (a clear error if none)."""
    if url:
        return url
    try:
        state = control.running_state(state_dir)
    except StateFileError as exc:
        raise click.ClickException(str(exc)) from exc
    if state is None:
        raise click.ClickException("the local AWS emulator is not running; start it with `scones local up`")
    return state.url


# -- faults ----------------------------------------------------------------------------------

url_option = click.option(
    "--url",
    default=None,
    help="The emulator to talk to (default: the one `scones local up` started, from --state-dir).",
)


def _fault_client(url: str | None, state_dir: Path) -> FaultClient:
    return FaultClient(_emulator_url(url, state_dir))


def _describe(active: ActiveFault) -> str:
    left = "until cleared" if active.remaining is None else f"{active.remaining} left"
    options = {k: v for k, v in vars(active.fault).items() if k not in ("function", "endpoint", "bucket", "key_prefix")}
    extra = "".join(f" {k}={v}" for k, v in options.items())
    return f"{active.id}  {active.fault.kind} {active.fault.target}{extra}  ({left}, triggered {active.triggered})"


@local_group.group("fault")
def fault_group() -> None:
    """Make chosen calls fail as AWS would fail them, for a local game day (docs/emulator.md)."""


@fault_group.command("add")
@click.argument("kind", type=click.Choice(sorted(FAULT_TYPES)))
@click.argument("target")
@click.option("--count", type=click.IntRange(min=1), default=None, help="Only the next N matching calls.")
@click.option("--error-type", default=None, help="lambda-error: the error type the function raises.")
@click.option("--message", default=None, help="lambda-error: the error message.")
@click.option("--status", type=int, default=None, help="endpoint-error: the model's HTTP status (default 500).")
@click.option("--seconds", type=float, default=None, help="endpoint-latency: seconds added (default 1).")
@url_option
@state_dir_option
def fault_add_cmd(
    kind: str,
    target: str,
    count: int | None,
    error_type: str | None,
    message: str | None,
    status: int | None,
    seconds: float | None,
    url: str | None,
    state_dir: Path,
) -> None:
    """Inject a fault. TARGET: a function name (lambda-*), an endpoint name (endpoint-*), or
    BUCKET[/KEY-PREFIX] (s3-read-denied)."""
    try:
        fault = fault_for_target(kind, target, error_type=error_type, message=message, status=status, seconds=seconds)
        active = _fault_client(url, state_dir).add(fault, count)
    except (FaultSpecError, EmulatorApiError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"added {_describe(active)}")


@fault_group.command("list")
@url_option
@state_dir_option
def fault_list_cmd(url: str | None, state_dir: Path) -> None:
    """List the injected faults."""
    try:
        faults = _fault_client(url, state_dir).list()
    except EmulatorApiError as exc:
        raise click.ClickException(str(exc)) from exc
    if not faults:
        click.echo("No faults injected.")
    for active in faults:
        click.echo(_describe(active))


@fault_group.command("clear")
@click.argument("fault_id", required=False)
@url_option
@state_dir_option
def fault_clear_cmd(fault_id: str | None, url: str | None, state_dir: Path) -> None:
    """Remove one fault (by its id, from `list`) or all of them."""
    try:
        cleared = _fault_client(url, state_dir).clear(fault_id)
    except EmulatorApiError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"cleared {cleared} fault{'s' if cleared != 1 else ''}")


# -- alarms ----------------------------------------------------------------------------------


def _utc_time(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO-8601 time (e.g. 2026-01-01T12:00:00Z)") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@local_group.command("alarms")
@click.option(
    "--at",
    callback=_utc_time,
    metavar="TIME",
    help="Evaluate as if it were this ISO-8601 time (UTC unless it says otherwise); default: now.",
)
@click.option("--fail-on-alarm", is_flag=True, help="Exit with status 4 when any alarm is in ALARM.")
@url_option
@state_dir_option
def alarms_cmd(at: datetime | None, fail_on_alarm: bool, url: str | None, state_dir: Path) -> None:
    """Evaluate every CloudWatch alarm on the running emulator, as CloudWatch would, and print
    each one's state and reason (state changes notify the alarms' SNS topics)."""
    try:
        evaluations = evaluate_remote(_emulator_url(url, state_dir), at)
    except EmulatorApiError as exc:
        raise click.ClickException(str(exc)) from exc
    if not evaluations:
        click.echo("No alarms are deployed on the emulator.")
    for evaluation in evaluations:
        change = f"{evaluation.old_state} -> " if evaluation.changed else ""
        click.echo(f"{evaluation.name}: {change}{evaluation.new_state}")
        click.echo(f"  {evaluation.error or evaluation.reason}")
        if evaluation.notified:
            click.echo(f"  notified: {', '.join(evaluation.notified)}")
    alarming = in_alarm(evaluations)
    if fail_on_alarm and alarming:
        click.echo(f"{len(alarming)} alarm(s) in {ALARM}: {', '.join(alarming)}", err=True)
        raise SystemExit(4)


# -- notifications ---------------------------------------------------------------------------


@local_group.command("notifications")
@click.option(
    "--topic-arn",
    "topic_arns",
    multiple=True,
    help="The topic whose messages to print (repeatable) [default: every topic of the emulator].",
)
@url_option
@state_dir_option
def notifications_cmd(topic_arns: tuple[str, ...], url: str | None, state_dir: Path) -> None:
    """Print every message the emulator's SNS topics sent, oldest first: one JSON line each
    (topic_arn, message_id, subject, message)."""
    url = _emulator_url(url, state_dir)
    try:
        topics = list(topic_arns) or list_deployed(url).topic_arns
        for topic_arn in topics:
            for sent in sent_notifications(url, topic_arn):
                line = {"topic_arn": topic_arn, "message_id": sent.message_id, "subject": sent.subject}
                click.echo(json.dumps({**line, "message": sent.message}))
    except (EmulatorApiError, BotoCoreError, ClientError) as exc:
        raise click.ClickException(str(exc)) from exc
