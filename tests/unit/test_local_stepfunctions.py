"""Step Functions on the local emulator: executions really run, Catch/Retry see Lambda's errorType."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from scones.local.server import LocalAWS
from tests.unit.local_fixtures import client, create_function, wait_for_execution

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
