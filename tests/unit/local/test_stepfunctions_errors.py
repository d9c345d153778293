"""Runtime errors on the local emulator are AWS's: States.Runtime fails the execution whatever its
Catch and Retry say, and no Python exception reaches an execution's error or cause."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from scones.local.server import LocalAWS
from tests.support.local_fixtures import client, create_function, wait_for_execution

ROLE = "arn:aws:iam::123456789012:role/sfn"
CATCH_ALL = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}]
RETRY_ALL = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2}]
CAUGHT = {"Caught": {"Type": "Pass", "End": True}}
PYTHON_NAMES = ("TypeError", "ValueError", "KeyError", "AttributeError", "Traceback", "object")


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def topic(aws: LocalAWS) -> str:
    return str(client("sns", aws.url).create_topic(Name="runtime-errors")["TopicArn"])


def _run(url: str, name: str, states: dict[str, Any], execution_input: Any) -> dict[str, Any]:
    sfn = client("stepfunctions", url)
    definition = json.dumps({"StartAt": next(iter(states)), "States": states})
    machine = sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE)["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))["executionArn"]
    return wait_for_execution(url, arn, timeout_seconds=30)


def _publish(topic: str, **fields: Any) -> dict[str, Any]:
    """An SNS publish task with Catch and Retry on States.ALL."""
    parameters = {"TopicArn": topic, "Message": "m", **fields.pop("parameters", {})}
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": parameters,
        "Retry": RETRY_ALL,
        "Catch": CATCH_ALL,
        "End": True,
        **fields,
    }


UNRESOLVABLE = {
    "parameters": (
        {"parameters": {"Message.$": "$.missing"}},
        "The JSONPath '$.missing' specified for the field 'Message.$'",
    ),
    "input-path": ({"InputPath": "$.missing"}, "Invalid path '$.missing'"),
    "result-selector": (
        {"ResultSelector": {"id.$": "$.missing"}},
        "The JSONPath '$.missing' specified for the field 'id.$'",
    ),
    "intrinsic": (
        {"parameters": {"Message.$": "States.Format('key {}', $.missing)"}},
        "The JSONPath '$.missing' specified for the field 'Message.$'",
    ),
}


@pytest.mark.parametrize("case", UNRESOLVABLE)
@pytest.mark.parametrize("execution_input", [{"present": 1}, [1, 2], "text"], ids=["object", "list", "string"])
def test_an_unresolvable_path_fails_with_states_runtime_that_states_all_does_not_catch(
    aws: LocalAWS, topic: str, case: str, execution_input: Any
) -> None:
    fields, cause = UNRESOLVABLE[case]
    name = f"runtime-{case}-{type(execution_input).__name__}"
    execution = _run(aws.url, name, {"Publish": _publish(topic, **fields), **CAUGHT}, execution_input)
    assert execution["status"] == "FAILED", execution.get("output")
    assert execution["error"] == "States.Runtime"
    assert execution["cause"].startswith(
        "An error occurred while executing the state 'Publish' (entered at the event id #"
    )
    assert cause in execution["cause"]


def test_a_parallel_branch_failing_with_states_runtime_fails_the_execution(aws: LocalAWS) -> None:
    branch = {"StartAt": "Pick", "States": {"Pick": {"Type": "Pass", "Parameters": {"x.$": "$.missing"}, "End": True}}}
    states = {"Both": {"Type": "Parallel", "Branches": [branch], "Catch": CATCH_ALL, "End": True}, **CAUGHT}
    execution = _run(aws.url, "runtime-in-branch", states, {"present": 1})
    assert (execution["status"], execution["error"]) == ("FAILED", "States.Runtime")
    assert execution["cause"].count("An error occurred while executing the state") == 1
    assert "'x.$'" in execution["cause"]
    assert not any(word in execution["cause"] for word in PYTHON_NAMES)


def test_a_result_path_that_cannot_apply_to_a_list_input_is_a_named_error_not_a_python_one(aws: LocalAWS) -> None:
    """The input-shape bug: a Catch's ResultPath on a list input ended in a Python TypeError as the cause."""
    function_arn = create_function(
        aws.url, "always-raises", "def handler(event, context):\n    raise ValueError('no')\n"
    )
    states = {
        "Call": {"Type": "Task", "Resource": function_arn, "Catch": CATCH_ALL, "End": True},
        **CAUGHT,
    }
    execution = _run(aws.url, "result-path-on-list", states, [1, 2])
    assert (execution["status"], execution["error"]) == ("FAILED", "States.ResultPathMatchFailure")
    assert "Unable to apply ResultPath '$.error' to the input '[1, 2]'" in execution["cause"]
    assert not any(word in execution["cause"] for word in ("TypeError", "Traceback", "list indices"))


def test_errors_other_than_states_runtime_are_still_caught(aws: LocalAWS, topic: str) -> None:
    states = {"Publish": _publish("arn:aws:sns:us-east-1:123456789012:no-such-topic"), **CAUGHT}
    execution = _run(aws.url, "caught-task-failure", states, {"present": 1})
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["error"]["Error"] != "States.Runtime"
