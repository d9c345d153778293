"""The workflow client on an EXPRESS machine: StartSyncExecution only, never the APIs Step Functions
refuses for Express executions (DescribeExecution, ListExecutions), against a client that answers
as StartSyncExecution does (the emulator's own answers are tested in tests/unit/local)."""

from __future__ import annotations

import datetime
import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from scones.workflow import NO_ANSWER, NOT_STARTED, Outcome, run_executions

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:scones-express"
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
LOW = json.dumps(
    {
        "errorType": "ThresholdConfidenceNotMetError",
        "errorMessage": json.dumps({"message": "low", "confidence": 0.6, "inferences": [0.6, 0.4], "s3_key": "k"}),
    }
)


class ExpressClient:
    """Answers StartSyncExecution by key; any other execution API is a test failure."""

    def __init__(self, slow_key: str | None = None) -> None:
        self.started: list[dict[str, Any]] = []
        self.slow_key = slow_key
        self.lock = threading.Lock()

    def describe_state_machine(self, stateMachineArn: str) -> dict[str, Any]:
        return {"stateMachineArn": stateMachineArn, "type": "EXPRESS"}

    def start_sync_execution(self, stateMachineArn: str, name: str, input: str) -> dict[str, Any]:
        key = json.loads(input)["s3_key"]
        with self.lock:
            self.started.append({"name": name, "key": key})
        if key == self.slow_key:
            raise ReadTimeoutError(endpoint_url="https://sync-states.us-east-1.amazonaws.com")
        answer = {
            "executionArn": f"arn:aws:states:us-east-1:123456789012:express:scones-express:{name}:1",
            "stateMachineArn": stateMachineArn,
            "name": name,
            "startDate": START,
            "stopDate": START + datetime.timedelta(milliseconds=250),
            "input": input,
        }
        if key.endswith("unsure.png"):
            return {**answer, "status": "FAILED", "error": "ThresholdConfidenceNotMetError", "cause": LOW}
        body = {"s3_key": key, "inferences": [0.97, 0.03]}
        return {**answer, "status": "SUCCEEDED", "output": json.dumps({"statusCode": 200, "body": body})}


def test_express_executions_run_synchronously_with_the_same_results() -> None:
    sfn = ExpressClient()
    keys = ["data/test/bicycle/sure.png", "data/test/motorcycle/unsure.png"]
    seen: list[str] = []
    sure, unsure = run_executions(sfn, MACHINE, "b", keys, concurrency=2, on_done=lambda r: seen.append(r.key))
    assert sure.outcome is Outcome.SUCCEEDED and sure.predicted_class == "bicycle" and sure.correct
    assert sure.duration_ms == pytest.approx(250)
    assert unsure.outcome is Outcome.LOW_CONFIDENCE and unsure.probabilities == [0.6, 0.4]
    assert sorted(seen) == sorted(keys)
    assert len({start["name"] for start in sfn.started}) == 2


def test_a_call_without_an_answer_and_keys_after_the_deadline_are_timed_out() -> None:
    sfn = ExpressClient(slow_key="data/test/bicycle/slow.png")
    ticks = iter([0.0, 0.0, 100.0])  # the deadline passes before the second key's turn
    slow, late = run_executions(
        sfn, MACHINE, "b", ["data/test/bicycle/slow.png", "data/test/bicycle/late.png"],
        concurrency=1, timeout_seconds=10, clock=lambda: next(ticks),
    )  # fmt: skip
    assert (slow.status, slow.outcome, slow.execution_arn) == (NO_ANSWER, Outcome.TIMED_OUT, "")
    assert (late.status, late.outcome) == (NOT_STARTED, Outcome.TIMED_OUT)
    assert [start["key"] for start in sfn.started] == ["data/test/bicycle/slow.png"]
