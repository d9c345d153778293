"""Tail the results bus: the workflow's VehicleClassified and VehicleNeedsReview events as they arrive.

EventBridge keeps nothing for a reader who comes later, so watching is subscribing: a temporary SQS queue
(SSE-SQS, only the rule may send) and a rule on the results bus matching the two result types
(docs/contracts.md), both removed when the watch ends, however it ends. A queue the caller already
subscribed (`queue_url`) is read as it is and left alone.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import click
from botocore.exceptions import ClientError

from scones.aws import aws_options, make_session

SOURCE = "scones.classification"
RESULT_TYPES = ("VehicleClassified", "VehicleNeedsReview")
RESULT_PATTERN = {"source": [SOURCE], "detail-type": list(RESULT_TYPES)}
# SQS long polling: the most ReceiveMessage may wait.
MAX_WAIT_SECONDS = 20


class WatchError(Exception):
    """The results bus cannot be watched (it does not exist, or a call was refused)."""


@dataclass(frozen=True)
class Subscription:
    bus_name: str
    queue_url: str
    rule_name: str | None  # None: the caller's queue, not ours


def _queue_policy(queue_arn: str, rule_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "RuleSends",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}},
                }
            ],
        }
    )


@contextmanager
def subscribe(session: Any, bus_name: str, queue_url: str | None = None) -> Iterator[Subscription]:
    """A queue receiving the bus's result events while the block runs (`queue_url`: that queue, as it is)."""
    if queue_url is not None:
        yield Subscription(bus_name, queue_url, None)
        return
    events, sqs = session.client("events"), session.client("sqs")
    try:
        events.describe_event_bus(Name=bus_name)
    except ClientError as exc:
        raise WatchError(f"cannot watch event bus {bus_name!r}: {exc}") from None
    name = f"scones-watch-{uuid.uuid4().hex[:12]}"
    url = sqs.create_queue(QueueName=name, Attributes={"SqsManagedSseEnabled": "true"})["QueueUrl"]
    try:
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule_arn = events.put_rule(
            Name=name,
            EventBusName=bus_name,
            EventPattern=json.dumps(RESULT_PATTERN),
            Description="scones watch: removed when the watch ends",
        )["RuleArn"]
        try:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": _queue_policy(queue_arn, rule_arn)})
            events.put_targets(Rule=name, EventBusName=bus_name, Targets=[{"Id": "watch", "Arn": queue_arn}])
            yield Subscription(bus_name, url, name)
        finally:
            # Best effort: a cleanup error must not hide the error that ended the watch.
            with suppress(ClientError):
                events.remove_targets(Rule=name, EventBusName=bus_name, Ids=["watch"])
            with suppress(ClientError):
                events.delete_rule(Name=name, EventBusName=bus_name)
    finally:
        with suppress(ClientError):
            sqs.delete_queue(QueueUrl=url)


def results(
    sqs: Any, queue_url: str, *, count: int | None = None, timeout_seconds: float | None = None
) -> Iterator[dict[str, Any]]:
    """Each result event on the queue as it arrives (deleted once read), until `count` were read or
    `timeout_seconds` passed (None: forever). Other messages are deleted and skipped."""
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    seen = 0
    while count is None or seen < count:
        wait = MAX_WAIT_SECONDS if deadline is None else min(MAX_WAIT_SECONDS, deadline - time.monotonic())
        if wait <= 0:
            return
        received = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=1 if count is not None else 10, WaitTimeSeconds=int(max(wait, 1))
        )
        for message in received.get("Messages", []):
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            event = _result_event(message.get("Body", ""))
            if event is not None:
                seen += 1
                yield event


def _result_event(body: str) -> dict[str, Any] | None:
    try:
        event = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(event, dict) or event.get("detail-type") not in RESULT_TYPES:
        return None
    return event


def format_result(event: dict[str, Any]) -> str:
    """One line for a person: the verdict and the image."""
    detail = event.get("detail") or {}
    where = f"s3://{detail.get('bucket')}/{detail.get('key')}"
    if event.get("detail-type") == "VehicleClassified":
        verdict = f"{detail.get('vehicle')} ({float(detail.get('confidence') or 0):.1%})"
    else:
        verdict = f"needs review: {detail.get('reason')}"
    return f"{event.get('time', '')}  {verdict:<28} {where}"


@click.command("watch")
@click.option(
    "--bus",
    envvar="SCONES_RESULTS_BUS",
    required=True,
    help="The results bus (terraform output results_bus_name, e.g. scones-dev-results) [env SCONES_RESULTS_BUS].",
)
@click.option(
    "--queue-url", default=None, help="Read this queue, already subscribed to the bus, instead of a temporary one."
)
@click.option("--count", type=click.IntRange(min=1), default=None, help="Stop after this many results.")
@click.option("--timeout", type=click.FloatRange(min=1), default=None, help="Stop after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print each event as one line of JSON (for scripts).")
@aws_options
def watch_cmd(
    bus: str,
    queue_url: str | None,
    count: int | None,
    timeout: float | None,
    as_json: bool,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Print the workflow's results (VehicleClassified, VehicleNeedsReview) as they arrive on the results bus."""
    session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
    try:
        with subscribe(session, bus, queue_url) as subscription:
            # On stderr, so --json output stays pure; a script waits for this line before uploading.
            click.echo(f"watching {bus} on {subscription.queue_url} (Ctrl-C to stop)", err=True)
            for event in results(session.client("sqs"), subscription.queue_url, count=count, timeout_seconds=timeout):
                click.echo(json.dumps(event, sort_keys=True) if as_json else format_result(event))
    except WatchError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        pass
