"""End to end on the local emulator, the upload entry point and the result events (issue 20, event-driven):
a photo uploaded under incoming/ becomes an S3 event on EventBridge, a message on the ingest queue, an execution
named after the object version, and a VehicleClassified event on the results bus. One stack of its own, with
ingestion on (the local root's ingestion_enabled; the demo leaves it off) and the tiny red/blue model (no
training); the results are read the way a downstream team would, from a queue subscribed to the bus
(scones.watch). Each test counts only the events, executions and notifications about its own keys.

The starter's role is held to account here, on this stack, as tests/e2e/test_iam_enforced.py holds the
workflow's roles (whose stack leaves ingestion off): each statement of it is removed in turn, one upload goes
through, and what needs the statement fails. The ingestion path has no other role: the rule's target is the
queue, which needs none (its queue policy lets the rule send; resource policies are not enforced here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scones.local.notifications import sent_bodies, sent_notifications
from scones.watch import subscribe
from tests.support.e2e_stacks import Stack, tiny_stack
from tests.support.iam_statements import POLICY, inline_policy, log_text, unclassified, without_statement
from tests.support.lambda_loader import load_app
from tests.support.local_fixtures import model_artifact, png

pytestmark = pytest.mark.e2e
pytest.importorskip("torch")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with tiny_stack(tmp_path_factory.mktemp("events"), model_artifact(), {"ingestion_enabled": "true"}) as deployed:
        yield deployed


@pytest.fixture(scope="module")
def results(stack: Stack) -> Iterator[Callable[[str], list[dict[str, Any]]]]:
    """`results(key)`: the result events about `key` so far, read off a queue subscribed to the results bus."""
    sqs = stack.client("sqs")
    seen: list[dict[str, Any]] = []
    with subscribe(stack.deployment.session(), stack.deployment.outputs["results_bus_name"]) as subscription:

        def about(key: str) -> list[dict[str, Any]]:
            while messages := sqs.receive_message(QueueUrl=subscription.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                for message in messages:
                    seen.append(json.loads(message["Body"]))
                    sqs.delete_message(QueueUrl=subscription.queue_url, ReceiptHandle=message["ReceiptHandle"])
            return [event for event in seen if event["detail"]["key"] == key]

        yield about


def _executions_of(stack: Stack, key: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    machine = stack.deployment.outputs["state_machine_arn"]
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    described = [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]
    return [e for e in described if json.loads(e["input"]).get("s3_key") == key]


def _ended(stack: Stack, key: str, timeout_seconds: float = 60.0) -> dict[str, Any]:
    """The one execution of `key`, once it has ended (the poller starts it within a moment of the upload)."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        executions = _executions_of(stack, key)
        if executions and executions[0]["status"] != "RUNNING":
            (execution,) = executions
            return execution
        time.sleep(0.2)
    raise AssertionError(f"no ended execution for {key} within {timeout_seconds}s: {_executions_of(stack, key)}")


def _upload(stack: Stack, key: str, body: bytes) -> None:
    stack.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=body)


def test_the_ingest_mapping_is_created_once_the_starters_role_may_poll(stack: Stack) -> None:
    """Lambda refuses an SQS mapping whose function's role may not poll the queue yet (the emulator checks it):
    in the stack's first apply the mapping is created after the starter's policy. terraform/modules/iam's
    lambda_role_arns waits for the policies; without that only the ingest queue's own creation, which the
    mapping also waits for and which has been the slower so far, kept the order (on AWS a lost race costs the
    provider's retries, for up to two minutes)."""
    log = (stack.deployment.config.out / "terraform-apply-1.log").read_text()
    policy = 'aws_iam_role_policy.lambda["start_classification"]: Creation complete'
    mapping = "aws_lambda_event_source_mapping.ingest[0]: Creating..."
    assert log.index(policy) < log.index(mapping)
    assert "does not have permissions to call" not in log


def test_an_uploaded_photo_is_classified_and_announced(
    stack: Stack, results: Callable[[str], list[dict[str, Any]]]
) -> None:
    key = "incoming/red.png"  # the tiny model: red is a bicycle, surely
    _upload(stack, key, png((250, 10, 10)))
    execution = _ended(stack, key)
    assert execution["status"] == "SUCCEEDED"
    (event,) = results(key)
    assert (event["source"], event["detail-type"]) == ("scones.classification", "VehicleClassified")
    detail = event["detail"]
    assert (detail["bucket"], detail["vehicle"], detail["execution_arn"]) == (
        stack.bucket,
        "bicycle",
        execution["executionArn"],
    )
    assert detail["confidence"] == max(detail["probabilities"]) > 0.99
    # Named after the object version, as the starter names it.
    version = stack.client("s3").head_object(Bucket=stack.bucket, Key=key).get("VersionId")
    assert version and execution["name"] == load_app("start_classification").execution_name(stack.bucket, key, version)


def test_a_non_image_notifies_a_failure_and_announces_nothing(
    stack: Stack, results: Callable[[str], list[dict[str, Any]]]
) -> None:
    topic = stack.deployment.outputs["sns_topic_arn"]
    before = len(sent_notifications(stack.deployment.url, topic))
    key = "incoming/not-a-photo.png"
    _upload(stack, key, b"these are notes, not pixels")
    execution = _ended(stack, key)
    assert execution["status"] == "FAILED"
    (notification,) = [n for n in sent_bodies(stack.deployment.url, topic, since=before) if key in json.dumps(n)]
    assert notification["event"] == "failure" and notification["error"] == execution["error"]
    assert results(key) == []
    # A key without an image suffix is not the rule's: no execution at all.
    _upload(stack, "incoming/notes.txt", b"plain text")
    time.sleep(1)
    assert _executions_of(stack, "incoming/notes.txt") == []


def test_the_same_upload_delivered_again_gives_one_execution_and_one_result(
    stack: Stack, results: Callable[[str], list[dict[str, Any]]]
) -> None:
    """A redelivery: the very S3 event, captured off the default bus by a rule of our own, sent again to the
    ingest queue twice (as SQS's at-least-once delivery or a retried batch would)."""
    events, sqs = stack.client("events"), stack.client("sqs")
    spy = sqs.create_queue(QueueName="e2e-s3-spy")["QueueUrl"]
    spy_arn = sqs.get_queue_attributes(QueueUrl=spy, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["aws.s3"], "detail": {"object": {"key": [{"prefix": "incoming/twice"}]}}}
    events.put_rule(Name="e2e-s3-spy", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="e2e-s3-spy", Targets=[{"Id": "spy", "Arn": spy_arn}])
    key = "incoming/twice.png"
    _upload(stack, key, png((10, 10, 250)))
    first = _ended(stack, key)
    (delivered,) = sqs.receive_message(QueueUrl=spy, MaxNumberOfMessages=10)["Messages"]
    ingest = stack.deployment.outputs["stack"]["ingest_queue_url"]
    for _ in range(2):
        sqs.send_message(QueueUrl=ingest, MessageBody=delivered["Body"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the poller takes both, and the starter reports neither as failed
        counts = sqs.get_queue_attributes(QueueUrl=ingest, AttributeNames=["All"])["Attributes"]
        if counts["ApproximateNumberOfMessages"] == counts["ApproximateNumberOfMessagesNotVisible"] == "0":
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"the ingest queue still holds the redeliveries: {counts}")
    assert [e["executionArn"] for e in _executions_of(stack, key)] == [first["executionArn"]]
    (event,) = results(key)
    assert (event["detail-type"], event["detail"]["vehicle"]) == ("VehicleClassified", "motorcycle")
    dead = stack.deployment.outputs["stack"]["ingest_dead_letter_queue_url"]
    assert "Messages" not in sqs.receive_message(QueueUrl=dead)


def test_scones_watch_prints_the_verdict_of_an_upload(stack: Stack) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "python"), "AWS_ENDPOINT_URL": stack.deployment.url}
    bus = stack.deployment.outputs["results_bus_name"]
    command = [sys.executable, "-m", "scones.cli", "watch", "--bus", bus, "--count", "1", "--json", "--timeout", "60"]
    sqs, events = stack.client("sqs"), stack.client("events")

    def subscriptions() -> tuple[set[str], set[str]]:
        queues = set(sqs.list_queues().get("QueueUrls", []))
        return queues, {rule["Name"] for rule in events.list_rules(EventBusName=bus)["Rules"]}

    before = subscriptions()
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as watch:
        assert watch.stderr is not None
        assert watch.stderr.readline().startswith(f"watching {bus} on ")  # subscribed: now upload
        _upload(stack, "incoming/watched.png", png((250, 10, 10)))
        out, err = watch.communicate(timeout=90)
    assert watch.returncode == 0, err
    (line,) = out.splitlines()
    event = json.loads(line)
    assert event["detail-type"] == "VehicleClassified"
    assert (event["detail"]["key"], event["detail"]["vehicle"]) == ("incoming/watched.png", "bicycle")
    # The watch's queue and rule are gone with it.
    assert subscriptions() == before


# -- The starter's role, one statement removed at a time ----------------------------------------------------

STARTER = "start-classification"
# Statement Sid -> what an upload does without it.
STARTER_EXPECTED = {
    # The function cannot start the workflow: it reports the record as failed, the queue redelivers it up to
    # its maxReceiveCount and then moves it to the dead-letter queue (whose alarm notifies); nothing runs.
    "StartClassification": "is not authorized to perform: states:StartExecution on resource: ",
    # Lambda drops the logs of a function whose role may not write them; the function runs.
    "WriteOwnLogs": "",
}
STARTER_NOT_OBSERVED = {
    "ConsumeIngestQueue": (
        "checked when the mapping is created (CreateEventSourceMapping, tests/unit/local/test_iam.py), not while "
        "the emulator polls: taken from a deployed stack it changes nothing here (docs/emulator.md, IAM)"
    ),
    "XRayTraces": "no X-Ray on the emulator",
    "DecryptIngestQueue": "KMS is not enforced (docs/emulator.md, IAM); the local stack has no customer-managed key",
}


@dataclass(frozen=True)
class Starter:
    role: str
    function: str
    policy: dict[str, Any]

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function}"


@pytest.fixture(scope="module")
def starter(stack: Stack) -> Starter:
    arn = stack.deployment.outputs["lambda_function_arns"]["start_classification"]
    role = stack.client("lambda").get_function_configuration(FunctionName=arn)["Role"].rsplit("/", 1)[-1]
    iam = stack.client("iam")
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == [POLICY]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    return Starter(role, arn.rsplit(":", 1)[-1], inline_policy(iam, role))


def test_every_statement_of_the_starters_role_is_classified(starter: Starter) -> None:
    expected = {(STARTER, sid) for sid in STARTER_EXPECTED}
    assert unclassified({STARTER: starter.policy}, expected, STARTER_NOT_OBSERVED) == []


def _dead_letter_of(stack: Stack, key: str, timeout_seconds: float = 30.0) -> dict[str, Any]:
    """The S3 event of `key` off the ingest dead-letter queue (deleted there), once it has arrived."""
    sqs = stack.client("sqs")
    dead = stack.deployment.outputs["stack"]["ingest_dead_letter_queue_url"]
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10).get("Messages", []):
            event = json.loads(message["Body"])
            if event["detail"]["object"]["key"] == key:
                sqs.delete_message(QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"])
                return dict(event)
        time.sleep(0.2)
    raise AssertionError(f"no dead letter for {key} within {timeout_seconds}s")


@contextmanager
def _redelivered_at_once(stack: Stack) -> Iterator[None]:
    """The ingest queue's visibility timeout at 0 for the block: a record the starter fails comes back at once
    instead of after 180 s (six times its timeout), so the queue's own redrive policy (maxReceiveCount, then
    the dead-letter queue) plays out in about a second."""
    sqs = stack.client("sqs")
    queue = stack.deployment.outputs["stack"]["ingest_queue_url"]
    attribute = "VisibilityTimeout"
    before = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=[attribute])["Attributes"][attribute]
    sqs.set_queue_attributes(QueueUrl=queue, Attributes={attribute: "0"})
    try:
        yield
    finally:
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={attribute: before})


@pytest.mark.parametrize("sid", sorted(STARTER_EXPECTED))
def test_removing_a_statement_of_the_starters_role_fails_what_needs_it(
    stack: Stack, starter: Starter, sid: str
) -> None:
    logs, key = stack.client("logs"), f"incoming/iam-{sid}.png"
    logged_before = log_text(logs, starter.log_group)
    if sid == "StartClassification":
        with without_statement(stack.client("iam"), starter.role, starter.policy, sid), _redelivered_at_once(stack):
            _upload(stack, key, png((250, 10, 10)))
            event = _dead_letter_of(stack, key)
        assert event["detail-type"] == "Object Created"
        assert _executions_of(stack, key) == []
        refusal = f"assumed-role/{starter.role}/{starter.function} {STARTER_EXPECTED[sid]}"
        refusal += stack.deployment.outputs["state_machine_arn"]
        assert refusal not in logged_before
        assert refusal in log_text(logs, starter.log_group)
        return
    with without_statement(stack.client("iam"), starter.role, starter.policy, sid):
        _upload(stack, key, png((250, 10, 10)))
        assert _ended(stack, key)["status"] == "SUCCEEDED"
    assert log_text(logs, starter.log_group) == logged_before  # nothing of this upload arrived
    # With the statement back, the starter's lines arrive again.
    _upload(stack, "incoming/iam-logs-back.png", png((250, 10, 10)))
    _ended(stack, "incoming/iam-logs-back.png")
    assert log_text(logs, starter.log_group) != logged_before
