"""The project's real state machine, real Lambda zips and a real model artifact on the emulator."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from scones.bench import BenchError, measure_latency, measure_throughput
from scones.local.notifications import sent_bodies, sent_notifications
from scones.local.server import LocalAWS
from scones.monitor.capture import decode_capture_line
from scones.workflow import Outcome, run_executions
from tests.support.local_fixtures import (
    BUILT_LAMBDAS,
    REPO,
    client,
    create_function,
    deploy_endpoint,
    model_artifact,
    png,
    wait_for_execution,
)
from tests.support.local_metrics import eventually, metric_data_sum

ASL = REPO / "asl" / "classify_image.asl.json"
FUNCTIONS = ("serialize_image", "classify_image", "filter_low_confidence")
FILTER_DIMENSIONS = {"FunctionName": "filter-low-confidence"}
RESULTS_BUS = "workflow-results"

pytestmark = pytest.mark.skipif(
    not ASL.is_file() or not all((BUILT_LAMBDAS / f"{f}.zip").is_file() for f in FUNCTIONS),
    reason="needs asl/classify_image.asl.json and build/lambdas/*.zip (make lambdas)",
)


@pytest.fixture(scope="module")
def workflow() -> Iterator[tuple[LocalAWS, str, str]]:
    with LocalAWS() as aws:
        url = aws.url
        capture = {
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": "s3://workflow-bucket/capture",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        }
        deploy_endpoint(url, "workflow-bucket", "workflow-endpoint", model_artifact(), capture)
        values = {
            f"{name}_arn": create_function(
                url,
                name.replace("_", "-"),
                (BUILT_LAMBDAS / f"{name}.zip").read_bytes(),
                timeout=60,
                environment={"ENDPOINT_NAME": "workflow-endpoint"} if name == "classify_image" else None,
            )
            for name in FUNCTIONS
        }
        sns = client("sns", url)
        values["sns_topic_arn"] = sns.create_topic(Name="workflow-notifications")["TopicArn"]
        values["results_bus_arn"] = client("events", url).create_event_bus(Name=RESULTS_BUS)["EventBusArn"]
        definition = ASL.read_text()
        for name, value in values.items():
            definition = definition.replace("${" + name + "}", value)
        machine = client("stepfunctions", url).create_state_machine(
            name="classify-image", definition=definition, roleArn="arn:aws:iam::123456789012:role/sfn"
        )["stateMachineArn"]
        yield aws, machine, values["sns_topic_arn"]


@pytest.fixture(scope="module")
def results_queue(workflow: tuple[LocalAWS, str, str]) -> str:
    """A queue a rule on the results bus fills with every event the workflow announces."""
    aws = workflow[0]
    events, sqs = client("events", aws.url), client("sqs", aws.url)
    queue = sqs.create_queue(QueueName="workflow-results")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="all-results", EventBusName=RESULTS_BUS, EventPattern='{"source": ["scones.classification"]}')
    events.put_targets(Rule="all-results", EventBusName=RESULTS_BUS, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return str(queue)


def _results_for(url: str, queue: str, key: str) -> list[dict]:
    """The result events about `key` on the queue; the queue is drained (delivery is synchronous, so every
    event of an execution that has ended is already there)."""
    sqs = client("sqs", url)
    found = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            event = json.loads(message["Body"])
            if event["detail"].get("key") == key:
                found.append(event)
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return found


def _execute(url: str, machine: str, key: str) -> dict:
    arn = client("stepfunctions", url).start_execution(
        stateMachineArn=machine, input=json.dumps({"s3_bucket": "workflow-bucket", "s3_key": key, "image_data": ""})
    )["executionArn"]
    return wait_for_execution(url, arn, timeout_seconds=120)


def test_confident_image_succeeds_is_announced_and_is_captured(
    workflow: tuple[LocalAWS, str, str], results_queue: str
) -> None:
    aws, machine, _ = workflow
    key = "data/test/bicycle/red.png"
    client("s3", aws.url).put_object(Bucket="workflow-bucket", Key=key, Body=png((250, 10, 10)))
    execution = _execute(aws.url, machine, key)
    assert execution["status"] == "SUCCEEDED", execution
    body = json.loads(execution["output"])["body"]
    assert body["s3_key"] == key and body["inferences"][0] > 0.93
    (event,) = _results_for(aws.url, results_queue, key)
    assert (event["source"], event["detail-type"]) == ("scones.classification", "VehicleClassified")
    assert event["detail"] == {
        "bucket": "workflow-bucket",
        "key": key,
        "vehicle": "bicycle",
        "confidence": body["inferences"][0],
        "probabilities": body["inferences"],
        "execution_arn": execution["executionArn"],
    }
    listed = client("s3", aws.url).list_objects_v2(Bucket="workflow-bucket", Prefix="capture/workflow-endpoint/")
    assert listed["KeyCount"] >= 1


def test_low_confidence_ends_in_fail_with_one_notification_and_one_review_event(
    workflow: tuple[LocalAWS, str, str], results_queue: str
) -> None:
    aws, machine, topic_arn = workflow
    before = len(sent_notifications(aws.url, topic_arn))
    key = "data/test/motorcycle/grey.png"
    # Equal red and blue: the tiny model says 50/50.
    client("s3", aws.url).put_object(Bucket="workflow-bucket", Key=key, Body=png((128, 0, 128)))
    execution = _execute(aws.url, machine, key)
    assert execution["status"] == "FAILED"
    assert execution["error"] == "ThresholdConfidenceNotMetError"
    (notification,) = sent_bodies(aws.url, topic_arn, since=before)
    assert (notification["event"], notification["execution"]) == ("low_confidence", execution["executionArn"])
    (event,) = _results_for(aws.url, results_queue, key)
    assert event["detail-type"] == "VehicleNeedsReview"
    assert event["detail"] == {
        "bucket": "workflow-bucket",
        "key": key,
        "reason": "low_confidence",
        "probabilities": notification["inferences"],
        "execution_arn": execution["executionArn"],
    }


def test_an_out_of_distribution_image_is_rejected_notified_announced_counted_and_captured(
    workflow: tuple[LocalAWS, str, str], results_queue: str
) -> None:
    """A green frame: the tiny model is sure of a class (softmax says nothing else) but its guard flags it."""
    aws, machine, topic_arn = workflow
    before = len(sent_notifications(aws.url, topic_arn))
    flagged_before = metric_data_sum(aws.url, "SconesUnlimited", "OutOfDistribution", FILTER_DIMENSIONS)
    key = "data/test/bicycle/green.png"
    client("s3", aws.url).put_object(Bucket="workflow-bucket", Key=key, Body=png((10, 250, 10)))
    execution = _execute(aws.url, machine, key)
    assert (execution["status"], execution["error"]) == ("FAILED", "OutOfDistributionError")
    details = json.loads(json.loads(execution["cause"])["errorMessage"])
    assert details["s3_key"] == key and details["score"] < 0.3
    (sent,) = sent_notifications(aws.url, topic_arn)[before:]
    assert sent.subject == "Scones Unlimited: green.png does not look like a bicycle or motorcycle photo"
    notification = sent.body()
    assert notification["event"] == "out_of_distribution" and notification["ood"]["flagged"] is True
    (event,) = _results_for(aws.url, results_queue, key)
    assert (event["detail-type"], event["detail"]["reason"]) == ("VehicleNeedsReview", "out_of_distribution")
    # Counted in its own metric, extracted from the filter's log line as CloudWatch Logs does.
    counted = eventually(
        lambda: metric_data_sum(aws.url, "SconesUnlimited", "OutOfDistribution", FILTER_DIMENSIONS) > flagged_before
    )
    assert counted
    # The emulator passed ClassifyImage's Accept through to the model's output_fn: the capture holds the
    # full answer, base64 (its media type is not one the capture config lists as JSON).
    s3 = client("s3", aws.url)
    listed = s3.list_objects_v2(Bucket="workflow-bucket", Prefix="capture/workflow-endpoint/")["Contents"]
    lines = [s3.get_object(Bucket="workflow-bucket", Key=o["Key"])["Body"].read().decode() for o in listed]
    captured = [decode_capture_line(line, "capture") for line in lines]
    (record,) = [c for c in captured if c.inference_id == key]
    assert record.out_of_distribution is True and record.ood_score is not None and record.ood_score < 0.3


def test_missing_image_fails_with_image_not_found_and_announces_nothing(
    workflow: tuple[LocalAWS, str, str], results_queue: str
) -> None:
    aws, machine, _ = workflow
    execution = _execute(aws.url, machine, "data/test/bicycle/not-there.png")
    assert execution["status"] == "FAILED"
    assert "ImageNotFoundError" in (execution.get("error", "") + execution.get("cause", ""))
    assert _results_for(aws.url, results_queue, "data/test/bicycle/not-there.png") == []


def test_a_result_that_cannot_be_announced_is_a_notified_failure(workflow: tuple[LocalAWS, str, str]) -> None:
    """A bus that is gone: the classification is not silently lost, it fails with EventBridge's error."""
    aws, machine, topic_arn = workflow
    sfn = client("stepfunctions", aws.url)
    definition = sfn.describe_state_machine(stateMachineArn=machine)["definition"]
    bus = f"arn:aws:events:us-east-1:123456789012:event-bus/{RESULTS_BUS}"
    unannounced = sfn.create_state_machine(
        name="classify-image-no-bus",
        definition=definition.replace(bus, bus + "-gone"),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    key = "data/test/bicycle/unannounced.png"
    client("s3", aws.url).put_object(Bucket="workflow-bucket", Key=key, Body=png((250, 10, 10)))
    before = len(sent_notifications(aws.url, topic_arn))
    execution = _execute(aws.url, unannounced, key)
    assert (execution["status"], execution["error"]) == ("FAILED", "EventBridge.ResourceNotFoundException")
    (notification,) = sent_bodies(aws.url, topic_arn, since=before)
    assert (notification["event"], notification["error"]) == ("failure", "EventBridge.ResourceNotFoundException")


def test_bench_measures_latency_and_throughput_from_execution_timestamps(
    workflow: tuple[LocalAWS, str, str],
) -> None:
    aws, machine, _ = workflow
    s3, sfn = client("s3", aws.url), client("stepfunctions", aws.url)
    keys = ["data/test/bicycle/bench-red.png", "data/test/motorcycle/bench-grey.png"]
    s3.put_object(Bucket="workflow-bucket", Key=keys[0], Body=png((250, 10, 10)))
    s3.put_object(Bucket="workflow-bucket", Key=keys[1], Body=png((128, 0, 128)))  # rejected: still a normal run

    durations = measure_latency(sfn, machine, "workflow-bucket", keys, runs=3, warmup=1)
    assert len(durations) == 3 and all(0 < d < 60_000 for d in durations)
    assert measure_throughput(sfn, machine, "workflow-bucket", keys, count=4) > 0


def test_bench_refuses_runs_that_fail_for_any_other_reason(workflow: tuple[LocalAWS, str, str]) -> None:
    aws, machine, _ = workflow
    sfn = client("stepfunctions", aws.url)
    with pytest.raises(BenchError, match="ImageNotFoundError"):
        measure_latency(sfn, machine, "workflow-bucket", ["data/test/bicycle/missing.png"], runs=1, warmup=0)


@pytest.fixture(scope="module")
def express_machine(workflow: tuple[LocalAWS, str, str]) -> str:
    """The same definition as an EXPRESS state machine."""
    aws, machine, _ = workflow
    sfn = client("stepfunctions", aws.url)
    definition = sfn.describe_state_machine(stateMachineArn=machine)["definition"]
    return str(
        sfn.create_state_machine(
            name="classify-image-express",
            definition=definition,
            roleArn="arn:aws:iam::123456789012:role/sfn",
            type="EXPRESS",
        )["stateMachineArn"]
    )


def test_both_machine_types_end_each_image_the_same_way(
    workflow: tuple[LocalAWS, str, str], express_machine: str
) -> None:
    aws, machine, topic_arn = workflow
    s3, sfn = client("s3", aws.url), client("stepfunctions", aws.url)
    keys = ["data/test/bicycle/types-red.png", "data/test/motorcycle/types-grey.png", "data/test/bicycle/gone.png"]
    s3.put_object(Bucket="workflow-bucket", Key=keys[0], Body=png((250, 10, 10)))
    s3.put_object(Bucket="workflow-bucket", Key=keys[1], Body=png((128, 0, 128)))
    before = len(sent_notifications(aws.url, topic_arn))
    ended = {
        arn: run_executions(sfn, arn, "workflow-bucket", keys, concurrency=3, poll_interval=0.05)
        for arn in (machine, express_machine)
    }
    for results in ended.values():
        assert [r.outcome for r in results] == [Outcome.SUCCEEDED, Outcome.LOW_CONFIDENCE, Outcome.FAILED]
        assert results[0].predicted_class == "bicycle" and results[0].duration_ms is not None
        assert results[1].details is not None and results[1].details.s3_key == keys[1]
        assert results[2].error == "ImageNotFoundError"
    express = ended[express_machine]
    assert all(":express:classify-image-express:" in r.execution_arn for r in express)
    assert len(sent_bodies(aws.url, topic_arn, since=before)) == 4  # a rejection and a failure per type
    # What broke `scones invoke` on an EXPRESS machine: AWS does not describe Express executions.
    with pytest.raises(sfn.exceptions.InvalidArn):
        sfn.describe_execution(executionArn=express[0].execution_arn)


def test_bench_measures_an_express_machine(workflow: tuple[LocalAWS, str, str], express_machine: str) -> None:
    aws, _, _ = workflow
    sfn = client("stepfunctions", aws.url)
    key = "data/test/bicycle/express-bench.png"
    client("s3", aws.url).put_object(Bucket="workflow-bucket", Key=key, Body=png((250, 10, 10)))
    durations = measure_latency(sfn, express_machine, "workflow-bucket", [key], runs=2, warmup=1)
    assert len(durations) == 2 and all(0 < d < 60_000 for d in durations)


@pytest.mark.parametrize(
    ("inferences", "ending"),
    [
        ([0.9, 0.1], ("SUCCEEDED", "bicycle", 0.9)),
        ([0.2, 0.8], ("SUCCEEDED", "motorcycle", 0.8)),
        ([0.99], ("FAILED", "InvalidInferencesError", None)),
        ([0.3, 0.3, 0.4], ("FAILED", "InvalidInferencesError", None)),
    ],
)
def test_the_vehicle_is_the_top_class_and_any_other_count_of_classes_is_a_named_failure(
    workflow: tuple[LocalAWS, str, str], inferences: list[float], ending: tuple[str, str, float | None]
) -> None:
    """The states that name the vehicle, run on their own: an endpoint answering one or three probabilities
    must not fail the execution with States.Runtime (no notification), which a missing [1] path would."""
    aws = workflow[0]
    names = ("WhichVehicle", "Bicycle", "Motorcycle", "NotTwoClasses")
    states = {name: json.loads(ASL.read_text())["States"][name] for name in names}
    text = json.dumps(states).replace('"AnnounceClassified"', '"Done"').replace('"NotifyFailure"', '"Failed"')
    definition = {
        "StartAt": "WhichVehicle",
        "States": {
            **json.loads(text),
            "Done": {"Type": "Succeed"},
            "Failed": {"Type": "Fail", "ErrorPath": "$.error.Error"},
        },
    }
    sfn = client("stepfunctions", aws.url)
    machine = sfn.create_state_machine(
        name=f"which-vehicle-{len(inferences)}-{int(inferences[0] * 10)}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"body": {"inferences": inferences}}))[
        "executionArn"
    ]
    execution = wait_for_execution(aws.url, arn)
    if ending[0] == "SUCCEEDED":
        verdict = json.loads(execution["output"])["verdict"]
        assert (execution["status"], verdict["vehicle"], verdict["confidence"]) == ending
    else:
        assert (execution["status"], execution["error"]) == ending[:2]
