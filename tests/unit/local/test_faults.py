"""Fault injection on the local emulator: each fault is the error AWS gives, counted in AWS's metric.

Set through the library (`LocalAWS.faults`), over HTTP (`FaultClient`) and from the command line
(`scones local fault`), matched by target and limited to N occurrences or cleared.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from scones.cli import main as scones_cli
from scones.local.fault_api import FaultClient
from scones.local.faults import (
    EndpointError,
    EndpointLatency,
    FaultSpecError,
    LambdaError,
    LambdaThrottle,
    S3ReadDenied,
    fault_for_target,
)
from scones.local.server import LocalAWS
from tests.support.local_fixtures import (
    client,
    create_function,
    deploy_endpoint,
    invoke,
    model_artifact,
    png,
    wait_for_execution,
)
from tests.support.local_metrics import eventually, statistics

HANDLER = """
def handler(event, context):
    return {"ran": True}
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def no_faults_left(aws: LocalAWS) -> Iterator[None]:
    yield
    aws.faults.clear()


def _no_retries(service: str, url: str) -> Any:
    return client(service, url, max_attempts=1)


def test_lambda_error_is_a_function_error_counted_in_errors_for_n_invocations(aws: LocalAWS) -> None:
    create_function(aws.url, "fault-error", HANDLER)
    aws.faults.add(LambdaError("fault-error", error_type="DownstreamDown", message="the model is gone"), count=2)

    for _ in range(2):
        response, payload = invoke(aws.url, "fault-error", {})
        assert response["FunctionError"] == "Unhandled"
        assert payload == {"errorType": "DownstreamDown", "errorMessage": "the model is gone"}
    response, payload = invoke(aws.url, "fault-error", {})
    assert "FunctionError" not in response and payload == {"ran": True}
    assert aws.faults.list() == []

    dimensions = {"FunctionName": "fault-error"}
    assert statistics(aws.url, "AWS/Lambda", "Errors", dimensions)["Sum"] == 2
    assert statistics(aws.url, "AWS/Lambda", "Invocations", dimensions)["Sum"] == 3


def test_lambda_throttle_is_too_many_requests_counted_in_throttles_not_invocations(aws: LocalAWS) -> None:
    create_function(aws.url, "fault-throttle", HANDLER)
    aws.faults.add(LambdaThrottle("fault-throttle"))

    with pytest.raises(ClientError) as raised:
        _no_retries("lambda", aws.url).invoke(FunctionName="fault-throttle", Payload=b"{}")
    error = raised.value.response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"

    dimensions = {"FunctionName": "fault-throttle"}
    assert statistics(aws.url, "AWS/Lambda", "Throttles", dimensions)["Sum"] == 1
    assert statistics(aws.url, "AWS/Lambda", "Invocations", dimensions)["Sum"] == 0
    aws.faults.clear()
    assert invoke(aws.url, "fault-throttle", {})[1] == {"ran": True}


def test_a_throttled_lambda_task_fails_the_execution_with_lambda_too_many_requests(aws: LocalAWS) -> None:
    function_arn = create_function(aws.url, "fault-sfn-throttle", HANDLER)
    machine = client("stepfunctions", aws.url).create_state_machine(
        name="fault-sfn",
        roleArn="arn:aws:iam::123456789012:role/fault-sfn",
        definition=json.dumps(
            {
                "StartAt": "Call",
                "States": {
                    "Call": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                        "End": True,
                    }
                },
            }
        ),
    )["stateMachineArn"]
    aws.faults.add(LambdaThrottle("fault-sfn-throttle"), count=1)

    arn = client("stepfunctions", aws.url).start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    execution = wait_for_execution(aws.url, arn)
    assert (execution["status"], execution["error"]) == ("FAILED", "Lambda.TooManyRequestsException")
    assert statistics(aws.url, "AWS/Lambda", "Throttles", {"FunctionName": "fault-sfn-throttle"})["Sum"] == 1
    failed = lambda: statistics(aws.url, "AWS/States", "ExecutionsFailed", {"StateMachineArn": machine})["Sum"]  # noqa: E731
    assert eventually(lambda: failed() == 1)


def test_s3_read_denied_answers_access_denied_for_matching_keys_only(aws: LocalAWS) -> None:
    s3 = client("s3", aws.url)
    s3.create_bucket(Bucket="fault-bucket")
    for key in ("images/a.png", "other/b.png"):
        s3.put_object(Bucket="fault-bucket", Key=key, Body=b"data")
    aws.faults.add(S3ReadDenied("fault-bucket", key_prefix="images/"))

    with pytest.raises(ClientError) as raised:
        _no_retries("s3", aws.url).get_object(Bucket="fault-bucket", Key="images/a.png")
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert s3.get_object(Bucket="fault-bucket", Key="other/b.png")["Body"].read() == b"data"
    s3.put_object(Bucket="fault-bucket", Key="images/c.png", Body=b"writes still work")
    assert aws.faults.list()[0].triggered == 1


@pytest.fixture(scope="module")
def endpoint(aws: LocalAWS) -> str:
    deploy_endpoint(aws.url, "fault-models", "fault-endpoint", model_artifact(), capture=None)
    client("sagemaker-runtime", aws.url).invoke_endpoint(
        EndpointName="fault-endpoint", ContentType="image/png", Body=png((250, 10, 10))
    )  # the model is loaded, as it is on SageMaker before the first request
    return "fault-endpoint"


def test_endpoint_error_is_a_model_error_counted_in_5xx_or_4xx(aws: LocalAWS, endpoint: str) -> None:
    runtime = _no_retries("sagemaker-runtime", aws.url)
    dimensions = {"EndpointName": endpoint, "VariantName": "AllTraffic"}
    aws.faults.add(EndpointError(endpoint), count=1)
    aws.faults.add(EndpointError(endpoint, status=429), count=1)

    for status, side in ((500, "server"), (429, "client")):
        with pytest.raises(ClientError) as raised:
            runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=png((250, 10, 10)))
        error = raised.value.response
        assert error["Error"]["Code"] == "ModelError"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
        assert error["OriginalStatusCode"] == status
        assert f"Received {side} error ({status}) from primary" in error["Error"]["Message"]
    runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=png((250, 10, 10)))

    assert statistics(aws.url, "AWS/SageMaker", "Invocation5XXErrors", dimensions)["Sum"] == 1
    assert statistics(aws.url, "AWS/SageMaker", "Invocation4XXErrors", dimensions)["Sum"] == 1


def test_endpoint_latency_is_added_to_model_latency(aws: LocalAWS, endpoint: str) -> None:
    dimensions = {"EndpointName": endpoint, "VariantName": "AllTraffic"}
    before = statistics(aws.url, "AWS/SageMaker", "ModelLatency", dimensions)["Maximum"]
    assert before < 700_000
    aws.faults.add(EndpointLatency(endpoint, seconds=0.8), count=1)

    body = (
        client("sagemaker-runtime", aws.url)
        .invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=png((250, 10, 10)))["Body"]
        .read()
    )
    assert json.loads(body)[0] > 0.5  # still the model's answer, only later

    latency = statistics(aws.url, "AWS/SageMaker", "ModelLatency", dimensions)
    assert latency["Unit"] == "Microseconds"
    assert 800_000 <= latency["Maximum"] < 60_000_000


def test_faults_over_http_and_the_command_line(aws: LocalAWS) -> None:
    remote = FaultClient(aws.url)
    added = remote.add(LambdaError("over-http"), count=3)
    assert aws.faults.list() == [added]
    assert remote.list()[0].fault == LambdaError("over-http")

    runner = CliRunner()
    result = runner.invoke(
        scones_cli,
        ["local", "fault", "add", "endpoint-error", "cli-endpoint", "--status", "503", "--url", aws.url],
    )
    assert result.exit_code == 0, result.output
    assert "endpoint-error cli-endpoint status=503" in result.output
    assert aws.faults.list()[1].fault == EndpointError("cli-endpoint", status=503)

    listed = runner.invoke(scones_cli, ["local", "fault", "list", "--url", aws.url])
    assert "lambda-error over-http" in listed.output and "(3 left, triggered 0)" in listed.output

    refused = runner.invoke(
        scones_cli, ["local", "fault", "add", "lambda-throttle", "f", "--seconds", "2", "--url", aws.url]
    )
    assert refused.exit_code != 0 and "seconds" in refused.output

    cleared = runner.invoke(scones_cli, ["local", "fault", "clear", added.id, "--url", aws.url])
    assert "cleared 1 fault" in cleared.output
    assert [a.fault for a in aws.faults.list()] == [EndpointError("cli-endpoint", status=503)]
    runner.invoke(scones_cli, ["local", "fault", "clear", "--url", aws.url])
    assert remote.list() == []


def test_fault_specs_are_checked_when_made() -> None:
    assert fault_for_target("s3-read-denied", "bucket/images/") == S3ReadDenied("bucket", "images/")
    assert fault_for_target("endpoint-latency", "e", seconds=2.5) == EndpointLatency("e", 2.5)
    for kind, target, options in (
        ("lambda-fire", "f", {}),
        ("lambda-error", "", {}),
        ("endpoint-error", "e", {"status": 302}),
        ("endpoint-latency", "e", {"seconds": -1.0}),
        ("lambda-throttle", "f", {"seconds": 2.0}),
    ):
        with pytest.raises(FaultSpecError):
            fault_for_target(kind, target, **options)
