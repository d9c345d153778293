"""The start/poll loop against moto's Step Functions interpreter and a stand-in state machine."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from scones.workflow import NOT_STARTED, ExecutionResult, Outcome, run_executions, summarize, summary_line
from tests.support.workflow_fixtures import BUCKET, KEYS, standin_workflow


@pytest.fixture
def workflow() -> Iterator[str]:
    with standin_workflow() as arn:
        yield arn


class CountingClient:
    """The Step Functions client, counting calls and the most executions running at once."""

    def __init__(self, arn: str) -> None:
        self.client = boto3.client("stepfunctions", region_name="us-east-1")
        self.arn = arn
        self.calls: dict[str, int] = {}
        self.most_running = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            if name == "start_execution":
                running = self.client.list_executions(stateMachineArn=self.arn, statusFilter="RUNNING")
                self.most_running = max(self.most_running, len(running["executions"]) + 1)
            return method(*args, **kwargs)

        return call


def test_every_outcome_in_the_keys_order(workflow: str) -> None:
    sfn = CountingClient(workflow)
    done: list[ExecutionResult] = []
    results = run_executions(sfn, workflow, BUCKET, KEYS, concurrency=2, poll_interval=0.05, on_done=done.append)
    assert [result.key for result in results] == KEYS
    assert [result.outcome for result in results] == [
        Outcome.SUCCEEDED,
        Outcome.SUCCEEDED,  # waited for the slow one
        Outcome.LOW_CONFIDENCE,
        Outcome.SUCCEEDED,
        Outcome.FAILED,
        Outcome.OUT_OF_DISTRIBUTION,
    ]
    assert results[2].probabilities == [0.61, 0.39] and results[2].details is not None
    # Both record forms: with the verdict, and from before the guard (none); a flagged image's from its error.
    assert results[0].ood is not None and (results[0].ood.score, results[0].ood.flagged) == (1.5, False)
    assert results[3].ood is None
    assert results[5].ood is not None and (results[5].ood.score, results[5].ood.flagged) == (-3.25, True)
    assert results[5].probabilities == [0.99, 0.01] and results[5].details is not None
    assert results[4].error == "InvalidImageError" and results[4].details is None
    assert results[3].correct is False  # the stand-in says bicycle for a motorcycle
    assert sorted(result.key for result in done) == sorted(KEYS)  # told about each one once
    assert sfn.most_running <= 2
    # One describe per execution: waiting is done by listing the running ones, not describing them.
    assert sfn.calls["describe_execution"] == len(KEYS) == sfn.calls["start_execution"]
    summary = summarize(results)
    assert (summary["succeeded"], summary["low_confidence"], summary["failed"], summary["timed_out"]) == (3, 1, 1, 0)
    assert summary["out_of_distribution"] == 1
    assert summary["succeeded_accuracy"] == pytest.approx(2 / 3)
    assert "6 executions: 3 succeeded, 1 out of distribution, 1 low confidence, 1 failed, 0 timed out" in summary_line(
        summary
    )


def test_each_execution_gets_the_seed_input_and_its_own_name(workflow: str) -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    first = run_executions(sfn, workflow, BUCKET, KEYS[:2], name_prefix="scones-api")
    second = run_executions(sfn, workflow, BUCKET, KEYS[:2], name_prefix="scones-api")
    arns = {result.execution_arn for result in first + second}
    assert len(arns) == 4
    for arn in arns:
        execution = sfn.describe_execution(executionArn=arn)
        assert execution["name"].startswith("scones-api-")
        payload = json.loads(execution["input"])
        assert set(payload) == {"image_data", "s3_bucket", "s3_key"}
        assert payload["image_data"] == "" and payload["s3_bucket"] == BUCKET and payload["s3_key"] in KEYS[:2]


def test_the_timeout_reports_running_and_unstarted_executions(workflow: str) -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    ticks = iter(range(0, 10_000, 100))  # every clock reading is 100 s later: the deadline passes at once
    results = run_executions(
        sfn,
        workflow,
        BUCKET,
        ["data/test/bicycle/stuck_bike.png", "data/test/bicycle/bike_001.png"],
        concurrency=1,
        timeout_seconds=50,
        sleep=lambda _: None,
        clock=lambda: next(ticks),
    )
    assert [result.outcome for result in results] == [Outcome.TIMED_OUT, Outcome.TIMED_OUT]
    assert results[0].status == "RUNNING" and results[0].execution_arn
    assert results[1].status == NOT_STARTED and results[1].execution_arn == ""


def test_polling_backs_off_while_nothing_ends(workflow: str) -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 4:  # then let the 1 s Wait state run out
            time.sleep(1.2)

    results = run_executions(
        sfn,
        workflow,
        BUCKET,
        ["data/test/bicycle/slow_bike.png"],
        poll_interval=0.2,
        max_poll_interval=0.4,
        sleep=sleep,
    )
    assert results[0].outcome is Outcome.SUCCEEDED
    assert waits[:4] == pytest.approx([0.3, 0.4, 0.4, 0.4])
