"""Step Functions on the local emulator: executions really run, Catch/Retry see Lambda's errorType."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from scones.local.server import LocalAWS
from tests.support.local_fixtures import client, create_function, wait_for_execution

FILTER_HANDLER = """
class ThresholdConfidenceNotMetError(Exception):
    pass


def handler(event, context):
    top = max(event["inferences"])
    if top < 0.93:
        raise ThresholdConfidenceNotMetError(f"top probability {top} is below 0.93")
    return {"statusCode": 200, "body": event}
"""

FLAKY_HANDLER = """
ATTEMPTS = 0


class TransientError(Exception):
    pass


def handler(event, context):
    global ATTEMPTS
    ATTEMPTS += 1
    if ATTEMPTS < 3:
        raise TransientError(f"attempt {ATTEMPTS} failed")
    return {"attempts": ATTEMPTS}
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


def _state_machine(url: str, name: str, definition: dict) -> str:
    role = f"arn:aws:iam::123456789012:role/{name}"
    response = client("stepfunctions", url).create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=role
    )
    return str(response["stateMachineArn"])


def _run(url: str, machine: str, payload: dict) -> dict:
    arn = client("stepfunctions", url).start_execution(stateMachineArn=machine, input=json.dumps(payload))[
        "executionArn"
    ]
    return wait_for_execution(url, arn)


@pytest.fixture(scope="module")
def filter_machine(aws: LocalAWS) -> str:
    function_arn = create_function(aws.url, "filter-low-confidence", FILTER_HANDLER)
    return _state_machine(
        aws.url,
        "filter",
        {
            "StartAt": "Filter",
            "States": {
                "Filter": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {"FunctionName": function_arn, "Payload.$": "$"},
                    "OutputPath": "$.Payload",
                    "Catch": [
                        {
                            "ErrorEquals": ["ThresholdConfidenceNotMetError"],
                            "ResultPath": "$.error",
                            "Next": "LowConfidence",
                        }
                    ],
                    "Next": "Done",
                },
                "Done": {"Type": "Succeed"},
                "LowConfidence": {
                    "Type": "Fail",
                    "Error": "ThresholdConfidenceNotMetError",
                    "CausePath": "$.error.Cause",
                },
            },
        },
    )


def test_confident_prediction_succeeds_through_the_real_handler(aws: LocalAWS, filter_machine: str) -> None:
    execution = _run(aws.url, filter_machine, {"inferences": [0.97, 0.03]})
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"statusCode": 200, "body": {"inferences": [0.97, 0.03]}}


def test_catch_on_the_named_lambda_error_ends_in_the_fail_state(aws: LocalAWS, filter_machine: str) -> None:
    execution = _run(aws.url, filter_machine, {"inferences": [0.6, 0.4]})
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ThresholdConfidenceNotMetError"
    cause = json.loads(execution["cause"])
    assert cause["errorType"] == "ThresholdConfidenceNotMetError"
    assert cause["errorMessage"] == "top probability 0.6 is below 0.93"


def test_unnamed_executions_get_distinct_names(aws: LocalAWS, filter_machine: str) -> None:
    sfn = client("stepfunctions", aws.url)
    arns = {
        sfn.start_execution(stateMachineArn=filter_machine, input=json.dumps({"inferences": [0.99, 0.01]}))[
            "executionArn"
        ]
        for _ in range(3)
    }
    assert len(arns) == 3
    assert all(wait_for_execution(aws.url, arn)["status"] == "SUCCEEDED" for arn in arns)


def test_retry_on_the_named_error_reaches_success(aws: LocalAWS) -> None:
    function_arn = create_function(aws.url, "flaky", FLAKY_HANDLER)
    machine = _state_machine(
        aws.url,
        "retrying",
        {
            "StartAt": "Flaky",
            "States": {
                # A bare function ARN as Resource: the older Lambda integration.
                "Flaky": {
                    "Type": "Task",
                    "Resource": function_arn,
                    "Retry": [{"ErrorEquals": ["TransientError"], "IntervalSeconds": 1, "MaxAttempts": 3}],
                    "End": True,
                }
            },
        },
    )
    execution = _run(aws.url, machine, {})
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"attempts": 3}


def test_errors_not_caught_fail_the_execution_with_the_lambda_error(aws: LocalAWS) -> None:
    function_arn = create_function(aws.url, "always-fails", FILTER_HANDLER)
    machine = _state_machine(
        aws.url,
        "uncaught",
        {"StartAt": "F", "States": {"F": {"Type": "Task", "Resource": function_arn, "End": True}}},
    )
    execution = _run(aws.url, machine, {"inferences": [0.5, 0.5]})
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ThresholdConfidenceNotMetError"


def test_jsonpaths_are_parsed_once_and_never_leak_between_executions(aws: LocalAWS, filter_machine: str) -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    _run(aws.url, filter_machine, {"inferences": [0.99, 0.01]})  # every path of the machine parsed by now
    parsed_before = json_path.parse.cache_info().currsize
    hits_before = json_path.parse.cache_info().hits
    outputs = [_run(aws.url, filter_machine, {"inferences": [p, 1 - p]})["output"] for p in (0.95, 0.98)]
    assert [json.loads(o)["body"]["inferences"][0] for o in outputs] == [0.95, 0.98]
    assert json_path.parse.cache_info().currsize == parsed_before
    assert json_path.parse.cache_info().hits > hits_before


def test_in_process_lambda_invoke_answers_as_the_http_api_does(aws: LocalAWS, filter_machine: str) -> None:
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    from scones.local import speedups

    function_arn = create_function(aws.url, "filter-direct", FILTER_HANDLER)
    # What Lambda answers, asked over HTTP by boto3 (moto's own path), beside the in-process call.
    http = boto_client_for(service="lambda", region="us-east-1", state_credentials=None)
    for inferences in ([0.97, 0.03], [0.6, 0.4]):
        parameters = {"FunctionName": function_arn, "Payload": json.dumps({"inferences": inferences}).encode()}
        direct = speedups.invoke_lambda_in_process(parameters, "us-east-1", None)
        answered = http.invoke(**parameters)
        payload = json.loads(answered["Payload"].read())
        assert direct["StatusCode"] == answered["StatusCode"] == 200
        assert direct.get("FunctionError") == answered.get("FunctionError")
        if isinstance(payload, dict) and "requestId" in payload:  # an error names its own invocation
            assert direct["Payload"].pop("requestId") != payload.pop("requestId")
        assert direct["Payload"] == payload
    assert direct["FunctionError"] == "Unhandled" and direct["Payload"]["errorType"] == "ThresholdConfidenceNotMetError"


def test_tasks_the_in_process_path_does_not_cover_still_run_over_http(aws: LocalAWS) -> None:
    function_arn = create_function(aws.url, "filter-http", FILTER_HANDLER)
    missing = function_arn.replace("filter-http", "no-such-function")
    definition = {
        "StartAt": "F",
        "States": {
            "F": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "FUNCTION", "Payload.$": "$", "InvocationType": "RequestResponse"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    text = json.dumps(definition)
    with_option = _state_machine(aws.url, "with-option", json.loads(text.replace("FUNCTION", function_arn)))
    execution = _run(aws.url, with_option, {"inferences": [0.99, 0.01]})
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["body"] == {"inferences": [0.99, 0.01]}
    plain = json.loads(text.replace("FUNCTION", missing))
    del plain["States"]["F"]["Parameters"]["InvocationType"]
    execution = _run(aws.url, _state_machine(aws.url, "missing-function", plain), {})
    assert execution["status"] == "FAILED"
    assert "ResourceNotFound" in execution["error"] + execution.get("cause", "")


def test_oversized_lambda_responses_fail_in_process_as_over_http(aws: LocalAWS) -> None:
    from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

    from scones.local import speedups

    function_arn = create_function(aws.url, "too-big", 'def handler(event, context):\n    return "x" * 6_300_000\n')
    parameters = {"FunctionName": function_arn, "Payload": b"{}"}
    direct = speedups.invoke_lambda_in_process(parameters, "us-east-1", None)
    answered = boto_client_for(service="lambda", region="us-east-1", state_credentials=None).invoke(**parameters)
    assert direct["FunctionError"] == answered["FunctionError"] == "Unhandled"
    assert direct["Payload"]["errorType"] == json.loads(answered["Payload"].read())["errorType"]
    assert direct["Payload"]["errorType"] == "Function.ResponseSizeTooLarge"
