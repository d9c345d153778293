"""classify_api: the API's thin function maps the Express workflow's ending to the API's answers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.support.lambda_loader import load_app
from tests.support.local_fixtures import png

BUCKET = "scones-dev-data"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:scones-dev-classify-api"


class FakeStates:
    """StartSyncExecution (moto has none): records the input, answers the ending it was given."""

    def __init__(self, ending: dict[str, Any]) -> None:
        self.ending = ending
        self.inputs: list[dict[str, Any]] = []
        self.staged_at_start: list[bool] = []

    def start_sync_execution(self, *, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:
        assert stateMachineArn == MACHINE
        record = json.loads(input)
        self.inputs.append(record)
        s3 = boto3.client("s3", region_name="us-east-1")
        self.staged_at_start.append(s3.list_objects_v2(Bucket=BUCKET, Prefix=record["s3_key"])["KeyCount"] > 0)
        return self.ending


def lambda_cause(error: str, **details: Any) -> str:
    return json.dumps({"errorType": error, "errorMessage": json.dumps({"message": f"{error} happened", **details})})


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("STATE_MACHINE_ARN", MACHINE)
    monkeypatch.setenv("STAGING_BUCKET", BUCKET)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield load_app("classify_api")


def run(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch, body: Any, ending: dict[str, Any]
) -> tuple[int, dict[str, Any], FakeStates]:
    states = FakeStates(ending)
    real_client = app.client
    monkeypatch.setattr(
        app,
        "client",
        lambda service, config=None: states if service == "stepfunctions" else real_client(service, config),
    )
    event = {"body": body if isinstance(body, str) else json.dumps(body), "requestContext": {"requestId": "req-1"}}
    answer = app.handler(event, None)
    return answer["statusCode"], json.loads(answer["body"]), states


SUCCEEDED = {"status": "SUCCEEDED", "output": json.dumps({"body": {"inferences": [0.97, 0.03]}, "verdict": {}})}


def test_an_image_is_staged_for_the_workflow_classified_and_the_staged_copy_deleted(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = base64.b64encode(png((200, 30, 30))).decode()
    status, body, states = run(app, monkeypatch, {"image": image}, SUCCEEDED)
    assert status == 200
    assert body == {
        "vehicle": "bicycle",
        "confidence": 0.97,
        "probabilities": {"bicycle": 0.97, "motorcycle": 0.03},
        "accepted": True,
        "request_id": "req-1",
    }
    assert states.inputs == [{"s3_bucket": BUCKET, "s3_key": "api/req-1", "image_data": ""}]
    assert states.staged_at_start == [True]
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="api/")["KeyCount"] == 0


def test_an_s3_uri_is_classified_in_place(app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("s3").put_object(Bucket=BUCKET, Key="test/moto.png", Body=png((1, 2, 3)))
    status, body, states = run(app, monkeypatch, {"s3_uri": f"s3://{BUCKET}/test/moto.png"}, SUCCEEDED)
    assert status == 200 and body["accepted"] is True
    assert states.inputs == [{"s3_bucket": BUCKET, "s3_key": "test/moto.png", "image_data": ""}]


@pytest.mark.parametrize(
    ("error", "reason"),
    [("ThresholdConfidenceNotMetError", "low_confidence"), ("OutOfDistributionError", "out_of_distribution")],
)
def test_a_rejection_is_a_200_not_accepted_with_the_probabilities_from_the_cause(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch, error: str, reason: str
) -> None:
    ending = {"status": "FAILED", "error": error, "cause": lambda_cause(error, inferences=[0.4, 0.6])}
    status, body, _ = run(app, monkeypatch, {"s3_uri": f"s3://{BUCKET}/a.png"}, ending)
    assert status == 200
    assert body["accepted"] is False and body["reason"] == reason
    assert body["vehicle"] == "motorcycle" and body["probabilities"] == {"bicycle": 0.4, "motorcycle": 0.6}


def test_a_non_image_is_a_400_invalid_image_and_never_runs_the_workflow(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, body, states = run(
        app, monkeypatch, {"image": base64.b64encode(b"hello, not an image").decode()}, SUCCEEDED
    )
    assert (status, body["error"], body["request_id"]) == (400, "InvalidImageError", "req-1")
    assert states.inputs == []


@pytest.mark.parametrize(
    "body", ["not json", {"image": "x", "s3_uri": "s3://b/k"}, {}, {"s3_uri": "http://example.com/x.png"}]
)
def test_a_malformed_request_is_a_400_invalid_event(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch, body: Any
) -> None:
    status, answer, states = run(app, monkeypatch, body, SUCCEEDED)
    assert (status, answer["error"]) == (400, "InvalidEventError")
    assert states.inputs == []


def test_a_missing_object_is_a_404_with_the_workflows_error_name(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    ending = {"status": "FAILED", "error": "ImageNotFoundError", "cause": lambda_cause("ImageNotFoundError")}
    status, body, _ = run(app, monkeypatch, {"s3_uri": f"s3://{BUCKET}/gone.png"}, ending)
    assert (status, body["error"], body["message"]) == (404, "ImageNotFoundError", "ImageNotFoundError happened")


@pytest.mark.parametrize(
    "ending",
    [
        {"status": "FAILED", "error": "EndpointInvocationError", "cause": lambda_cause("EndpointInvocationError")},
        {"status": "TIMED_OUT"},
    ],
)
def test_an_endpoint_failure_or_timeout_is_a_502_with_a_name(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch, ending: dict[str, Any]
) -> None:
    status, body, _ = run(app, monkeypatch, {"s3_uri": f"s3://{BUCKET}/a.png"}, ending)
    assert status == 502
    assert body["error"] == ending.get("error", "EndpointFailureError")
