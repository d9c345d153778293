"""Step Functions EXPRESS state machines, as AWS runs them.

moto runs every execution as a STANDARD one (its state machines all report `sm_type`
"STANDARD") and has no `StartSyncExecution`. Here:

- `StartSyncExecution` runs an EXPRESS execution to its end inside the request and answers with
  its status (SUCCEEDED | FAILED | TIMED_OUT), output or error and cause, and billing details; on
  a STANDARD machine it is refused with `StateMachineTypeNotSupported`.
  ("StartSyncExecution", https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartSyncExecution.html)
- `StartExecution` on an EXPRESS machine starts it in the background under an express execution
  ARN (`arn:aws:states:REGION:ACCOUNT:express:MACHINE:NAME:ID`), as AWS does.
- Express executions have no history that can be read back: `DescribeExecution` and
  `GetExecutionHistory` refuse an express execution ARN with `InvalidArn` ("Resource type not
  valid in this context: express"), and `ListExecutions` refuses an EXPRESS machine with
  `StateMachineTypeNotSupported` ("DescribeExecution", "GetExecutionHistory", "ListExecutions" in
  the Step Functions API reference: "not supported by EXPRESS state machines"). The API
  reference names the error codes but not their messages; the messages are those of the
  LocalStack provider moto's interpreter was ported from (moto/stepfunctions/parser/provider.py,
  `_raise_state_machine_type_not_supported`, `_raise_resource_type_not_in_context`).

Against 127.0.0.1 the SDK must not prefix the host with `sync-` (botocore's hostPrefix for
`StartSyncExecution`): `scones.aws.EndpointSession` turns host-prefix injection off.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
import uuid

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.stepfunctions.exceptions import InvalidArn, InvalidExecutionInput
from moto.stepfunctions.models import StateMachine
from moto.stepfunctions.parser.backend.execution import Execution, SyncExecution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

EXPRESS = "EXPRESS"
# Express workflows are billed by duration rounded up to the next 100 ms and memory in 64-MB
# chunks ("AWS Step Functions Pricing", https://aws.amazon.com/step-functions/pricing/).
BILLED_DURATION_STEP_MS = 100
BILLED_MEMORY_MB = 64


class StateMachineTypeNotSupported(AWSError):
    TYPE = "StateMachineTypeNotSupported"
    STATUS = 400

    def __init__(self) -> None:
        super().__init__("This operation is not supported by this type of state machine")


def is_express_execution_arn(arn: str) -> bool:
    """arn:PARTITION:states:REGION:ACCOUNT:express:MACHINE:NAME:ID"""
    parts = arn.split(":")
    return len(parts) > 6 and parts[5] == "express"


def _express_execution_arn(machine: StateMachine, name: str) -> str:
    _, partition, _, region, account = machine.arn.split(":")[:5]
    return f"arn:{partition}:states:{region}:{account}:express:{machine.name}:{name}:{uuid.uuid4()}"


def _snapshot(machine: StateMachine) -> StateMachine:
    """The definition as it stands, for one execution (moto's start_execution does the same):
    the executions hold live threads and the backend every other machine, so neither is copied."""
    clone = copy.deepcopy(machine, {id(machine.executions): [], id(machine.backend): machine.backend})
    clone.sm_type = machine.type  # moto's machines all say STANDARD here; the interpreter reads it
    return clone


def _checked_input(execution_input: str | None) -> str:
    text = "{}" if execution_input is None else execution_input
    try:
        json.loads(text)
    except ValueError as exc:
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from None
    return text


def run_express_execution(
    backend: StepFunctionsParserBackend,
    machine: StateMachine,
    name: str | None,
    execution_input: str | None,
    *,
    sync: bool,
) -> Execution:
    """An EXPRESS execution: to its end when `sync`, else started in the background."""
    snapshot = _snapshot(machine)
    name = name or str(uuid.uuid4())
    execution_class = SyncExecution if sync else Execution
    execution = execution_class(
        name=name,
        sm_type=EXPRESS,
        role_arn=snapshot.roleArn,
        exec_arn=_express_execution_arn(machine, name),
        account_id=backend.account_id,
        region_name=backend.region_name,
        state_machine=snapshot,
        start_date=datetime.datetime.now(tz=datetime.UTC),
        cloud_watch_logging_session=None,
        activity_store={},
        input_data=_checked_input(execution_input),
    )
    execution.start()
    return execution


def billing_details(execution: Execution) -> dict[str, int]:
    elapsed_ms = (execution.stop_date - execution.start_date).total_seconds() * 1000
    billed = max(1, math.ceil(elapsed_ms / BILLED_DURATION_STEP_MS)) * BILLED_DURATION_STEP_MS
    return {"billedMemoryUsedInMB": BILLED_MEMORY_MB, "billedDurationInMilliseconds": billed}


def _machine(response: StepFunctionResponse) -> StateMachine:
    return response.stepfunction_backend.describe_state_machine(response._get_param("stateMachineArn"))


def _start_sync_execution(self: StepFunctionResponse) -> ActionResult:
    machine = _machine(self)
    if machine.type != EXPRESS:
        raise StateMachineTypeNotSupported()
    execution = run_express_execution(
        self.stepfunction_backend, machine, self._get_param("name"), self._get_param("input"), sync=True
    )
    answer = dict(execution.to_start_sync_execution_output())
    answer["stateMachineArn"] = machine.arn
    answer["billingDetails"] = billing_details(execution)
    return ActionResult(answer)


_original_start_execution = StepFunctionResponse.start_execution
_original_describe_execution = StepFunctionResponse.describe_execution
_original_get_execution_history = StepFunctionResponse.get_execution_history
_original_list_executions = StepFunctionResponse.list_executions


def _start_execution(self: StepFunctionResponse) -> ActionResult:
    machine = _machine(self)
    if machine.type != EXPRESS:
        return _original_start_execution(self)
    execution = run_express_execution(
        self.stepfunction_backend, machine, self._get_param("name"), self._get_param("input"), sync=False
    )
    return ActionResult({"executionArn": execution.exec_arn, "startDate": execution.start_date})


def _refuse_express_execution(response: StepFunctionResponse) -> None:
    if is_express_execution_arn(response._get_param("executionArn") or ""):
        raise InvalidArn("Invalid Arn: 'Resource type not valid in this context: express'")


def _describe_execution(self: StepFunctionResponse) -> ActionResult:
    _refuse_express_execution(self)
    return _original_describe_execution(self)


def _get_execution_history(self: StepFunctionResponse) -> ActionResult:
    _refuse_express_execution(self)
    return _original_get_execution_history(self)


def _list_executions(self: StepFunctionResponse) -> ActionResult:
    if self._get_param("stateMachineArn") and _machine(self).type == EXPRESS:
        raise StateMachineTypeNotSupported()
    return _original_list_executions(self)


def install() -> None:
    StepFunctionResponse.start_sync_execution = _start_sync_execution  # type: ignore[attr-defined]
    StepFunctionResponse.start_execution = _start_execution  # type: ignore[method-assign]
    StepFunctionResponse.describe_execution = _describe_execution  # type: ignore[method-assign]
    StepFunctionResponse.get_execution_history = _get_execution_history  # type: ignore[method-assign]
    StepFunctionResponse.list_executions = _list_executions  # type: ignore[method-assign]
