"""S3 events reach EventBridge as AWS sends them, and rules deliver them to their targets (SQS, Step
Functions, another bus, Lambda) with input transformers, retries and dead-letter queues.

moto 5.2.5 sent one constant event id and an `eTag` field, delivered S3's events to every bus, ignored
input transformers on them, could not start a state machine (and then skipped the rule's other
targets), delivered for disabled rules, and stored RetryPolicy and DeadLetterConfig without using them.
One emulator, with IAM enforced (the admin's `testing` keys have full access)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from scones.local.faults import LambdaThrottle
from scones.local.server import LocalAWS
from scones.local.services import eventbridge
from tests.support.local_fixtures import client, create_function, wait_for_execution

BUCKET = "photos"
ACCOUNT = "123456789012"
IMAGES_RULE = {
    "source": ["aws.s3"],
    "detail-type": ["Object Created"],
    "detail": {
        "bucket": {"name": [BUCKET]},
        "object": {"key": [{"prefix": "incoming/"}], "size": [{"numeric": [">", 0]}]},
        "$or": [{"object": {"key": [{"suffix": ".png"}]}}, {"object": {"key": [{"suffix": ".jpg"}]}}],
    },
}
TO_WORKFLOW = {
    "InputPathsMap": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
    "InputTemplate": '{"s3_bucket": <bucket>, "s3_key": <key>, "image_data": ""}',
}
ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
_names = itertools.count()


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS(enforce_iam=True) as emulator:
        s3 = client("s3", emulator.url)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_notification_configuration(
            Bucket=BUCKET, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        yield emulator


def _name(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def _queue(url: str) -> tuple[str, str]:
    """(queue URL, queue ARN) of a new queue."""
    sqs = client("sqs", url)
    queue_url = sqs.create_queue(QueueName=_name("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return queue_url, arn


def _messages(url: str, queue_url: str) -> list[dict[str, Any]]:
    sqs = client("sqs", url)
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", []):
        found += batch
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def _bodies(url: str, queue_url: str) -> list[Any]:
    return [json.loads(message["Body"]) for message in _messages(url, queue_url)]


def _dead_letters(url: str, queue_url: str) -> list[dict[str, str]]:
    return [
        {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
        for message in _messages(url, queue_url)
    ]


def _rule(url: str, pattern: dict[str, Any], targets: list[dict[str, Any]], bus: str = "default") -> str:
    events = client("events", url)
    name = _name("rule")
    arn = events.put_rule(Name=name, EventPattern=json.dumps(pattern), EventBusName=bus)["RuleArn"]
    events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
    return str(arn)


def _role(url: str, action: str, resource: str) -> str:
    iam = client("iam", url)
    name = _name("events-role")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    if action:
        statement = {"Effect": "Allow", "Action": action, "Resource": resource}
        document = {"Version": "2012-10-17", "Statement": [statement]}
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(document))
    return str(arn)


def _machine(url: str) -> str:
    sfn = client("stepfunctions", url)
    role = "arn:aws:iam::123456789012:role/sfn"
    return str(sfn.create_state_machine(name=_name("m"), definition=json.dumps(ECHO), roleArn=role)["stateMachineArn"])


def _upload(url: str, key: str, body: bytes = b"image") -> None:
    client("s3", url).put_object(Bucket=BUCKET, Key=key, Body=body)


def _executions(url: str, machine: str) -> list[dict[str, Any]]:
    sfn = client("stepfunctions", url)
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    return [wait_for_execution(url, execution["executionArn"]) for execution in listed]


def test_the_buckets_eventbridge_setting_reads_back(aws: LocalAWS) -> None:
    """The Terraform provider reads it back after applying `eventbridge = true`."""
    answer = client("s3", aws.url).get_bucket_notification_configuration(Bucket=BUCKET)
    assert answer["EventBridgeConfiguration"] == {}


def test_an_upload_sends_an_object_created_event_shaped_as_aws_documents_it(aws: LocalAWS) -> None:
    queue_url, queue_arn = _queue(aws.url)
    _rule(aws.url, IMAGES_RULE, [{"Id": "queue", "Arn": queue_arn}])
    _upload(aws.url, "incoming/a.png")
    _upload(aws.url, "incoming/b.jpg")
    first, second = _bodies(aws.url, queue_url)
    assert first["id"] != second["id"]
    assert (first["source"], first["detail-type"], first["account"]) == ("aws.s3", "Object Created", ACCOUNT)
    assert first["resources"] == [f"arn:aws:s3:::{BUCKET}"]
    assert first["time"].endswith("Z")
    detail = first["detail"]
    assert detail["version"] == "0" and detail["bucket"] == {"name": BUCKET}
    assert detail["object"]["key"] == "incoming/a.png" and detail["object"]["size"] == len(b"image")
    assert detail["object"]["etag"] == client("s3", aws.url).head_object(Bucket=BUCKET, Key="incoming/a.png")[
        "ETag"
    ].strip('"')
    assert "version-id" not in detail["object"]  # the bucket is not versioned
    assert detail["object"]["sequencer"] < second["detail"]["object"]["sequencer"]
    assert (detail["reason"], detail["requester"]) == ("PutObject", ACCOUNT)
    assert detail["request-id"] != second["detail"]["request-id"]


def test_the_rule_matches_on_prefix_suffix_and_size(aws: LocalAWS) -> None:
    """moto's pattern matcher already had these filters (this test passes on moto alone); it pins
    them down for the S3 events the emulator now sends."""
    queue_url, queue_arn = _queue(aws.url)
    _rule(aws.url, IMAGES_RULE, [{"Id": "queue", "Arn": queue_arn}])
    _upload(aws.url, "incoming/notes.txt")
    _upload(aws.url, "elsewhere/c.png")
    _upload(aws.url, "incoming/empty.png", b"")
    _upload(aws.url, "incoming/d.png")
    assert [body["detail"]["object"]["key"] for body in _bodies(aws.url, queue_url)] == ["incoming/d.png"]


def test_s3_events_go_to_the_default_bus_only(aws: LocalAWS) -> None:
    client("events", aws.url).create_event_bus(Name="other")
    queue_url, queue_arn = _queue(aws.url)
    _rule(aws.url, IMAGES_RULE, [{"Id": "queue", "Arn": queue_arn}], bus="other")
    _upload(aws.url, "incoming/e.png")
    assert _bodies(aws.url, queue_url) == []


def test_a_delete_sends_an_object_deleted_event(aws: LocalAWS) -> None:
    queue_url, queue_arn = _queue(aws.url)
    _rule(aws.url, {"source": ["aws.s3"], "detail-type": ["Object Deleted"]}, [{"Id": "q", "Arn": queue_arn}])
    _upload(aws.url, "incoming/gone.png")
    client("s3", aws.url).delete_object(Bucket=BUCKET, Key="incoming/gone.png")
    (event,) = _bodies(aws.url, queue_url)
    assert event["detail"]["object"]["key"] == "incoming/gone.png"
    assert (event["detail"]["reason"], event["detail"]["deletion-type"]) == ("DeleteObject", "Permanently Deleted")


def test_a_versioned_buckets_events_carry_the_version_id(aws: LocalAWS) -> None:
    s3 = client("s3", aws.url)
    s3.create_bucket(Bucket="versioned-photos")
    s3.put_bucket_versioning(Bucket="versioned-photos", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket="versioned-photos", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    queue_url, queue_arn = _queue(aws.url)
    _rule(aws.url, {"detail": {"bucket": {"name": ["versioned-photos"]}}}, [{"Id": "q", "Arn": queue_arn}])
    version = s3.put_object(Bucket="versioned-photos", Key="incoming/v.png", Body=b"v")["VersionId"]
    (event,) = _bodies(aws.url, queue_url)  # and no "Object Tags Added": the upload had no tags
    assert event["detail"]["object"]["version-id"] == version


def test_an_input_transformer_shapes_what_an_s3_event_delivers(aws: LocalAWS) -> None:
    queue_url, queue_arn = _queue(aws.url)
    text = {
        "InputPathsMap": {"key": "$.detail.object.key"},
        "InputTemplate": '"uploaded <key> to <aws.events.rule-name>"',
    }
    rule = _rule(
        aws.url,
        IMAGES_RULE,
        [
            {"Id": "json", "Arn": queue_arn, "InputTransformer": TO_WORKFLOW},
            {"Id": "text", "Arn": queue_arn, "InputTransformer": text},
        ],
    )
    _upload(aws.url, "incoming/f.png")
    text_body, json_body = sorted(message["Body"] for message in _messages(aws.url, queue_url))
    assert json.loads(json_body) == {"s3_bucket": BUCKET, "s3_key": "incoming/f.png", "image_data": ""}
    assert text_body == f"uploaded incoming/f.png to {rule.split('/')[-1]}"


def test_a_state_machine_target_starts_an_execution_as_the_targets_role(aws: LocalAWS) -> None:
    machine = _machine(aws.url)
    role = _role(aws.url, "states:StartExecution", machine)
    _rule(aws.url, IMAGES_RULE, [{"Id": "sfn", "Arn": machine, "RoleArn": role, "InputTransformer": TO_WORKFLOW}])
    _upload(aws.url, "incoming/g.png")
    (execution,) = _executions(aws.url, machine)
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["input"]) == {"s3_bucket": BUCKET, "s3_key": "incoming/g.png", "image_data": ""}


def test_a_target_that_fails_sends_the_event_to_its_dlq_and_the_other_targets_still_get_it(aws: LocalAWS) -> None:
    machine = _machine(aws.url)
    may_not_start = _role(aws.url, "states:DescribeExecution", machine)
    dlq_url, dlq_arn = _queue(aws.url)
    queue_url, queue_arn = _queue(aws.url)
    rule = _rule(
        aws.url,
        IMAGES_RULE,
        [
            {"Id": "sfn", "Arn": machine, "RoleArn": may_not_start, "DeadLetterConfig": {"Arn": dlq_arn}},
            {"Id": "queue", "Arn": queue_arn},
        ],
    )
    _upload(aws.url, "incoming/h.png")
    assert [body["detail"]["object"]["key"] for body in _bodies(aws.url, queue_url)] == ["incoming/h.png"]
    assert _executions(aws.url, machine) == []
    (dead,) = _messages(aws.url, dlq_url)
    assert json.loads(dead["Body"])["detail"]["object"]["key"] == "incoming/h.png"
    attributes = {name: value["StringValue"] for name, value in dead["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS"
    assert "states:StartExecution" in attributes["ERROR_MESSAGE"]
    assert (attributes["RULE_ARN"], attributes["TARGET_ARN"]) == (rule, machine)
    assert "RETRY_ATTEMPTS" not in attributes  # a missing permission is not retried


def test_a_missing_target_is_not_retried(aws: LocalAWS) -> None:
    dlq_url, dlq_arn = _queue(aws.url)
    missing = f"arn:aws:sqs:us-east-1:{ACCOUNT}:no-such-queue"
    _rule(aws.url, IMAGES_RULE, [{"Id": "gone", "Arn": missing, "DeadLetterConfig": {"Arn": dlq_arn}}])
    _upload(aws.url, "incoming/i.png")
    (attributes,) = _dead_letters(aws.url, dlq_url)
    assert (attributes["ERROR_CODE"], attributes["TARGET_ARN"]) == ("NO_RESOURCE", missing)


def test_put_events_reach_another_bus_as_the_targets_role(aws: LocalAWS) -> None:
    events = client("events", aws.url)
    bus_arn = events.create_event_bus(Name="results")["EventBusArn"]
    queue_url, queue_arn = _queue(aws.url)
    _rule(aws.url, {"source": ["scones"]}, [{"Id": "q", "Arn": queue_arn}], bus="results")
    role = _role(aws.url, "events:PutEvents", bus_arn)
    _rule(aws.url, {"source": ["scones"]}, [{"Id": "bus", "Arn": bus_arn, "RoleArn": role}])
    detail = {"vehicle": "bicycle"}
    entry = {"Source": "scones", "DetailType": "VehicleClassified", "Detail": json.dumps(detail)}
    (put,) = events.put_events(Entries=[entry])["Entries"]
    (event,) = _bodies(aws.url, queue_url)
    assert (event["id"], event["detail-type"], event["detail"]) == (put["EventId"], "VehicleClassified", detail)


def test_a_disabled_rule_delivers_nothing(aws: LocalAWS) -> None:
    queue_url, queue_arn = _queue(aws.url)
    rule = _rule(aws.url, {"source": ["disabled-test"]}, [{"Id": "q", "Arn": queue_arn}])
    client("events", aws.url).disable_rule(Name=rule.split("/")[-1])
    entry = {"Source": "disabled-test", "DetailType": "x", "Detail": "{}"}
    client("events", aws.url).put_events(Entries=[entry])
    assert _bodies(aws.url, queue_url) == []


def _throttled_function(aws: LocalAWS, count: int | None) -> str:
    name = _name("fn")
    arn = create_function(aws.url, name, "def handler(event, context):\n    return event\n")
    aws.faults.add(LambdaThrottle(name), count=count)
    return arn


def test_a_throttled_target_is_retried_until_it_takes_the_event(aws: LocalAWS) -> None:
    function = _throttled_function(aws, count=3)
    dlq_url, dlq_arn = _queue(aws.url)
    retry = {"MaximumRetryAttempts": 3}
    target = {"Id": "fn", "Arn": function, "RetryPolicy": retry, "DeadLetterConfig": {"Arn": dlq_arn}}
    _rule(aws.url, IMAGES_RULE, [target])
    _upload(aws.url, "incoming/j.png")
    assert _dead_letters(aws.url, dlq_url) == []
    assert aws.faults.list() == []  # the three throttles were used up, the fourth attempt delivered


def test_retries_run_out_after_maximum_retry_attempts(aws: LocalAWS) -> None:
    function = _throttled_function(aws, count=None)
    dlq_url, dlq_arn = _queue(aws.url)
    retry = {"MaximumRetryAttempts": 2}
    _rule(
        aws.url,
        IMAGES_RULE,
        [{"Id": "fn", "Arn": function, "RetryPolicy": retry, "DeadLetterConfig": {"Arn": dlq_arn}}],
    )
    try:
        _upload(aws.url, "incoming/k.png")
        (throttle,) = aws.faults.list()
    finally:
        aws.faults.clear()
    (attributes,) = _dead_letters(aws.url, dlq_url)
    assert attributes["ERROR_CODE"] == "THROTTLING"
    assert (attributes["EXHAUSTED_RETRY_CONDITION"], attributes["RETRY_ATTEMPTS"]) == ("MaximumRetryAttempts", "2")
    assert throttle.triggered == 3  # the first attempt and two retries


def test_retries_run_out_when_the_event_is_older_than_its_maximum_age(
    aws: LocalAWS, monkeypatch: pytest.MonkeyPatch
) -> None:
    seconds = itertools.count(0, 25)  # each reading of the clock is 25 s later
    monkeypatch.setattr(eventbridge, "clock", lambda: float(next(seconds)))
    function = _throttled_function(aws, count=None)
    dlq_url, dlq_arn = _queue(aws.url)
    retry = {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 60}
    _rule(
        aws.url,
        IMAGES_RULE,
        [{"Id": "fn", "Arn": function, "RetryPolicy": retry, "DeadLetterConfig": {"Arn": dlq_arn}}],
    )
    try:
        _upload(aws.url, "incoming/l.png")
    finally:
        aws.faults.clear()
    (attributes,) = _dead_letters(aws.url, dlq_url)
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"
    assert int(attributes["RETRY_ATTEMPTS"]) < 185
