"""Step Functions: what the Terraform AWS provider calls that moto lacks, and execution names.

- `ListStateMachineVersions` is called after every create/read of a state machine.
- `ValidateStateMachineDefinition` is called on every plan/apply of a state machine whose
  definition is known; it is answered with moto's own ASL parser and static analysers.
  Without these two the provider retries for minutes and then fails.
- moto names an unnamed execution "None", so the second unnamed `StartExecution` returns the first.
- EXPRESS machines run as on AWS (`StartSyncExecution`; no `DescribeExecution` of their
  executions): `stepfunctions_express.py`.
- Runtime errors are AWS's (States.Runtime is never caught, no Python exception as a cause):
  `stepfunctions_errors.py`.
- A Task state's Lambda call refused with AccessDeniedException fails as `Lambda.AWSLambdaException`,
  the SDK exception Step Functions reports for a Lambda error that is not one of Lambda's modelled
  exceptions (moto names it `Lambda.AccessDeniedException`, which no Retry or Catch of this
  workflow would see as Step Functions reports it).
- Distributed Map (ItemReader pages, tolerated failures, ResultWriter files):
  `stepfunctions_distributed_map.py`.
- With IAM enforced, Task states call as the state machine's role (`task_principal`).
- `events:putEvents` Tasks fail with EventBridge's error names: `stepfunctions_events.py`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from botocore.exceptions import ClientError
from moto.core.responses import ActionResult
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
    StateTaskServiceLambda,
)
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from scones.local.iam.authorizer import Principal
from scones.local.services import (
    stepfunctions_distributed_map,
    stepfunctions_errors,
    stepfunctions_events,
    stepfunctions_express,
)

# The session name in the assumed-role ARN of a Task state's calls (on AWS a random string).
STATES_SESSION_NAME = "StepFunctions"


def task_principal(state_credentials: Any) -> tuple[str, Principal] | None:
    """(role ARN, principal) a Task state calls as: the execution's role, or the state's own
    Credentials.RoleArn; None when there is no role."""
    role_arn = str(getattr(state_credentials, "role_arn", "") or "")
    if not role_arn.startswith("arn:"):
        return None
    return role_arn, Principal.of_role(role_arn, STATES_SESSION_NAME)


def validate_definition(definition: str, machine_type: str = "STANDARD") -> tuple[str, list[dict[str, str]]]:
    """("OK" | "FAIL", diagnostics) for an ASL definition, judged by moto's parser and static analysers."""
    # Imported here: the parser package is large and only needed when a definition is validated.
    # (moto's own provider.validate_state_machine_definition imports localstack, so it cannot be used.)
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException
    from moto.stepfunctions.parser.asl.static_analyser.express_static_analyser import ExpressStaticAnalyser
    from moto.stepfunctions.parser.asl.static_analyser.static_analyser import StaticAnalyser

    analyser = ExpressStaticAnalyser() if machine_type == "EXPRESS" else StaticAnalyser()
    try:
        analyser.analyse(definition)
        dangling = _dangling_transitions(json.loads(definition))
        if dangling:
            message = "transitions to states that do not exist: " + ", ".join(dangling)
            return "FAIL", [{"severity": "ERROR", "code": "MISSING_TRANSITION_TARGET", "message": message}]
    except ASLParserException as exc:
        return "FAIL", [{"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": repr(exc)}]
    except Exception as exc:  # the analysers raise assorted errors on invalid input; all mean "invalid"
        message = f"{type(exc).__name__}: {exc}"
        return "FAIL", [{"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": message}]
    return "OK", []


def _dangling_transitions(machine: dict[str, Any]) -> list[str]:
    """'from -> to' for every StartAt/Next/Default/Catch target missing from its States (moto does not check)."""
    states: dict[str, Any] = machine.get("States", {})
    found: list[str] = []
    if machine.get("StartAt") not in states:
        found.append(f"StartAt -> {machine.get('StartAt')}")
    for name, state in states.items():
        targets = [state.get("Next"), state.get("Default")]
        targets += [choice.get("Next") for choice in state.get("Choices", [])]
        targets += [catcher.get("Next") for catcher in state.get("Catch", [])]
        found += [f"{name} -> {target}" for target in targets if target is not None and target not in states]
        for branch in state.get("Branches", []):
            found += _dangling_transitions(branch)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                found += _dangling_transitions(state[key])
    return found


def _validate_state_machine_definition(self: StepFunctionResponse) -> str:
    definition = self._get_param("definition") or ""
    machine_type = self._get_param("type") or "STANDARD"
    result, diagnostics = validate_definition(definition, machine_type)
    return json.dumps({"result": result, "diagnostics": diagnostics, "truncated": False})


def _list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
    machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    versions = sorted(getattr(machine, "versions", {}).values(), key=lambda v: v.version, reverse=True)
    listed = [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions]
    return ActionResult({"stateMachineVersions": listed})


_original_start_execution = StepFunctionsParserBackend.start_execution


def _start_execution(
    self: StepFunctionsParserBackend,
    state_machine_arn: str,
    name: str | None = None,
    execution_input: str | None = None,
    trace_header: str | None = None,
) -> Any:
    return _original_start_execution(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)


_original_lambda_error_cause = StateTaskServiceLambda._error_cause_from_client_error


def _lambda_error_cause(client_error: ClientError) -> tuple[str, str]:
    # e.g. https://github.com/aws-samples/lambda-refarch-imagerecognition/issues/19: a role without
    # lambda:InvokeFunction fails the Task with "Lambda.AWSLambdaException" and the 403 in the cause.
    error, cause = _original_lambda_error_cause(client_error)
    return ("Lambda.AWSLambdaException" if error == "Lambda.AccessDeniedException" else error), cause


def install() -> None:
    StateTaskServiceLambda._error_cause_from_client_error = staticmethod(_lambda_error_cause)  # type: ignore[method-assign]
    StepFunctionResponse.validate_state_machine_definition = _validate_state_machine_definition  # type: ignore[attr-defined]
    StepFunctionResponse.list_state_machine_versions = _list_state_machine_versions  # type: ignore[attr-defined]
    StepFunctionsParserBackend.start_execution = _start_execution  # type: ignore[method-assign]
    stepfunctions_express.install()
    stepfunctions_errors.install()
    stepfunctions_distributed_map.install()
    stepfunctions_events.install()
