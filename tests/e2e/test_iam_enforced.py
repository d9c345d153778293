"""The stack's own IAM policies, held to account on the emulator (which enforces IAM under
`scones local up`): every statement of every role the workflow acts as is removed in turn, one
execution runs, and the step that needs the statement fails as it would on AWS; then the policy
is restored. One apply for the module (the tiny red/blue model, no training).

A statement the emulator cannot check (nothing in the workflow makes its call here, or the call is
not emulated) is named in NOT_OBSERVED with the reason; every statement of the deployed roles must
be in one table or the other, so a statement added later has to be classified.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.e2e_stacks import MODELS_BUCKET_GRANT, Stack, tiny_stack
from tests.support.iam_statements import POLICY, inline_policy, log_text, unclassified, without_statement
from tests.support.local_fixtures import model_artifact, png

pytestmark = pytest.mark.e2e
CONFIDENT = "data/test/bicycle/red.png"  # the tiny model: red is a bicycle, far above the threshold
UNSURE = "data/test/bicycle/purple.png"  # red and blue alike: 50/50, below it
MISSING = "data/test/bicycle/no_such_image.png"
ANNOUNCE = "announce-results"  # the state machine role's second one (terraform/modules/events)


@dataclass(frozen=True)
class Expected:
    key: str  # the image the execution is started with
    state: str | None  # the Task that fails; None when the execution succeeds
    error: str
    cause: str  # a part of the Task's failure cause (or, with no failing Task, of what is observed)


# The workflow's steps. start_classification is not here: this stack leaves ingestion off, so nothing runs it;
# tests/e2e/test_events.py, whose stack has ingestion on, removes its role's statements in turn.
FUNCTIONS = ("serialize-image", "classify-image", "filter-low-confidence")
# (role, statement Sid) -> what one execution does without that statement.
EXPECTED: dict[tuple[str, str], Expected] = {
    ("serialize-image", "ReadImages"): Expected(
        CONFIDENT, "SerializeImage", "ImageNotFoundError", "S3 answered AccessDenied: User: arn:aws:sts::"
    ),
    ("classify-image", "InvokeEndpoint"): Expected(
        CONFIDENT, "ClassifyImage", "EndpointInvocationError", "is not authorized to perform: sagemaker:InvokeEndpoint"
    ),
    ("state-machine", "InvokeWorkflowFunctions"): Expected(
        CONFIDENT, "SerializeImage", "Lambda.AWSLambdaException", "is not authorized to perform: lambda:InvokeFunction"
    ),
    (ANNOUNCE, "AnnounceResults"): Expected(
        CONFIDENT,
        "AnnounceClassified",
        "EventBridge.AccessDeniedException",
        "is not authorized to perform: events:PutEvents",
    ),
    ("state-machine", "PublishNotifications"): Expected(
        UNSURE, "NotifyLowConfidence", "SNS.AuthorizationErrorException", "is not authorized to perform: SNS:Publish"
    ),
    # SageMaker drops what it cannot deliver: the execution succeeds and the endpoint's log says why.
    ("sagemaker", "WriteCapture"): Expected(CONFIDENT, None, "", "is not authorized to perform: s3:PutObject"),
    # Lambda loses the logs of a function whose role may not write them; the function runs.
    **{(function, "WriteOwnLogs"): Expected(CONFIDENT, None, "", "") for function in FUNCTIONS},
}

# Statements whose call the workflow does not make on the emulator as the role, with why.
NOT_OBSERVED: dict[str, str] = {
    "XRayTraces": "no X-Ray on the emulator",
    "DeliverExecutionLogs": "the emulator does not deliver execution logs to CloudWatch Logs",
    "ReadTrainingDataAndArtifacts": (
        "this stack's tiny artifact lives in a bucket of its own, granted apart (tests/support/e2e_stacks.py); "
        "an artifact read refused when the endpoint loads its model is tests/unit/local/test_iam.py's"
    ),
    "ListData": "training only (scones train runs with the admin's keys locally)",
    "ReadTrainingCode": "training only",
    "WriteArtifacts": "training only",
    "WriteSageMakerLogs": "the emulator writes the endpoint's log lines itself",
    "PublishSageMakerMetrics": "no SageMaker metrics published as the role",
    "ReadRollbackAlarms": "the emulator's deployment monitor reads the rollback alarms itself, as SageMaker's service",
    "EncryptNotifications": "KMS is not enforced (docs/emulator.md, IAM)",
    "UseBucketKeys": "KMS is not enforced",
    "DecryptImages": "KMS is not enforced",
    "PullImages": "no container images pulled on the emulator",
    "EcrLogin": "no container images pulled on the emulator",
}


@dataclass
class Roles:
    names: dict[str, str]  # short name (serialize-image, state-machine, sagemaker, announce-results) -> role name
    functions: dict[str, str]  # short name -> function name, for the Lambda roles
    policies: dict[str, dict[str, Any]]  # short name -> its policy as applied


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with tiny_stack(tmp_path_factory.mktemp("iam") / "stack", model_artifact()) as deployed:
        s3 = deployed.client("s3")
        s3.put_object(Bucket=deployed.bucket, Key=CONFIDENT, Body=png((250, 10, 10)))
        s3.put_object(Bucket=deployed.bucket, Key=UNSURE, Body=png((128, 0, 128)))
        yield deployed


@pytest.fixture(scope="module")
def roles(stack: Stack) -> Roles:
    names: dict[str, str] = {}
    functions: dict[str, str] = {}
    lambdas = stack.client("lambda")
    for short in FUNCTIONS:
        arn = stack.deployment.outputs["lambda_function_arns"][short.replace("-", "_")]
        role_arn = lambdas.get_function_configuration(FunctionName=arn)["Role"]
        names[short], functions[short] = role_arn.rsplit("/", 1)[-1], arn.rsplit(":", 1)[-1]
    machine = stack.client("stepfunctions").describe_state_machine(
        stateMachineArn=stack.deployment.outputs["state_machine_arn"]
    )
    names["state-machine"] = names[ANNOUNCE] = machine["roleArn"].rsplit("/", 1)[-1]
    names["sagemaker"] = stack.deployment.outputs["stack"]["sagemaker_role_arn"].rsplit("/", 1)[-1]
    iam = stack.client("iam")
    for name in set(names.values()):
        expected = {POLICY, ANNOUNCE} if name == names["state-machine"] else {POLICY}
        assert set(iam.list_role_policies(RoleName=name)["PolicyNames"]) - {MODELS_BUCKET_GRANT} == expected
        assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    policies = {short: inline_policy(iam, name, _policy_name(short)) for short, name in names.items()}
    return Roles(names, functions, policies)


def _policy_name(short: str) -> str:
    return ANNOUNCE if short == ANNOUNCE else POLICY


def _run(stack: Stack, key: str) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """One execution: describe_execution's answer and its failed Tasks (state, error, cause)."""
    sfn = stack.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=stack.deployment.outputs["state_machine_arn"],
        name=f"iam-{uuid.uuid4().hex[:12]}",
        input=json.dumps({"s3_bucket": stack.bucket, "s3_key": key}),
    )["executionArn"]
    deadline = time.monotonic() + 120
    while (execution := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution still running after 120 s"
        time.sleep(0.2)
    state, failed = "", []
    for event in sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]:
        state = event.get("stateEnteredEventDetails", {}).get("name", state)
        if "taskFailedEventDetails" in event:
            details = event["taskFailedEventDetails"]
            failed.append((state, details["error"], details.get("cause", "")))
    return dict(execution), failed


def _capture_count(stack: Stack) -> int:
    bucket = stack.deployment.outputs["capture_bucket_name"]
    return int(stack.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0))


def _log(stack: Stack, group: str) -> str:
    return log_text(stack.client("logs"), group)


def test_every_statement_of_the_workflows_roles_is_classified(roles: Roles) -> None:
    assert unclassified(roles.policies, EXPECTED, NOT_OBSERVED) == []


def test_the_stack_as_applied_runs_under_enforced_iam(stack: Stack, roles: Roles) -> None:
    execution, failed = _run(stack, CONFIDENT)
    assert execution["status"] == "SUCCEEDED" and failed == []
    execution, failed = _run(stack, UNSURE)
    assert execution.get("error") == "ThresholdConfidenceNotMetError"
    assert [(state, error) for state, error, _ in failed] == [("FilterLowConfidence", "ThresholdConfidenceNotMetError")]


@pytest.mark.parametrize("role_and_sid", sorted(EXPECTED), ids=lambda rs: f"{rs[0]}-{rs[1]}")
def test_removing_a_statement_fails_the_step_that_needs_it(
    stack: Stack, roles: Roles, role_and_sid: tuple[str, str]
) -> None:
    short, sid = role_and_sid
    expected = EXPECTED[role_and_sid]
    captured_before = _capture_count(stack)
    function_log = f"/aws/lambda/{roles.functions.get(short, '')}"
    logged_before = _log(stack, function_log) if short in roles.functions else ""
    iam = stack.client("iam")
    with without_statement(iam, roles.names[short], roles.policies[short], sid, _policy_name(short)):
        execution, failed = _run(stack, expected.key)
    if expected.state is None:
        assert execution["status"] == "SUCCEEDED" and failed == [], (execution, failed)
        if sid == "WriteCapture":
            assert _capture_count(stack) == captured_before
            endpoint_log = _log(stack, f"/aws/sagemaker/Endpoints/{stack.deployment.outputs['endpoint_name']}")
            assert f"assumed-role/{roles.names[short]}/SageMaker {expected.cause}" in endpoint_log
        if sid == "WriteOwnLogs":
            assert _log(stack, function_log) == logged_before  # nothing of this run arrived
            _run(stack, expected.key)  # with the statement back, the function's lines arrive again
            assert _log(stack, function_log) != logged_before
        return
    assert execution["status"] == "FAILED"
    assert execution["error"] == expected.error, execution
    matching = [(state, error, cause) for state, error, cause in failed if state == expected.state]
    assert matching, failed
    _, error, cause = matching[0]
    assert error == expected.error
    assert expected.cause in cause
    assert f"assumed-role/{roles.names[short]}/" in cause
