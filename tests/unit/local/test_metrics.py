"""CloudWatch metrics on the local emulator: what runs there publishes what AWS publishes.

Names, units and dimensions as AWS documents them: "Types of metrics for Lambda functions"
(https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html), "Monitoring Step
Functions metrics using Amazon CloudWatch"
(https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html), "Monitor Amazon
SageMaker AI with Amazon CloudWatch" (https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html)
and the embedded metric format specification
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from scones.local.server import LocalAWS
from tests.support.local_fixtures import (
    BUILT_LAMBDAS,
    client,
    create_function,
    deploy_endpoint,
    invoke,
    model_artifact,
    png,
)
from tests.support.local_metrics import eventually, metric_data_sum, statistics

OK_HANDLER = """
import time


def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"ok": True}
"""

FAILING_HANDLER = """
def handler(event, context):
    raise ValueError("no")
"""

EMF_HANDLER = """
import json
import time


def handler(event, context):
    print(json.dumps({
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{
                "Namespace": "Test/EMF",
                "Dimensions": [["Service"], ["Service", "Route"]],
                "Metrics": [{"Name": "Latency", "Unit": "Milliseconds"}, {"Name": "Hits"}],
            }],
        },
        "Service": "scones",
        "Route": "/classify",
        "Latency": [10, 30],
        "Hits": 1,
        "RequestId": context.aws_request_id,
    }))
    # Not EMF (a dimension that is not a string): a log line only, as in CloudWatch Logs.
    print(json.dumps({
        "_aws": {"Timestamp": 0, "CloudWatchMetrics": [{"Namespace": "Test/EMF", "Dimensions": [["Bad"]],
                 "Metrics": [{"Name": "Rejected"}]}]},
        "Bad": 3,
        "Rejected": 1,
    }))
    return {}
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


def test_lambda_invocations_errors_and_duration_by_function_name(aws: LocalAWS) -> None:
    create_function(aws.url, "metrics-ok", OK_HANDLER)
    create_function(aws.url, "metrics-failing", FAILING_HANDLER)
    invoke(aws.url, "metrics-ok", {"sleep": 0.2})
    invoke(aws.url, "metrics-ok", {})
    response, _ = invoke(aws.url, "metrics-failing", {})
    assert response["FunctionError"] == "Unhandled"

    ok = {"FunctionName": "metrics-ok"}
    failing = {"FunctionName": "metrics-failing"}
    invocations = statistics(aws.url, "AWS/Lambda", "Invocations", ok)
    assert (invocations["Sum"], invocations["Unit"]) == (2, "Count")
    errors = statistics(aws.url, "AWS/Lambda", "Errors", ok)
    assert (errors["Sum"], errors["SampleCount"]) == (0, 2)  # one 0/1 datapoint per invocation
    assert statistics(aws.url, "AWS/Lambda", "Errors", failing)["Sum"] == 1
    assert statistics(aws.url, "AWS/Lambda", "Invocations", failing)["Sum"] == 1
    duration = statistics(aws.url, "AWS/Lambda", "Duration", ok)
    assert duration["Unit"] == "Milliseconds"
    assert duration["SampleCount"] == 2
    assert 200 <= duration["Maximum"] < 10_000
    assert metric_data_sum(aws.url, "AWS/Lambda", "Invocations", ok) == 2
    assert statistics(aws.url, "AWS/Lambda", "Throttles", ok)["Sum"] == 0


def test_embedded_metric_format_lines_become_metrics(aws: LocalAWS) -> None:
    create_function(aws.url, "metrics-emf", EMF_HANDLER)
    invoke(aws.url, "metrics-emf", {})

    # One metric per dimension set, each with every value of the line (GetMetricData: exact dimensions).
    assert metric_data_sum(aws.url, "Test/EMF", "Latency", {"Service": "scones"}) == 40
    assert metric_data_sum(aws.url, "Test/EMF", "Latency", {"Service": "scones", "Route": "/classify"}) == 40
    latency = statistics(aws.url, "Test/EMF", "Latency", {"Service": "scones", "Route": "/classify"})
    assert (latency["Unit"], latency["SampleCount"], latency["Minimum"], latency["Maximum"]) == (
        "Milliseconds",
        2,
        10,
        30,
    )
    hits = statistics(aws.url, "Test/EMF", "Hits", {"Service": "scones", "Route": "/classify"})
    assert (hits["Sum"], hits["Unit"]) == (1, "None")
    assert statistics(aws.url, "Test/EMF", "Rejected", {})["Sum"] == 0
    listed = client("cloudwatch", aws.url).list_metrics(Namespace="Test/EMF")["Metrics"]
    assert {m["MetricName"] for m in listed} == {"Latency", "Hits"}


def test_the_filter_lambdas_own_emf_lines_become_metrics(aws: LocalAWS) -> None:
    built = BUILT_LAMBDAS / "filter_low_confidence.zip"
    if not built.exists():
        pytest.skip(f"{built} is not built (make lambdas)")
    create_function(aws.url, "filter-emf", built.read_bytes())
    invoke(aws.url, "filter-emf", {"inferences": [0.97, 0.03]})
    invoke(aws.url, "filter-emf", {"inferences": [0.6, 0.4]})

    dimensions = {"FunctionName": "filter-emf"}
    assert statistics(aws.url, "SconesUnlimited", "Predictions", dimensions)["Sum"] == 2
    assert statistics(aws.url, "SconesUnlimited", "LowConfidence", dimensions)["Sum"] == 1


def _state_machine(url: str, name: str, definition: dict) -> str:
    return str(
        client("stepfunctions", url).create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=f"arn:aws:iam::123456789012:role/{name}"
        )["stateMachineArn"]
    )


def _start(url: str, machine: str) -> None:
    client("stepfunctions", url).start_execution(stateMachineArn=machine, input="{}")


def test_step_functions_execution_metrics_by_state_machine_arn(aws: LocalAWS) -> None:
    succeeds = _state_machine(
        aws.url, "m-succeeds", {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}
    )
    fails = _state_machine(aws.url, "m-fails", {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom"}}})
    times_out = _state_machine(
        aws.url,
        "m-times-out",
        {"TimeoutSeconds": 1, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}},
    )
    for machine in (succeeds, succeeds, fails, times_out):
        _start(aws.url, machine)

    def count(machine: str, name: str) -> float:
        return float(statistics(aws.url, "AWS/States", name, {"StateMachineArn": machine})["Sum"])

    assert eventually(lambda: count(succeeds, "ExecutionsSucceeded") == 2)
    assert count(succeeds, "ExecutionsStarted") == 2
    assert count(succeeds, "ExecutionsFailed") == 0
    time = statistics(aws.url, "AWS/States", "ExecutionTime", {"StateMachineArn": succeeds})
    assert time["Unit"] == "Milliseconds"
    assert time["SampleCount"] == 2 and 1000 <= time["Minimum"] < 10_000
    assert eventually(lambda: count(fails, "ExecutionsFailed") == 1)
    assert count(fails, "ExecutionsStarted") == 1
    assert eventually(lambda: count(times_out, "ExecutionsTimedOut") == 1, timeout_seconds=15)
    assert statistics(aws.url, "AWS/States", "ExecutionsStarted", {"StateMachineArn": fails})["Unit"] == "Count"


def test_sagemaker_endpoint_invocation_metrics_by_endpoint_and_variant(aws: LocalAWS) -> None:
    deploy_endpoint(aws.url, "metrics-models", "metrics-endpoint", model_artifact(), capture=None)
    runtime = client("sagemaker-runtime", aws.url)
    for _ in range(2):
        runtime.invoke_endpoint(EndpointName="metrics-endpoint", ContentType="image/png", Body=png((250, 10, 10)))

    dimensions = {"EndpointName": "metrics-endpoint", "VariantName": "AllTraffic"}
    invocations = statistics(aws.url, "AWS/SageMaker", "Invocations", dimensions)
    assert (invocations["Sum"], invocations["Unit"]) == (2, "None")
    for errors in ("Invocation4XXErrors", "Invocation5XXErrors"):
        assert (statistics(aws.url, "AWS/SageMaker", errors, dimensions)["SampleCount"]) == 2
        assert (statistics(aws.url, "AWS/SageMaker", errors, dimensions)["Sum"]) == 0
    latency = statistics(aws.url, "AWS/SageMaker", "ModelLatency", dimensions)
    assert latency["Unit"] == "Microseconds"
    assert latency["SampleCount"] == 2 and 0 < latency["Minimum"] < 60_000_000
    overhead = statistics(aws.url, "AWS/SageMaker", "OverheadLatency", dimensions)
    assert overhead["Unit"] == "Microseconds" and overhead["SampleCount"] == 2
