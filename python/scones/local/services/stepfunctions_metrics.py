"""Step Functions: the execution metrics AWS publishes, for every execution moto's interpreter runs.

`AWS/States` by StateMachineArn ("Monitoring Step Functions metrics using Amazon CloudWatch",
https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html): ExecutionsStarted
when an execution starts; when it ends, one of ExecutionsSucceeded, ExecutionsFailed,
ExecutionsTimedOut or ExecutionsAborted (Count) and ExecutionTime (Milliseconds, start to stop).
Hooked where moto's parser backend starts an execution (`Execution.start`) and where its worker
reports the end (`BaseExecutionWorkerCommunication.terminated`), which every execution type
goes through (standard, and the synchronous ones of StartSyncExecution).
"""

from __future__ import annotations

import datetime
from typing import Any

from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution

from scones.local.runtime import cloudwatch_metrics

STATES_NAMESPACE = "AWS/States"
_END_METRICS = {
    ExecutionStatus.SUCCEEDED: "ExecutionsSucceeded",
    ExecutionStatus.FAILED: "ExecutionsFailed",
    ExecutionStatus.TIMED_OUT: "ExecutionsTimedOut",
    ExecutionStatus.ABORTED: "ExecutionsAborted",
}


def _state_machine_arn(execution: Execution) -> str:
    # An execution of a version is reported under its state machine (a version's `source_arn`).
    machine = execution.state_machine
    return str(getattr(machine, "source_arn", None) or machine.arn)


def _publish(execution: Execution, data: list[cloudwatch_metrics.Datum]) -> None:
    cloudwatch_metrics.publish(execution.account_id, execution.region_name, STATES_NAMESPACE, data)


def _aware(when: Any) -> datetime.datetime:
    if isinstance(when, datetime.datetime):
        return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)
    return datetime.datetime.now(tz=datetime.UTC)


_original_start = Execution.start
_original_terminated = BaseExecutionWorkerCommunication.terminated


def _start(self: Execution) -> None:
    _original_start(self)
    dimensions = {"StateMachineArn": _state_machine_arn(self)}
    _publish(self, [cloudwatch_metrics.Datum("ExecutionsStarted", 1, "Count", dimensions, _aware(self.start_date))])


def _terminated(self: BaseExecutionWorkerCommunication) -> None:
    _original_terminated(self)
    execution = self.execution
    name = _END_METRICS.get(execution.exec_status)
    if name is None:
        return
    dimensions = {"StateMachineArn": _state_machine_arn(execution)}
    started, stopped = _aware(execution.start_date), _aware(execution.stop_date)
    milliseconds = max((stopped - started).total_seconds() * 1000, 0.0)
    _publish(
        execution,
        [
            cloudwatch_metrics.Datum(name, 1, "Count", dimensions, stopped),
            cloudwatch_metrics.Datum("ExecutionTime", milliseconds, "Milliseconds", dimensions, stopped),
        ],
    )


def install() -> None:
    Execution.start = _start  # type: ignore[method-assign]
    BaseExecutionWorkerCommunication.terminated = _terminated  # type: ignore[method-assign]
