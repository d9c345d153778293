"""The state machine definition, validated statically after filling the Terraform placeholders."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

ASL = REPO / "asl" / "classify_image.asl.json"
VALIDATOR = REPO / "node_modules" / ".bin" / "asl-validator"
ARNS = {
    "serialize_image_arn": "arn:aws:lambda:us-east-1:123456789012:function:scones-serialize-image",
    "classify_image_arn": "arn:aws:lambda:us-east-1:123456789012:function:scones-classify-image",
    "filter_low_confidence_arn": "arn:aws:lambda:us-east-1:123456789012:function:scones-filter-low-confidence",
    "sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:scones-notifications",
    "results_bus_arn": "arn:aws:events:us-east-1:123456789012:event-bus/scones-results",
}
# The Lambda service errors AWS recommends retrying ("Handling transient Lambda service exceptions",
# https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html), and throttling.
TRANSIENT = {
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def fill(text: str, values: dict[str, str]) -> str:
    """What Terraform's templatefile does with ${name} (the definition uses no other template syntax)."""
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], text)


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return json.loads(fill(ASL.read_text(), ARNS))


def validate(tmp_path: Path, definition: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    if not VALIDATOR.exists():
        pytest.fail(f"{VALIDATOR} missing: run `make setup` (it runs npm ci)")
    assert shutil.which("node"), "node is needed for asl-validator"
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(definition))
    return subprocess.run([str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, check=False)


def test_placeholders_are_exactly_the_five_arns() -> None:
    assert set(re.findall(r"\$\{(\w+)\}", ASL.read_text())) == set(ARNS)


def test_asl_validator_accepts_the_definition(tmp_path: Path, definition: dict[str, Any]) -> None:
    result = validate(tmp_path, definition)
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_catches_a_dangling_catch_target(tmp_path: Path, definition: dict[str, Any]) -> None:
    # Proves the validator is really looking: moto's parser accepts this broken definition.
    broken = json.loads(json.dumps(definition))
    broken["States"]["FilterLowConfidence"]["Catch"][0]["Next"] = "NoSuchState"
    assert validate(tmp_path, broken).returncode != 0


def test_happy_path_chains_the_three_functions(definition: dict[str, Any]) -> None:
    states = definition["States"]
    # First the input is wrapped as {"body": <input>}: any JSON value becomes an object every path resolves on.
    start = states[definition["StartAt"]]
    assert (start["Type"], start["Parameters"]) == ("Pass", {"body.$": "$"})
    order, name = [], start["Next"]
    while states[name]["Type"] == "Task":
        order.append(states[name]["Parameters"]["FunctionName"])
        name = states[name]["Next"]
    assert order == [ARNS["serialize_image_arn"], ARNS["classify_image_arn"], ARNS["filter_low_confidence_arn"]]
    # Then the top class is named and announced on the results bus before the execution succeeds.
    choice = states[name]
    assert choice["Type"] == "Choice"
    not_two, bicycle = choice["Choices"]
    # Any other number of probabilities is a named, notified failure (a missing path would be States.Runtime).
    assert states[not_two["Next"]]["Parameters"]["Error"] == "InvalidInferencesError"
    assert states[not_two["Next"]]["Next"] == "NotifyFailure"
    assert (bicycle["Variable"], bicycle["NumericGreaterThanEqualsPath"]) == (
        "$.body.inferences[0]",
        "$.body.inferences[1]",
    )
    verdicts = {states[n]["Parameters"]["vehicle"]: states[n] for n in (bicycle["Next"], choice["Default"])}
    assert verdicts["bicycle"]["Parameters"]["confidence.$"] == "$.body.inferences[0]"
    assert verdicts["motorcycle"]["Parameters"]["confidence.$"] == "$.body.inferences[1]"
    (announce_name,) = {verdict["Next"] for verdict in verdicts.values()}
    announce = states[announce_name]
    (entry,) = announce["Parameters"]["Entries"]
    assert (entry["DetailType"], entry["EventBusName"]) == ("VehicleClassified", ARNS["results_bus_arn"])
    assert set(entry["Detail"]) == {
        "bucket.$", "key.$", "vehicle.$", "confidence.$", "probabilities.$", "execution_arn.$"
    }  # fmt: skip
    # The workflow's output stays the record (scones invoke reads it): the announcement's answer is dropped.
    assert announce["ResultPath"] is None
    assert states[announce["Next"]]["Type"] == "Succeed"
    # An announcement that fails is a failure: notified and named.
    assert announce["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}]


def test_no_path_depends_on_the_shape_of_the_execution_input(definition: dict[str, Any]) -> None:
    """On AWS a path that does not resolve fails the execution with States.Runtime, which no Catch sees (no
    notification). Only the wrapping Pass state reads the raw input; the notifications quote it whole."""
    for name, state in definition["States"].items():
        text = json.dumps(state)
        assert "$$.Execution.Input." not in text, f"{name} reads a field of the raw execution input"
    # After SerializeImage, paths read the record the functions return (body.s3_key is always a string there).
    low = definition["States"]["NotifyLowConfidence"]["Parameters"]["Subject.$"]
    assert "$.body.s3_key" in low


def test_every_task_has_a_timeout_and_lambda_tasks_retry_transient_errors(definition: dict[str, Any]) -> None:
    for name, state in definition["States"].items():
        if state["Type"] != "Task":
            continue
        assert 0 < state["TimeoutSeconds"] <= 300, name
        if state["Resource"] == "arn:aws:states:::lambda:invoke":
            (retry,) = state["Retry"]
            assert set(retry["ErrorEquals"]) == TRANSIENT, name
            assert retry["BackoffRate"] > 1 and retry["JitterStrategy"] == "FULL", name
            assert "States.ALL" in {e for c in state["Catch"] for e in c["ErrorEquals"]}, name


REJECTIONS = {"ThresholdConfidenceNotMetError": "low_confidence", "OutOfDistributionError": "out_of_distribution"}


@pytest.mark.parametrize(("error", "event"), REJECTIONS.items())
def test_each_rejection_notifies_in_its_own_words_then_fails_with_its_named_error(
    definition: dict[str, Any], error: str, event: str
) -> None:
    states = definition["States"]
    catches = states["FilterLowConfidence"]["Catch"]
    (caught,) = [c for c in catches if c["ErrorEquals"] == [error]]
    # Matched before States.ALL, which would report the rejection as a failure.
    assert catches.index(caught) < [c["ErrorEquals"] for c in catches].index(["States.ALL"])
    notify = states[caught["Next"]]
    assert notify["Resource"] == "arn:aws:states:::sns:publish"
    assert notify["Parameters"]["TopicArn"] == ARNS["sns_topic_arn"]
    message = notify["Parameters"]["Message"]
    assert message["event"] == event
    assert {"s3_key.$", "inferences.$", "execution.$"} <= set(message)
    assert "s3_key" in notify["Parameters"]["Subject.$"]  # the subject names the image
    # If the detailed subject cannot be published, a plain one still goes out, then the same Fail.
    fallback = states[notify["Catch"][0]["Next"]]
    assert fallback["Resource"] == "arn:aws:states:::sns:publish" and fallback["Next"] == notify["Next"]
    assert fallback["Parameters"]["Message"]["event"] == event
    # Beside the notification, a VehicleNeedsReview event with the reason; it cannot change the named error.
    announce = states[notify["Next"]]
    (entry,) = announce["Parameters"]["Entries"]
    assert (entry["DetailType"], entry["Detail"]["reason"]) == ("VehicleNeedsReview", event)
    assert entry["EventBusName"] == ARNS["results_bus_arn"]
    fail = states[announce["Next"]]
    assert fail == {**fail, "Type": "Fail", "Error": error, "CausePath": "$.error.Cause"}
    assert [catch["Next"] for catch in announce["Catch"]] == [announce["Next"]]
    assert announce["Catch"][0]["ResultPath"] != "$.error"  # the rejection's cause stays


def test_the_rejections_are_worded_apart(definition: dict[str, Any]) -> None:
    states = definition["States"]
    notifies = [states[c["Next"]] for c in states["FilterLowConfidence"]["Catch"] if c["ErrorEquals"][0] in REJECTIONS]
    subjects = {n["Parameters"]["Subject.$"] for n in notifies}
    assert len(subjects) == 2 and any("low-confidence" in s for s in subjects)
    (ood,) = [n for n in notifies if n["Parameters"]["Message"]["event"] == "out_of_distribution"]
    assert ood["Parameters"]["Message"]["ood.$"] == "$.body.ood"


def test_other_errors_notify_and_keep_the_original_error(definition: dict[str, Any]) -> None:
    states = definition["States"]
    notify = states["NotifyFailure"]
    assert notify["Parameters"]["TopicArn"] == ARNS["sns_topic_arn"]
    assert notify["Parameters"]["Message"]["error.$"] == "$.error.Error"
    assert states[notify["Next"]] == {
        **states[notify["Next"]],
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }
