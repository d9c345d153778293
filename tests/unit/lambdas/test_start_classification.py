"""start_classification: S3 events on the ingest queue become workflow executions named after the object version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.lambda_loader import load_app

BUCKET = "scones-dev-data"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def s3_event(key: str = "incoming/bike.png", **object_fields: Any) -> dict[str, Any]:
    """What the ingest rule delivers: S3's Object Created event, whole."""
    obj = {"key": key, "size": 10, "etag": "e1", "sequencer": "0062E99A88DC407460", **object_fields}
    return {
        "version": "0",
        "id": "7f4ce0a9-8f6d-4d1c-9d8f-3a9c4c4f5f00",
        "source": "aws.s3",
        "detail-type": "Object Created",
        "detail": {"version": "0", "bucket": {"name": BUCKET}, "object": obj, "reason": "PutObject"},
    }


def sqs_record(body: Any, message_id: str = "m-1") -> dict[str, Any]:
    return {"messageId": message_id, "body": body if isinstance(body, str) else json.dumps(body)}


@pytest.fixture
def starter(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, str]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        machine = sfn.create_state_machine(
            name="classify-image", definition=PASS, roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        monkeypatch.setenv("STATE_MACHINE_ARN", machine)
        yield load_app("start_classification"), machine


def executions(machine: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    return [{**e, "input": json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"])} for e in listed]


# ------------------------------------------------------------------------------ names


def test_the_name_is_the_same_for_a_redelivery_and_differs_for_any_other_object_version() -> None:
    app = load_app("start_classification")
    name = app.execution_name(BUCKET, "incoming/bike.png", "v1")
    assert name == app.execution_name(BUCKET, "incoming/bike.png", "v1")
    others = {
        app.execution_name(BUCKET, "incoming/bike.png", "v2"),
        app.execution_name(BUCKET, "incoming/bike2.png", "v1"),
        app.execution_name("other-bucket", "incoming/bike.png", "v1"),
        # The fields are separated: moving a character between bucket and key is another object.
        app.execution_name(BUCKET + "i", "ncoming/bike.png", "v1"),
    }
    assert name not in others and len(others) == 4
    assert name.startswith("bike_png-")


@pytest.mark.parametrize(
    "key",
    ["incoming/" + "a" * 1000 + ".png", "incoming/ünïcødé photo (1).png", "incoming/", "incoming/***.jpg"],
)
def test_names_fit_step_functions_limits_whatever_the_key(key: str) -> None:
    name = load_app("start_classification").execution_name(BUCKET, key, "v1")
    # 1-80 characters; letters, digits, "-" and "_" keep logs and metrics working.
    assert 1 <= len(name) <= 80
    assert all(c.isascii() and (c.isalnum() or c in "-_") for c in name), name


def test_the_version_is_the_version_id_else_the_sequencer_else_the_etag() -> None:
    app = load_app("start_classification")
    assert app.object_version(s3_event(**{"version-id": "abc"}))[2] == "abc"
    assert app.object_version(s3_event())[2] == "0062E99A88DC407460"
    assert app.object_version(s3_event(sequencer=None))[2] == "e1"


# ------------------------------------------------------------------------------ the handler


def test_each_upload_starts_one_execution_with_the_workflow_event(starter: tuple[ModuleType, str]) -> None:
    app, machine = starter
    batch = {"Records": [sqs_record(s3_event("incoming/a.png"), "m-1"), sqs_record(s3_event("incoming/b.jpg"), "m-2")]}
    assert app.handler(batch, None) == {"batchItemFailures": []}
    started = sorted(executions(machine), key=lambda e: e["input"]["s3_key"])
    assert [e["input"] for e in started] == [
        {"s3_bucket": BUCKET, "s3_key": "incoming/a.png", "image_data": ""},
        {"s3_bucket": BUCKET, "s3_key": "incoming/b.jpg", "image_data": ""},
    ]
    assert started[0]["name"] == app.execution_name(BUCKET, "incoming/a.png", "0062E99A88DC407460")


def test_a_duplicate_delivery_is_a_success_and_starts_nothing_new(
    starter: tuple[ModuleType, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, machine = starter
    event = s3_event(**{"version-id": "v1"})
    assert app.handler({"Records": [sqs_record(event, "m-1")]}, None) == {"batchItemFailures": []}
    # The same event again (a redelivery, or S3 sending it twice) in a later batch and in the same batch.
    again = {"Records": [sqs_record(event, "m-2"), sqs_record(event, "m-3")]}
    assert app.handler(again, None) == {"batchItemFailures": []}
    assert len(executions(machine)) == 1
    # A new version of the same key is a new object to classify.
    assert app.handler({"Records": [sqs_record(s3_event(**{"version-id": "v2"}))]}, None) == {"batchItemFailures": []}
    assert len(executions(machine)) == 2


def test_already_exists_from_step_functions_counts_as_started(
    starter: tuple[ModuleType, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ended execution of the same name: Step Functions answers ExecutionAlreadyExists."""
    app, _ = starter
    sfn = app.client("stepfunctions")

    def already(**_: Any) -> None:
        error = {"Code": "ExecutionAlreadyExists", "Message": "Execution Already Exists"}
        raise sfn.exceptions.ExecutionAlreadyExists({"Error": error}, "StartExecution")

    monkeypatch.setattr(sfn, "start_execution", already)
    assert app.handler({"Records": [sqs_record(s3_event())]}, None) == {"batchItemFailures": []}


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"source": "aws.s3", "detail-type": "Object Deleted", "detail": {}}),
        json.dumps(s3_event(key="")),
        json.dumps({**s3_event(), "detail": {"bucket": {"name": BUCKET}, "object": "incoming/a.png"}}),
        json.dumps(s3_event(sequencer=None, etag=None)),
    ],
    ids=["not-json", "not-an-object", "not-created", "no-key", "object-not-a-map", "no-version"],
)
def test_a_record_that_is_not_an_upload_fails_alone(starter: tuple[ModuleType, str], body: str) -> None:
    app, machine = starter
    batch = {"Records": [sqs_record(body, "bad"), sqs_record(s3_event("incoming/ok.png"), "good")]}
    assert app.handler(batch, None) == {"batchItemFailures": [{"itemIdentifier": "bad"}]}
    assert [e["input"]["s3_key"] for e in executions(machine)] == ["incoming/ok.png"]


def test_odd_records_fail_without_crashing_the_batch(starter: tuple[ModuleType, str]) -> None:
    app, _ = starter
    batch = {"Records": [{"messageId": "no-body"}, "not a record", sqs_record(s3_event(), "good")]}
    # A record with no messageId can only be reported as "" (Lambda then retries the whole batch).
    assert app.handler(batch, None) == {"batchItemFailures": [{"itemIdentifier": "no-body"}, {"itemIdentifier": ""}]}


def test_a_refused_start_is_reported_for_retry(
    starter: tuple[ModuleType, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = starter
    monkeypatch.setenv("STATE_MACHINE_ARN", "arn:aws:states:us-east-1:123456789012:stateMachine:gone")
    assert app.handler({"Records": [sqs_record(s3_event(), "m-1")]}, None) == {
        "batchItemFailures": [{"itemIdentifier": "m-1"}]
    }


def test_not_an_sqs_batch_or_no_state_machine_is_an_error(
    starter: tuple[ModuleType, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _ = starter
    from lambda_common.errors import ConfigurationError, InvalidEventError

    with pytest.raises(InvalidEventError, match="not an SQS batch"):
        app.handler({"s3_bucket": BUCKET}, None)
    monkeypatch.setenv("STATE_MACHINE_ARN", "")
    with pytest.raises(ConfigurationError, match="STATE_MACHINE_ARN"):
        app.handler({"Records": []}, None)
