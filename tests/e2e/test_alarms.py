"""End to end on the local emulator: the deployed alarms, evaluated as CloudWatch evaluates them
(scones.local.alarms, over the metrics the emulator publishes as AWS does), stay OK under normal
traffic, rejections included, and each injected fault (scones.local.faults) flips exactly the
alarms meant for it, each transition arriving as a notification on the stack's topic.

One stack, one apply (the tiny red/blue model, no training; its guard flags a green frame as out of
distribution, and the stack judges the out-of-distribution share from 3 predictions on). First an
out-of-distribution burst, sent as a batch, flips the share alarm and nothing else; then the faults run one
after another, so each step asserts on the alarms that *changed* state: an alarm already in ALARM from an earlier
fault stays there without a new notification, as on CloudWatch. Alarm periods are aligned to the
clock (5 minutes here), and when one ends between two steps, an alarm whose metric has no breaching
datapoint in the new period goes back to OK (FILL turns "no data" into 0): that is CloudWatch's
behaviour too, so a step allows transitions to OK, never an unexpected one to ALARM.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.config import Config

from scones.local.alarms import ALARM, EXTRA_PERIODS, OK, AlarmEvaluation, evaluate_remote, in_alarm
from scones.local.fault_api import FaultClient
from scones.local.faults import EndpointError, EndpointLatency, Fault, LambdaError, LambdaThrottle, S3ReadDenied
from scones.local.notifications import sent_bodies, sent_notifications
from scones.workflow import Outcome, run_executions
from tests.support.e2e_stacks import Stack, local_env_copy, tiny_stack
from tests.support.local_fixtures import model_artifact, png
from tests.support.local_metrics import eventually, metric_data_sum

pytestmark = pytest.mark.e2e
pytest.importorskip("torch")
PREFIX = "scones-local-"  # the local root's name_prefix
RED, BLUE, PURPLE = (250, 10, 10), (10, 10, 250), (128, 0, 128)  # bicycle, motorcycle, 50/50 (rejected)
GREEN = (10, 250, 10)  # the tiny model is sure of a class, but its guard flags it out of distribution
OOD_MIN_PREDICTIONS = 3


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    out = tmp_path_factory.mktemp("alarms")
    env_dir = local_env_copy(out / "checkout")
    # Judged from a few predictions, so a short burst can flip it (the default waits for 20).
    (env_dir / "alarm_thresholds_override.tf").write_text(
        'module "stack" {\n'
        f"  alarm_thresholds = {{ out_of_distribution_min_predictions = {OOD_MIN_PREDICTIONS} }}\n"
        "}\n"
    )
    with tiny_stack(out / "stack", model_artifact(), env_dir=env_dir) as deployed:
        s3 = deployed.client("s3")
        for name, color in (("red", RED), ("blue", BLUE), ("purple", PURPLE), ("green", GREEN)):
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

    # Normal traffic: confident images and rejections, one of them out of distribution. The filter raises
    # for every rejection and Lambda counts that in Errors; its alarm and the workflow-failures alarm
    # subtract both kinds of rejection (issue 16, defect 1; issue 18).
    outcomes = _run(stack, "red", "blue", "purple", "red", "purple", "blue", "green")
    assert outcomes.count(Outcome.LOW_CONFIDENCE) == 2 and outcomes.count(Outcome.SUCCEEDED) == 4
    assert outcomes.count(Outcome.OUT_OF_DISTRIBUTION) == 1
    sent = sent_notifications(stack.deployment.url, stack.deployment.outputs["sns_topic_arn"])[read[0] :]
    events = sorted(n.body()["event"] for n in sent)
    assert events == ["low_confidence", "low_confidence", "out_of_distribution"]  # each rejection once
    (ood,) = [n for n in sent if n.body()["event"] == "out_of_distribution"]
    assert ood.subject == "Scones Unlimited: green.png does not look like a bicycle or motorcycle photo"
    flagged = eventually(
        lambda: metric_data_sum(url, "SconesUnlimited", "OutOfDistribution", {"FunctionName": filter_})
    )
    assert flagged == 1
    evaluations = _evaluate(stack)
    # the starter's, the API function's and the batch chunk function's errors and throttles alarms too, and the
    # API's three
    assert len(evaluations) == 21, sorted(evaluations)
    assert {name: e.new_state for name, e in evaluations.items() if e.new_state != OK} == {}
    assert all(e.error is None for e in evaluations.values())
    # INSUFFICIENT_DATA -> OK is a transition, and the alarms' ok_actions are the topic.
    assert _alarm_notifications(stack, read) == sorted((name, OK) for name in evaluations)

    # A camera gone wrong: a burst of frames that are not vehicle photos, sent as a batch (the chunked variant:
    # classify_chunk judges them, not the filter). Only the share alarm notices, from the two functions'
    # counts added up (the filter alone saw 1 flagged image in 7, under the 20 % share); the rejections are
    # neither Lambda errors nor workflow failures.
    s3 = stack.client("s3")
    for n in range(5):
        s3.put_object(Bucket=stack.bucket, Key=f"data/burst/green-{n}.png", Body=png(GREEN))
    result = stack.batch("data/burst/")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["total"], summary["out_of_distribution"]) == ("SUCCEEDED", 5, 5), summary
    chunk = _function(stack, "classify_chunk")
    assert (
        eventually(lambda: metric_data_sum(url, "SconesUnlimited", "OutOfDistribution", {"FunctionName": chunk})) == 5
    )
    changed = _changed(_evaluate(stack))
    assert {name for name, state in changed.items() if state == ALARM} == {"out-of-distribution-share"}, changed
    assert set(changed.values()) <= {ALARM, OK}, changed
    assert _alarm_notifications(stack, read) == sorted(changed.items())

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
    expected = {PREFIX + name for _, _, meant in steps for name in meant} | {PREFIX + "out-of-distribution-share"}
    assert alarming and set(alarming) <= expected

    # Once the faulty periods are out of every alarm's evaluation range (treat_missing_data = notBreaching),
    # every alarm is OK again. The range reaches back EXTRA_PERIODS periods beyond the evaluated one (as
    # CloudWatch fetches more datapoints than it evaluates), and the out-of-distribution share's period is an
    # hour: its burst is the latest real datapoint for three hours.
    later = _evaluate(stack, datetime.now(UTC) + timedelta(hours=1 + EXTRA_PERIODS + 1))
    assert {name: e.new_state for name, e in later.items() if e.new_state != OK} == {}
    assert _changed(later) == {name.removeprefix(PREFIX): OK for name in alarming}


# Metrics a dashboard widget draws that this workload cannot make the stack publish, each with why. The test
# requires them absent (a workload that starts publishing one must take it off this list) and the rest present.
NOT_PUBLISHED_BY_THE_WORKLOAD = {
    # Step Functions counts ExecutionsTimedOut only when an execution times out ("Execution metrics",
    # https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html), and no execution here
    # runs for the workflow's timeout. The workflow-timeouts alarm watches the same metric (checked below).
    ("AWS/States", "ExecutionsTimedOut"),
}


def _drawn_metrics(body: dict[str, Any]) -> set[tuple[str, str, frozenset[tuple[str, str]]]]:
    """(namespace, name, dimensions) of every metric a metric widget draws; math expressions left out (their
    inputs are metrics of the same widget)."""
    drawn = set()
    for widget in body["widgets"]:
        for entry in widget["properties"].get("metrics", []) if widget["type"] == "metric" else []:
            fields = [field for field in entry if not isinstance(field, dict)]
            if fields:
                drawn.add((fields[0], fields[1], frozenset(zip(fields[2::2], fields[3::2], strict=True))))
    return drawn


def test_every_metric_the_dashboard_draws_is_one_the_stack_publishes(stack: Stack) -> None:
    """The dashboard is checked against what the emulator publishes (ListMetrics), as CloudWatch would draw
    it: a metric renamed in the stack or in the emulator breaks this test, not silently the dashboard."""
    # No retries: the SDK retries a throttled call, which the one-time fault would then let through.
    lambda_ = stack.deployment.session().client("lambda", config=Config(retries={"total_max_attempts": 1}))
    faults = FaultClient(stack.deployment.config.url)
    functions = {key: _function(stack, key) for key in stack.deployment.outputs["lambda_function_arns"]}
    # A confident image, a low-confidence one and one out of distribution: executions that succeed and fail,
    # each kind of rejection, the endpoint's invocations and latency.
    _run(stack, "red", "purple", "green")
    # A request to the classification API: its Count, errors and latency.
    assert stack.classify(f"s3://{stack.bucket}/data/test/red.png").accepted
    # The starter is not invoked in the local root (ingestion off): an empty batch of queue messages.
    lambda_.invoke(FunctionName=functions["start_classification"], Payload=json.dumps({"Records": []}))
    # The batch's chunk function: a chunk of an image (its judgement's metrics) and a missing object (its result
    # an error name, the call a success).
    items = [{"s3_key": "data/test/red.png"}, {"s3_key": "data/test/missing.png"}]
    chunk = {"Items": items, "BatchInput": {"s3_bucket": stack.bucket}}
    answer = lambda_.invoke(FunctionName=functions["classify_chunk"], Payload=json.dumps(chunk))
    results = json.loads(answer["Payload"].read())["results"]
    assert (results[0]["verdict"], results[1]["error"]) == ("classified", "ImageNotFoundError")
    # Lambda counts Throttles only for a throttled call: one per function.
    for name in functions.values():
        faults.add(LambdaThrottle(name), count=1)
        with pytest.raises(lambda_.exceptions.TooManyRequestsException):
            lambda_.invoke(FunctionName=name, Payload=b"{}")
    faults.clear()

    cloudwatch = stack.client("cloudwatch")
    name = "scones-local"
    assert stack.deployment.outputs["dashboard_url"].endswith(f"#dashboards:name={name}")
    body = json.loads(cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"])
    drawn = _drawn_metrics(body)
    assert {ns for ns, _, _ in drawn} == {
        "AWS/States", "AWS/SageMaker", "AWS/Lambda", "SconesUnlimited", "AWS/ApiGateway"
    }  # fmt: skip
    published = {
        (m["Namespace"], m["MetricName"], frozenset((d["Name"], d["Value"]) for d in m.get("Dimensions", [])))
        for page in cloudwatch.get_paginator("list_metrics").paginate()
        for m in page["Metrics"]
    }
    expected_absent = {m for m in drawn if m[:2] in NOT_PUBLISHED_BY_THE_WORKLOAD}
    assert sorted(drawn - published - expected_absent) == []
    assert expected_absent and not expected_absent & published
    timeouts = cloudwatch.describe_alarms(AlarmNames=[f"{PREFIX}workflow-timeouts"])["MetricAlarms"][0]
    assert {
        (
            timeouts["Namespace"],
            timeouts["MetricName"],
            frozenset((d["Name"], d["Value"]) for d in timeouts["Dimensions"]),
        )
    } == expected_absent

    # The alarm status widget lists every alarm the stack has.
    (alarms,) = [w["properties"]["alarms"] for w in body["widgets"] if w["type"] == "alarm"]
    assert sorted(alarms) == sorted(a["AlarmArn"] for a in cloudwatch.describe_alarms()["MetricAlarms"])
