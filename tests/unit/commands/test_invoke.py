"""`scones invoke` against moto's Step Functions interpreter with a stand-in state machine.

The stand-in routes on the key like the real workflow would end: a confident prediction
succeeds with body.inferences, a low-confidence one fails with ThresholdConfidenceNotMetError
(the Lambda error JSON as cause), a missing image fails with ImageNotFoundError.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from scones.cli import main
from scones.invoke import (
    NoTestImagesError,
    pick_keys,
    probabilities_from_cause,
    probabilities_from_output,
    run_executions,
)

BUCKET = "scones-invoke-test"
LOW_CAUSE = json.dumps(
    {
        "errorMessage": "top probability 0.6100 < threshold 0.93 for s3://b/k (inferences [0.61, 0.39])",
        "errorType": "ThresholdConfidenceNotMetError",
        "stackTrace": [],
    }
)
DEFINITION = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.s3_key", "StringMatches": "*unsure*", "Next": "LowConfidence"},
                {"Variable": "$.s3_key", "StringMatches": "*corrupt*", "Next": "Failed"},
                {"Variable": "$.s3_key", "StringMatches": "*slow*", "Next": "Think"},
                {"Variable": "$.s3_key", "StringMatches": "*stuck*", "Next": "Stuck"},
                {"Variable": "$.s3_key", "StringMatches": "*/motorcycle/*", "Next": "Motorcycle"},
            ],
            "Default": "Bicycle",
        },
        "Think": {"Type": "Wait", "Seconds": 1, "Next": "Bicycle"},
        "Stuck": {"Type": "Wait", "Seconds": 3, "Next": "Bicycle"},
        "Bicycle": {
            "Type": "Pass",
            "Parameters": {
                "statusCode": 200,
                "body": {
                    "s3_bucket.$": "$.s3_bucket",
                    "s3_key.$": "$.s3_key",
                    "image_data": "",
                    "inferences": [0.97, 0.03],
                },
            },
            "End": True,
        },
        "Motorcycle": {
            "Type": "Pass",
            "Parameters": {"statusCode": 200, "body": {"s3_key.$": "$.s3_key", "inferences": [0.96, 0.04]}},
            "End": True,
        },
        "LowConfidence": {"Type": "Fail", "Error": "ThresholdConfidenceNotMetError", "Cause": LOW_CAUSE},
        "Failed": {"Type": "Fail", "Error": "InvalidImageError", "Cause": "not a PNG"},
    },
}
KEYS = [
    "data/test/bicycle/bike_001.png",
    "data/test/bicycle/slow_bike_002.png",
    "data/test/bicycle/unsure_bike_003.png",
    "data/test/motorcycle/moto_004.png",  # the stand-in "predicts" bicycle here: a wrong answer
    "data/test/motorcycle/corrupt_005.png",
]


@pytest.fixture
def workflow() -> Iterator[str]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for key in KEYS:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"png")
        s3.put_object(Bucket=BUCKET, Key="data/test.lst", Body=b"not an image")
        s3.put_object(Bucket=BUCKET, Key="data/train/bicycle/train_only.png", Body=b"png")
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        arn = sfn.create_state_machine(
            name="scones-classify-image",
            definition=json.dumps(DEFINITION),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
        yield arn


def _invoke(arn: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["invoke", "--state-machine-arn", arn, "--bucket", BUCKET, *args])
    return result.exit_code, result.output


def test_every_outcome_in_table_and_summary(workflow: str, tmp_path: Path) -> None:
    out = tmp_path / "invoke.json"
    code, output = _invoke(workflow, "--count", "5", "--seed", "1", "--concurrency", "2", "--json", str(out))
    assert code == 0, output
    summary = json.loads(out.read_text())
    assert summary["executions"] == 5
    assert (summary["succeeded"], summary["low_confidence"], summary["failed"], summary["timed_out"]) == (3, 1, 1, 0)
    assert summary["succeeded_accuracy"] == pytest.approx(2 / 3)

    rows = {row["key"]: row for row in summary["rows"]}
    assert set(rows) == set(KEYS)  # only test images, never train or .lst objects
    assert rows[KEYS[0]]["probabilities"] == [0.97, 0.03] and rows[KEYS[0]]["correct"] is True
    assert rows[KEYS[1]]["outcome"] == "succeeded"  # waited for a still-running execution
    low = rows[KEYS[2]]
    assert low["outcome"] == "low_confidence" and low["error"] == "ThresholdConfidenceNotMetError"
    assert low["probabilities"] == [0.61, 0.39] and low["true_class"] == "bicycle"
    assert rows[KEYS[3]]["true_class"] == "motorcycle" and rows[KEYS[3]]["correct"] is False
    assert rows[KEYS[4]]["outcome"] == "failed" and rows[KEYS[4]]["error"] == "InvalidImageError"

    assert "bicycle/unsure_bike_003.png" in output and "low confidence" in output
    assert "failed: InvalidImageError" in output
    assert "succeeded (wrong class)" in output
    assert "5 executions: 3 succeeded, 1 low confidence, 1 failed, 0 timed out" in output


def test_executions_get_the_seed_input_shape(workflow: str) -> None:
    assert _invoke(workflow, "--count", "2", "--seed", "7")[0] == 0
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    executions = sfn.list_executions(stateMachineArn=workflow)["executions"]
    assert len(executions) == 2 and len({e["name"] for e in executions}) == 2
    for execution in executions:
        payload = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        assert payload["image_data"] == "" and payload["s3_bucket"] == BUCKET
        assert payload["s3_key"] in KEYS


def test_same_seed_same_images() -> None:
    assert pick_keys(KEYS, 3, 5) == pick_keys(list(reversed(KEYS)), 3, 5)
    assert len(set(pick_keys(KEYS, 5, 0))) == 5
    with pytest.raises(NoTestImagesError):
        pick_keys(KEYS, 6, 0)


def test_strict_fails_on_failures(workflow: str) -> None:
    code, output = _invoke(workflow, "--count", "5", "--seed", "1", "--strict")
    assert code == 1 and "1 execution(s) failed" in output


def test_no_images_and_too_many(workflow: str) -> None:
    code, output = _invoke(workflow, "--prefix", "nothing/here/")
    assert code == 1 and "no images under s3://scones-invoke-test/nothing/here/" in output
    code, output = _invoke(workflow, "--count", "9")
    assert code == 1 and "asked for 9 images but only 5" in output


def test_missing_required_options() -> None:
    result = CliRunner().invoke(main, ["invoke", "--bucket", BUCKET])
    assert result.exit_code == 2 and "--state-machine-arn" in result.output


def test_timeout_reports_unfinished_executions(workflow: str) -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    ticks = iter(range(0, 10_000, 100))  # every clock reading is 100 s later: the deadline passes at once
    rows = run_executions(
        sfn,
        workflow,
        BUCKET,
        ["data/test/bicycle/stuck_bike.png", "data/test/bicycle/bike_001.png"],
        concurrency=1,
        timeout_seconds=50,
        sleep=lambda _: None,
        clock=lambda: next(ticks),
    )
    assert [row.outcome for row in rows] == ["timed_out", "timed_out"]
    assert rows[1].status == "NOT_STARTED"


def test_probability_parsing() -> None:
    assert probabilities_from_output('{"statusCode": 200, "body": {"inferences": [0.2, 0.8]}}') == [0.2, 0.8]
    assert probabilities_from_output('{"body": "{\\"inferences\\": [0.3, 0.7]}"}') == [0.3, 0.7]
    assert probabilities_from_output('{"inferences": [1, 0]}') == [1.0, 0.0]
    assert probabilities_from_output("not json") is None
    assert probabilities_from_output('{"body": {"inferences": "x"}}') is None
    assert probabilities_from_cause(LOW_CAUSE) == [0.61, 0.39]
    assert probabilities_from_cause('{"inferences": [0.5, 0.5]}') == [0.5, 0.5]
    assert probabilities_from_cause("no such key") is None
    assert probabilities_from_cause(None) is None
