"""Step Functions runtime errors, as AWS reports them.

AWS: "The States.ALL error type must appear alone in a Catcher and can't catch the
States.DataLimitExceeded terminal error or Runtime error types"; a States.Runtime error is not
retried either and fails the execution ("Handling errors in Step Functions workflows",
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html, States.ALL and
States.Runtime). moto's interpreter raises States.Runtime where AWS does (a JSONPath in
Parameters, InputPath, ResultSelector or an intrinsic function's arguments that does not resolve)
but then lets a Retry or Catch handle it like any other error. Here:

- a States.Runtime failure of a state is never retried nor caught: the execution fails with it;
- a Parallel branch or Map iteration that fails with a `States.` error hands that error to its
  state (moto tried to rebuild it as a custom error name and failed with a Python ValueError);
- a ResultPath that cannot be applied to the state's input (a field of a list, a string...)
  fails with `States.ResultPathMatchFailure` ("Step Functions failed to apply a state's
  ResultPath field to the input the state received", same page) instead of a Python TypeError;
- any other Python exception inside the interpreter is an emulator gap, not an AWS error: it
  fails the execution with States.Runtime and a cause that says so, and is logged with its
  traceback; no Python type or message reaches the execution's error or cause.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from jsonpath_ng import parse
from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.catch.catch_outcome import CatchOutcome
from moto.stepfunctions.parser.asl.component.common.error_name import custom_error_name
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.path.result_path import ResultPath
from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payloadbinding.payload_binding import (
    PayloadBinding,
)
from moto.stepfunctions.parser.asl.component.common.retry.retry_outcome import RetryOutcome
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl
from moto.stepfunctions.parser.asl.component.state.state import CommonStateField
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.asl.utils.json_path import NoSuchJsonPathError

LOG = logging.getLogger(__name__)

RUNTIME = StatesErrorNameType.StatesRuntime.to_name()
# How AWS opens the cause of a States.Runtime failure (moto adds it, and so does a nested one).
CAUSE_PREFIX = "An error occurred while executing the state '"
EMULATOR_GAP_CAUSE = (
    "The local emulator could not evaluate this state (an interpreter error, not an AWS error; "
    "the traceback is in the emulator's log)."
)


def _is_runtime(failure_event: FailureEvent) -> bool:
    return failure_event.error_name is not None and failure_event.error_name.error_name == RUNTIME


_original_handle_retry = ExecutionState._handle_retry
_original_handle_catch = ExecutionState._handle_catch


def _handle_retry(self: ExecutionState, env: Environment, failure_event: FailureEvent) -> RetryOutcome:
    if _is_runtime(failure_event):
        return RetryOutcome.CannotRetry
    return _original_handle_retry(self, env, failure_event)


def _handle_catch(self: ExecutionState, env: Environment, failure_event: FailureEvent) -> None:
    if _is_runtime(failure_event):
        env.stack.append(CatchOutcome.NotCaught)
        return
    _original_handle_catch(self, env, failure_event)


def branch_error_name(error_name: str | None) -> ErrorName:
    """The error name a failed branch or iteration hands to its Parallel or Map state."""
    if error_name is not None and error_name.startswith(custom_error_name.ILLEGAL_CUSTOM_ERROR_PREFIX):
        try:
            return StatesErrorName.from_name(error_name)
        except ValueError:
            return ErrorName(error_name=error_name)  # a States.* name AWS does not define: kept as reported
    return custom_error_name.CustomErrorName(error_name=error_name)


def states_failure(env: Environment, error: StatesErrorNameType, cause: str) -> FailureEventException:
    """A States.* error of the running state (its Retry and Catch see it), with `cause`."""
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=error),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(
                taskFailedEventDetails=TaskFailedEventDetails(error=error.to_name(), cause=cause)
            ),
        )
    )


def _result_path_eval_body(self: ResultPath, env: Environment) -> None:
    state_input = env.states.get_input()
    if self.result_path_src is None:
        env.stack.clear()
        env.stack.append(state_input)
        return
    result = env.stack.pop()
    try:
        output = parse(self.result_path_src).update_or_create(state_input, copy.deepcopy(result))
    except (TypeError, AttributeError, KeyError, IndexError):  # jsonpath_ng on a non-object input
        cause = f"Unable to apply ResultPath '{self.result_path_src}' to the input '{to_json_str(state_input)}'"
        raise states_failure(env, StatesErrorNameType.StatesResultPathMatchFailure, cause) from None
    env.stack.append(output)


def _payload_binding_eval_body(self: PayloadBinding, env: Environment) -> None:
    """A `"field.$"` of Parameters or ResultSelector (a path or an intrinsic function's argument)
    that does not resolve: States.Runtime, worded as AWS words it."""
    container = env.stack.pop()
    try:
        value = self._eval_val(env=env)
    except NoSuchJsonPathError as missing:
        cause = (
            f"The JSONPath '{missing.json_path}' specified for the field '{self._field_name()}' "
            f"could not be found in the input '{to_json_str(missing.data)}'"
        )
        raise states_failure(env, StatesErrorNameType.StatesRuntime, cause) from None
    container[self.field] = value
    env.stack.append(container)


_original_state_eval = CommonStateField.eval


def _state_eval(self: CommonStateField, env: Environment) -> None:
    try:
        _original_state_eval(self, env)
    except FailureEventException:
        raise
    except Exception:
        LOG.exception("Step Functions interpreter error in state %r", getattr(self, "name", "?"))
        raise states_failure(env, StatesErrorNameType.StatesRuntime, EMULATOR_GAP_CAUSE) from None


_original_from_error = ExecutionState._from_error


def _from_error(self: ExecutionState, env: Environment, ex: Exception) -> FailureEvent:
    if isinstance(ex, FailureEventException | NoSuchJsonPathError | EvalTimeoutError):
        return _original_from_error(self, env, ex)
    LOG.error("Step Functions interpreter error in state %r", getattr(self, "name", "?"), exc_info=ex)
    return states_failure(env, StatesErrorNameType.StatesRuntime, EMULATOR_GAP_CAUSE).failure_event


_original_execution_failed_details = FailureEventException.get_execution_failed_event_details


def _execution_failed_details(self: FailureEventException) -> ExecutionFailedEventDetails | None:
    """The cause once prefixed, when a branch's States.Runtime cause was already."""
    details: Any = _original_execution_failed_details(self)
    cause = (details or {}).get("cause") or ""
    if cause.count(CAUSE_PREFIX) > 1:
        details["cause"] = cause[cause.index(CAUSE_PREFIX, 1) :]
    return details


def install() -> None:
    ExecutionState._handle_retry = _handle_retry  # type: ignore[method-assign]
    ExecutionState._handle_catch = _handle_catch  # type: ignore[method-assign]
    ExecutionState._from_error = _from_error  # type: ignore[method-assign]
    CommonStateField.eval = _state_eval  # type: ignore[method-assign]
    ResultPath._eval_body = _result_path_eval_body  # type: ignore[method-assign]
    PayloadBinding._eval_body = _payload_binding_eval_body  # type: ignore[method-assign]
    FailureEventException.get_execution_failed_event_details = _execution_failed_details  # type: ignore[method-assign]
    branches_decl.CustomErrorName = branch_error_name  # type: ignore[attr-defined]
    iteration_worker.CustomErrorName = branch_error_name  # type: ignore[attr-defined]
