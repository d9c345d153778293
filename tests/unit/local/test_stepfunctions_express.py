"""EXPRESS state machines on the local emulator answer as AWS's API does (StartSyncExecution, and no
DescribeExecution, GetExecutionHistory or ListExecutions for Express executions)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from scones.aws import make_session
from scones.local.server import LocalAWS
from tests.support.local_fixtures import client

ROLE = "arn:aws:iam::123456789012:role/sfn"
ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "Parameters": {"got.$": "$.value"}, "End": True}}}
FAILS = {"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "Nope", "Cause": "by design"}}}


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


def _machine(url: str, name: str, definition: dict, machine_type: str) -> str:
    sfn = client("stepfunctions", url)
    return str(
        sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE, type=machine_type)[
            "stateMachineArn"
        ]
    )


def test_start_sync_execution_runs_an_express_execution_to_its_end(aws: LocalAWS) -> None:
    machine = _machine(aws.url, "echo-express", ECHO, "EXPRESS")
    answer = client("stepfunctions", aws.url).start_sync_execution(
        stateMachineArn=machine, name="one", input=json.dumps({"value": 7})
    )
    assert answer["status"] == "SUCCEEDED"
    assert json.loads(answer["output"]) == {"got": 7}
    assert json.loads(answer["input"]) == {"value": 7}
    assert answer["name"] == "one" and answer["stateMachineArn"] == machine
    assert answer["executionArn"].startswith("arn:aws:states:us-east-1:123456789012:express:echo-express:one:")
    assert answer["startDate"] <= answer["stopDate"]
    billing = answer["billingDetails"]
    assert billing["billedMemoryUsedInMB"] == 64 and billing["billedDurationInMilliseconds"] % 100 == 0


def test_start_sync_execution_reports_a_failure_in_its_answer(aws: LocalAWS) -> None:
    machine = _machine(aws.url, "fails-express", FAILS, "EXPRESS")
    answer = client("stepfunctions", aws.url).start_sync_execution(stateMachineArn=machine, input="{}")
    assert (answer["status"], answer["error"], answer["cause"]) == ("FAILED", "Nope", "by design")
    assert "output" not in answer


def test_start_sync_execution_is_refused_for_a_standard_machine(aws: LocalAWS) -> None:
    machine = _machine(aws.url, "echo-standard", ECHO, "STANDARD")
    sfn = client("stepfunctions", aws.url)
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.start_sync_execution(stateMachineArn=machine, input="{}")


def test_express_executions_cannot_be_described_listed_or_read_back(aws: LocalAWS) -> None:
    machine = _machine(aws.url, "echo-express-async", ECHO, "EXPRESS")
    sfn = client("stepfunctions", aws.url)
    started = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"value": 1}))["executionArn"]
    assert ":express:echo-express-async:" in started
    with pytest.raises(sfn.exceptions.InvalidArn, match="Resource type not valid in this context: express"):
        sfn.describe_execution(executionArn=started)
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.get_execution_history(executionArn=started)
    with pytest.raises(sfn.exceptions.StateMachineTypeNotSupported):
        sfn.list_executions(stateMachineArn=machine)


def test_the_scones_session_reaches_start_sync_execution_on_the_emulator(aws: LocalAWS) -> None:
    """botocore prefixes StartSyncExecution's host with sync-; the session turns that off for an endpoint."""
    machine = _machine(aws.url, "echo-session", ECHO, "EXPRESS")
    sfn = make_session(endpoint_url=aws.url).client("stepfunctions")
    answer = sfn.start_sync_execution(stateMachineArn=machine, input=json.dumps({"value": "x"}))
    assert answer["status"] == "SUCCEEDED"


def test_the_inventory_lists_an_express_machine_without_listing_its_executions(aws: LocalAWS) -> None:
    from scones.local.inventory import list_deployed

    _machine(aws.url, "inventoried-express", ECHO, "EXPRESS")
    _machine(aws.url, "inventoried-standard", ECHO, "STANDARD")
    machines = list_deployed(aws.url).state_machines
    assert machines["inventoried-express"] is None and machines["inventoried-standard"] == 0
