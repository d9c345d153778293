"""`scones invoke` against moto's Step Functions interpreter with a stand-in state machine
(tests/support/workflow_fixtures.py): the table, the JSON summary, the exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from scones.cli import main
from tests.support.workflow_fixtures import BUCKET, KEYS, standin_workflow


@pytest.fixture
def workflow() -> Iterator[str]:
    with standin_workflow() as arn:
        yield arn


def _invoke(arn: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["invoke", "--state-machine-arn", arn, "--bucket", BUCKET, *args])
    return result.exit_code, result.output


def test_every_outcome_in_table_and_summary(workflow: str, tmp_path: Path) -> None:
    out = tmp_path / "invoke.json"
    code, output = _invoke(workflow, "--count", "6", "--seed", "1", "--concurrency", "2", "--json", str(out))
    assert code == 0, output
    summary = json.loads(out.read_text())
    assert summary["executions"] == 6
    assert (summary["succeeded"], summary["low_confidence"], summary["failed"], summary["timed_out"]) == (3, 1, 1, 0)
    assert summary["out_of_distribution"] == 1
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
    odd = rows[KEYS[5]]
    assert odd["outcome"] == "out_of_distribution" and odd["error"] == "OutOfDistributionError"
    assert odd["ood"] == {"score": -3.25, "flagged": True, "checked": True}
    assert rows[KEYS[0]]["ood"] == {"score": 1.5, "flagged": False, "checked": True}
    assert rows[KEYS[3]]["ood"] is None  # a record from before the guard

    assert "bicycle/unsure_bike_003.png" in output and "low confidence" in output
    assert "failed: InvalidImageError" in output
    assert "succeeded (wrong class)" in output
    table = {line.split()[0]: line for line in output.splitlines() if line.startswith(("bicycle/", "motorcycle/"))}
    assert (
        "flagged (-3.25)" in table["bicycle/odd_cat_006.png"]
        and "out of distribution" in table["bicycle/odd_cat_006.png"]
    )
    assert "ok (1.50)" in table["bicycle/bike_001.png"]
    assert "6 executions: 3 succeeded, 1 out of distribution, 1 low confidence, 1 failed, 0 timed out" in output


def test_executions_get_the_seed_input_shape(workflow: str) -> None:
    assert _invoke(workflow, "--count", "2", "--seed", "7")[0] == 0
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    executions = sfn.list_executions(stateMachineArn=workflow)["executions"]
    assert len(executions) == 2 and len({e["name"] for e in executions}) == 2
    for execution in executions:
        payload = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
        assert payload["image_data"] == "" and payload["s3_bucket"] == BUCKET
        assert payload["s3_key"] in KEYS


def test_strict_fails_on_failures(workflow: str) -> None:
    code, output = _invoke(workflow, "--count", "6", "--seed", "1", "--strict")
    assert code == 1 and "1 execution(s) failed" in output


def test_no_images_and_too_many(workflow: str) -> None:
    code, output = _invoke(workflow, "--prefix", "nothing/here/")
    assert code == 1 and f"no images under s3://{BUCKET}/nothing/here/" in output
    code, output = _invoke(workflow, "--count", "9")
    assert code == 1 and "asked for 9 images but only 6" in output


def test_missing_required_options() -> None:
    result = CliRunner().invoke(main, ["invoke", "--bucket", BUCKET])
    assert result.exit_code == 2 and "--state-machine-arn" in result.output
