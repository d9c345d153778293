"""Step Functions' optimised EventBridge integration (`arn:aws:states:::events:putEvents`) failing as on AWS.

moto runs the Task (the role's client, Detail sent as JSON text, the machine and execution appended to
each entry's Resources, `EventBridge.FailedEntry` for a non-zero FailedEntryCount: "Add EventBridge events
with Step Functions", https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html), and
the event reaches the bus's rules through `eventbridge.py`. Two gaps are filled here:

- a refused call (the role may not `events:PutEvents` on the bus, the bus does not exist) raised a
  Python exception that moto reported as `States.Runtime`, which no Retry or Catch sees; it fails the
  Task as `EventBridge.<Code>` with the service's message, the way other optimised integrations name
  SDK errors (`SNS.AuthorizationErrorException`);
- `EventBridge.FailedEntry`'s cause was the response object, not the JSON text a cause is.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events import (
    SfnFailedEntryCountException,
    StateTaskServiceEvents,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

_original_from_error = StateTaskServiceEvents._from_error


def error_and_cause(exc: ClientError) -> tuple[str, str]:
    """The Task's error name and cause for an EventBridge call refused with `exc`."""
    code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
    name = code if code.endswith("Exception") else f"{code}Exception"
    metadata = exc.response.get("ResponseMetadata", {})
    cause = (
        f"{exc.response.get('Error', {}).get('Message', '')} (Service: EventBridge; "
        f"Status Code: {metadata.get('HTTPStatusCode', 400)}; Error Code: {code}; "
        f"Request ID: {metadata.get('RequestId', '')}; Proxy: null)"
    )
    return f"EventBridge.{name}", cause


def _failure(task: StateTaskServiceEvents, env: Environment, error: str, cause: str) -> FailureEvent:
    return FailureEvent(
        env=env,
        error_name=CustomErrorName(error_name=error),
        event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(
            taskFailedEventDetails=TaskFailedEventDetails(
                error=error,
                cause=cause,
                resource=task._get_sfn_resource(),
                resourceType=task._get_sfn_resource_type(),
            )
        ),
    )


def _from_error(self: StateTaskServiceEvents, env: Environment, ex: Exception) -> FailureEvent:
    if isinstance(ex, ClientError):
        return _failure(self, env, *error_and_cause(ex))
    if isinstance(ex, SfnFailedEntryCountException):
        return _failure(self, env, "EventBridge.FailedEntry", json.dumps(ex.cause))
    return _original_from_error(self, env, ex)


def install() -> None:
    StateTaskServiceEvents._from_error = _from_error  # type: ignore[method-assign]
