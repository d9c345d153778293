"""End to end on the local emulator, the upload entry point and the result events (issue 20, event-driven):
a photo uploaded under incoming/ becomes an S3 event on EventBridge, a message on the ingest queue, an execution
named after the object version, and a VehicleClassified event on the results bus. One stack of its own, with
ingestion on (the local root's ingestion_enabled; the demo leaves it off) and the tiny red/blue model (no
training); the results are read the way a downstream team would, from a queue subscribed to the bus
(scones.watch). Each test counts only the events, executions and notifications about its own keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scones.local.notifications import sent_bodies, sent_notifications
from scones.watch import subscribe
from tests.support.e2e_stacks import Stack, tiny_stack
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
