"""End to end on the local emulator: the deployed alarms, evaluated as CloudWatch evaluates them
(scones.local.alarms, over the metrics the emulator publishes as AWS does), stay OK under normal
traffic, rejections included, and each injected fault (scones.local.faults) flips exactly the
alarms meant for it, each transition arriving as a notification on the stack's topic.

One stack, one apply (the tiny red/blue model, no training). The faults run one after another,
so each step asserts on the alarms that *changed* state: an alarm already in ALARM from an earlier
fault stays there without a new notification, as on CloudWatch. Alarm periods are aligned to the
clock (5 minutes here), and when one ends between two steps, an alarm whose metric has no breaching
datapoint in the new period goes back to OK (FILL turns "no data" into 0): that is CloudWatch's
behaviour too, so a step allows transitions to OK, never an unexpected one to ALARM.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from scones.local.alarms import ALARM, OK, AlarmEvaluation, evaluate_remote, in_alarm
from scones.local.fault_api import FaultClient
from scones.local.faults import EndpointError, EndpointLatency, Fault, LambdaError, LambdaThrottle, S3ReadDenied
from scones.local.notifications import sent_bodies
from scones.workflow import Outcome, run_executions
from tests.support.e2e_stacks import Stack, tiny_stack
from tests.support.local_fixtures import model_artifact, png

pytestmark = pytest.mark.e2e
pytest.importorskip("torch")
PREFIX = "scones-local-"  # the local root's name_prefix
RED, BLUE, PURPLE = (250, 10, 10), (10, 10, 250), (128, 0, 128)  # bicycle, motorcycle, 50/50 (rejected)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with tiny_stack(tmp_path_factory.mktemp("alarms"), model_artifact()) as deployed:
        s3 = deployed.client("s3")
        for name, color in (("red", RED), ("blue", BLUE), ("purple", PURPLE)):
            s3.put_object(Bucket=deployed.bucket, Key=f"data/test/{name}.png", Body=png(color))
        yield deployed


def _run(stack: Stack, *names: str) -> list[Outcome]:
    keys = [f"data/test/{name}.png" for name in names]
    sfn = stack.client("stepfunctions")
    results = run_executions(
        sfn, stack.deployment.outputs["state_machine_arn"], stack.bucket, keys, timeout_seconds=120
    )
    return [result.outcome for result in results]


def _evaluate(stack: Stack, at: datetime | None = None) -> dict[str, AlarmEvaluation]:
    return {e.name.removeprefix(PREFIX): e for e in evaluate_remote(stack.deployment.config.url, at)}


def _alarm_notifications(stack: Stack, since: list[int]) -> list[tuple[str, str]]:
    """(alarm, new state) of each alarm notification the stack's topic sent since the last call
    (`since` holds how many notifications were read before)."""
    bodies = sent_bodies(stack.deployment.url, stack.deployment.outputs["sns_topic_arn"], since=since[0])
    since[0] += len(bodies)
    return sorted((b["AlarmName"].removeprefix(PREFIX), b["NewStateValue"]) for b in bodies if "AlarmName" in b)


def _function(stack: Stack, key: str) -> str:
    return str(stack.deployment.outputs["lambda_function_arns"][key]).rsplit(":", 1)[-1]


def _changed(evaluations: dict[str, AlarmEvaluation]) -> dict[str, str]:
    return {name: e.new_state for name, e in evaluations.items() if e.changed}


def test_normal_traffic_leaves_every_alarm_ok_and_each_fault_flips_its_own(stack: Stack) -> None:
    url = stack.deployment.config.url
    faults = FaultClient(url)
    endpoint = str(stack.deployment.outputs["endpoint_name"])
    classify, filter_ = (_function(stack, key) for key in ("classify_image", "filter_low_confidence"))
    read = [0]  # notifications of the stack's topic read so far

    # Normal traffic: confident images and rejections. The filter raises for every rejection and
    # Lambda counts that in Errors; its alarm subtracts the rejections (issue 16, defect 1).
    outcomes = _run(stack, "red", "blue", "purple", "red", "purple", "blue")
    assert outcomes.count(Outcome.LOW_CONFIDENCE) == 2 and outcomes.count(Outcome.SUCCEEDED) == 4
    evaluations = _evaluate(stack)
    assert len(evaluations) == 11, sorted(evaluations)
    assert {name: e.new_state for name, e in evaluations.items() if e.new_state != OK} == {}
    assert all(e.error is None for e in evaluations.values())
    # INSUFFICIENT_DATA -> OK is a transition, and the alarms' ok_actions are the topic.
    assert _alarm_notifications(stack, read) == sorted((name, OK) for name in evaluations)

    steps: list[tuple[Fault, tuple[str, ...], set[str]]] = [
        (EndpointLatency(endpoint, seconds=1.0), ("red", "blue"), {"endpoint-latency-p95"}),
        (S3ReadDenied(stack.bucket, "data/test/"), ("red",), {"serialize-image-errors", "workflow-failures"}),
        (EndpointError(endpoint, status=500), ("red",), {"endpoint-5xx", "classify-image-errors"}),
        (LambdaError(filter_), ("red",), {"filter-low-confidence-errors"}),
        (LambdaThrottle(classify), ("red",), {"classify-image-throttles"}),
    ]
    for fault, images, meant in steps:
        faults.add(fault)
        try:
            _run(stack, *images)
        finally:
            faults.clear()
        changed = _changed(_evaluate(stack))
        assert {name for name, state in changed.items() if state == ALARM} == meant, f"{fault.kind}: {changed}"
        assert set(changed.values()) <= {ALARM, OK}, f"{fault.kind}: {changed}"
        assert _alarm_notifications(stack, read) == sorted(changed.items()), fault.kind

    alarming = in_alarm(evaluate_remote(url))
    assert alarming and set(alarming) <= {PREFIX + name for _, _, meant in steps for name in meant}

    # Once the faulty periods are behind it (treat_missing_data = notBreaching), every alarm is OK again.
    later = _evaluate(stack, datetime.now(UTC) + timedelta(hours=1))
    assert {name: e.new_state for name, e in later.items() if e.new_state != OK} == {}
    assert _changed(later) == {name.removeprefix(PREFIX): OK for name in alarming}
