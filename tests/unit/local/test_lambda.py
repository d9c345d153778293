"""Lambda on the local emulator: real handlers in warm subprocess sandboxes, errors as Lambda reports them."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest

from scones.local.server import LocalAWS
from tests.support.local_fixtures import (
    BUILT_LAMBDAS,
    client,
    create_function,
    invoke,
    lambda_zip,
    pid_alive,
    wait_until_dead,
)

COUNTING_HANDLER = """
import os

INVOCATIONS = 0


def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    print(f"handling {event['n']}")
    return {
        "pid": os.getpid(),
        "invocations": INVOCATIONS,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "env": {k: os.environ.get(k) for k in (
            "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_ACCESS_KEY_ID", "THRESHOLD")},
    }
"""

FAILING_HANDLER = """
class ThresholdConfidenceNotMetError(Exception):
    pass


def check(score):
    if score < 0.93:
        raise ThresholdConfidenceNotMetError(f"confidence {score} is below 0.93")


def handler(event, context):
    check(event["score"])
    return {"ok": True}
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


def test_handler_runs_with_function_environment_and_emulator_endpoint(aws: LocalAWS) -> None:
    create_function(aws.url, "env-check", COUNTING_HANDLER, environment={"THRESHOLD": "0.8"})
    response, result = invoke(aws.url, "env-check", {"n": 1})
    assert "FunctionError" not in response
    assert result["env"] == {
        "AWS_ENDPOINT_URL": aws.url,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "env-check",
        "AWS_ACCESS_KEY_ID": "testing",
        "THRESHOLD": "0.8",
    }
    assert 0 < result["remaining_ms"] <= 10_000
    assert result["pid"] != 0 and pid_alive(result["pid"])


def test_warm_sandbox_serves_later_invocations_without_reimporting(aws: LocalAWS) -> None:
    create_function(aws.url, "warm", COUNTING_HANDLER)
    results = [invoke(aws.url, "warm", {"n": n})[1] for n in range(3)]
    assert {r["pid"] for r in results} == {results[0]["pid"]}
    # The module-level counter survives: the handler module was imported once.
    assert [r["invocations"] for r in results] == [1, 2, 3]
    assert len({r["request_id"] for r in results}) == 3


def test_handler_exception_comes_back_as_lambda_reports_it(aws: LocalAWS) -> None:
    create_function(aws.url, "fails", FAILING_HANDLER)
    response, error = invoke(aws.url, "fails", {"score": 0.5})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ThresholdConfidenceNotMetError"
    assert error["errorMessage"] == "confidence 0.5 is below 0.93"
    assert any("in check" in frame for frame in error["stackTrace"])
    _, ok = invoke(aws.url, "fails", {"score": 0.99})
    assert ok == {"ok": True}


def test_logs_go_to_the_function_log_group(aws: LocalAWS) -> None:
    create_function(aws.url, "logs", COUNTING_HANDLER)
    response, result = invoke(aws.url, "logs", {"n": 42}, LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "handling 42" in tail
    logs = client("logs", aws.url)
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/logs")["logStreams"]
    messages = [
        event["message"]
        for stream in streams
        for event in logs.get_log_events(logGroupName="/aws/lambda/logs", logStreamName=stream["logStreamName"])[
            "events"
        ]
    ]
    assert "handling 42" in messages
    assert f"START RequestId: {result['request_id']} Version: $LATEST" in messages
    assert f"END RequestId: {result['request_id']}" in messages


def test_timeout_kills_the_sandbox_and_reports_like_lambda(aws: LocalAWS) -> None:
    source = """
    import os
    import time


    def handler(event, context):
        if event.get("sleep"):
            time.sleep(event["sleep"])
        return {"pid": os.getpid()}
    """
    create_function(aws.url, "slow", source, timeout=1)
    _, first = invoke(aws.url, "slow", {})
    response, error = invoke(aws.url, "slow", {"sleep": 30})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    assert wait_until_dead(first["pid"])
    _, after = invoke(aws.url, "slow", {})
    assert after["pid"] != first["pid"]


def test_new_code_replaces_the_warm_sandbox(aws: LocalAWS) -> None:
    create_function(aws.url, "updated", "import os\ndef handler(e, c):\n    return {'v': 1, 'pid': os.getpid()}\n")
    _, v1 = invoke(aws.url, "updated", {})
    client("lambda", aws.url).update_function_code(
        FunctionName="updated",
        ZipFile=lambda_zip({"app.py": "import os\ndef handler(e, c):\n    return {'v': 2, 'pid': os.getpid()}\n"}),
    )
    _, v2 = invoke(aws.url, "updated", {})
    assert (v1["v"], v2["v"]) == (1, 2)
    assert v2["pid"] != v1["pid"]
    assert wait_until_dead(v1["pid"])


def test_import_error_is_reported_as_runtime_import_module_error(aws: LocalAWS) -> None:
    create_function(aws.url, "broken", "import module_that_is_not_there\n\ndef handler(e, c):\n    return 1\n")
    response, error = invoke(aws.url, "broken", {})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "module_that_is_not_there" in error["errorMessage"]


def test_handler_calls_back_into_the_emulator(aws: LocalAWS) -> None:
    source = """
    import boto3


    def handler(event, context):
        boto3.client("s3").put_object(Bucket=event["bucket"], Key="from-lambda.txt", Body=b"hi")
        return "written"
    """
    client("s3", aws.url).create_bucket(Bucket="lambda-writes-here")
    create_function(aws.url, "writer", source, timeout=60)
    _, result = invoke(aws.url, "writer", {"bucket": "lambda-writes-here"})
    assert result == "written"
    body = client("s3", aws.url).get_object(Bucket="lambda-writes-here", Key="from-lambda.txt")["Body"].read()
    assert body == b"hi"


def test_event_invocation_runs_in_the_background(aws: LocalAWS) -> None:
    source = """
    def handler(event, context):
        print(f"event invocation {event['marker']}")
    """
    create_function(aws.url, "async", source)
    response = client("lambda", aws.url).invoke(
        FunctionName="async", InvocationType="Event", Payload=json.dumps({"marker": "m-123"})
    )
    assert response["StatusCode"] == 202
    logs = client("logs", aws.url)
    deadline = time.monotonic() + 30
    messages: list[str] = []
    while "event invocation m-123" not in messages and time.monotonic() < deadline:
        time.sleep(0.2)
        try:
            streams = logs.describe_log_streams(logGroupName="/aws/lambda/async")["logStreams"]
        except logs.exceptions.ResourceNotFoundException:
            continue
        messages = [
            e["message"]
            for s in streams
            for e in logs.get_log_events(logGroupName="/aws/lambda/async", logStreamName=s["logStreamName"])["events"]
        ]
    assert "event invocation m-123" in messages


def test_non_json_payload_is_rejected(aws: LocalAWS) -> None:
    create_function(aws.url, "json-only", COUNTING_HANDLER)
    lam = client("lambda", aws.url)
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName="json-only", Payload=b"not json")


# Functions behind API Gateway's Lambda proxy integration, with the environment they read: they answer every
# request with a status and a body.
PROXY_FUNCTIONS = {
    "classify_api": {
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:api",
        "STAGING_BUCKET": "staging",
        "STAGING_PREFIX": "api",
    }
}


@pytest.mark.skipif(not BUILT_LAMBDAS.is_dir(), reason="build/lambdas not built (make lambdas)")
@pytest.mark.parametrize("zip_path", sorted(BUILT_LAMBDAS.glob("*.zip")), ids=lambda p: p.stem)
def test_built_lambda_zips_import_and_reject_an_empty_event_with_a_named_error(aws: LocalAWS, zip_path) -> None:  # type: ignore[no-untyped-def]
    name = f"built-{zip_path.stem.replace('_', '-')}"
    create_function(aws.url, name, zip_path.read_bytes(), timeout=60, environment=PROXY_FUNCTIONS.get(zip_path.stem))
    response, error = invoke(aws.url, name, {})
    if zip_path.stem in PROXY_FUNCTIONS:
        # API Gateway's proxy integration: the error is an answer (a raise would reach the caller as a 502).
        assert "FunctionError" not in response
        assert error["statusCode"] == 400 and json.loads(error["body"])["error"] == "InvalidEventError"
        return
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] in {
        "InvalidEventError",
        "ImageNotFoundError",
        "InvalidImageError",
        "EndpointInvocationError",
        "InvalidInferencesError",
        "ThresholdConfidenceNotMetError",
    }
