"""How an execution ended, read from describe_execution answers shaped as the real workflow's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scones.workflow import ErrorDetails, Outcome, classify, error_details, probabilities_from_output

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:scones-classify-image"
KEY = "data/test/motorcycle/bike_0042.png"
START = datetime(2026, 12, 3, 8, 0, 0, 120000, tzinfo=UTC)


def described(status: str, **fields: Any) -> dict[str, Any]:
    """describe_execution's answer, with the fields Step Functions always returns."""
    execution: dict[str, Any] = {
        "executionArn": f"{MACHINE.replace(':stateMachine:', ':execution:')}:scones-invoke-1a2b3c4d-00007",
        "stateMachineArn": MACHINE,
        "name": "scones-invoke-1a2b3c4d-00007",
        "status": status,
        "startDate": START,
        "input": json.dumps({"image_data": "", "s3_bucket": "scones-data", "s3_key": KEY}),
        "inputDetails": {"included": True},
    }
    if status != "RUNNING":
        execution["stopDate"] = START + timedelta(milliseconds=37)
    execution.update(fields)
    return execution


def lambda_error(error_type: str, message: str) -> str:
    """The Cause a lambda:invoke task fails with, which the Fail states keep unchanged."""
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": "5f0e8f5e-1c6b-4d53-9a0e-2e6d3a9b8c11",
            "stackTrace": ['  File "/var/task/lambda_common/runtime.py", line 38, in handler\n'],
        }
    )


LOW_MESSAGE = {
    "message": f"top probability 0.8100 < threshold 0.93 for s3://scones-data/{KEY}",
    "confidence": 0.81,
    "threshold": 0.93,
    "inferences": [0.19, 0.81],
    "s3_bucket": "scones-data",
    "s3_key": KEY,
}


def test_succeeded_execution_gives_the_body_inferences_and_the_verdict() -> None:
    output = {
        "statusCode": 200,
        "body": {"image_data": "iVBORw0KGgo=", "s3_bucket": "scones-data", "s3_key": KEY, "inferences": [0.02, 0.98]},
    }
    result = classify(KEY, described("SUCCEEDED", output=json.dumps(output), outputDetails={"included": True}))
    assert result.outcome is Outcome.SUCCEEDED and result.error is None and result.details is None
    assert result.probabilities == [0.02, 0.98]
    assert (result.true_class, result.predicted_class, result.correct) == ("motorcycle", "motorcycle", True)
    assert result.duration_ms == pytest.approx(37)


def test_low_confidence_reads_the_filter_json_from_the_cause() -> None:
    cause = lambda_error("ThresholdConfidenceNotMetError", json.dumps(LOW_MESSAGE))
    result = classify(KEY, described("FAILED", error="ThresholdConfidenceNotMetError", cause=cause))
    assert result.outcome is Outcome.LOW_CONFIDENCE
    assert result.error == "ThresholdConfidenceNotMetError" and result.cause == cause
    assert result.details == ErrorDetails(**LOW_MESSAGE)
    assert result.probabilities == [0.19, 0.81] and result.predicted_class == "motorcycle"
    assert result.correct is None  # rejected predictions are not judged


def test_other_errors_keep_their_prose_and_carry_no_details() -> None:
    cause = lambda_error("ImageNotFoundError", f"s3://scones-data/{KEY} not found (NoSuchKey)")
    result = classify(KEY, described("FAILED", error="ImageNotFoundError", cause=cause))
    assert result.outcome is Outcome.FAILED and result.error == "ImageNotFoundError"
    assert result.details is None and result.probabilities is None and result.predicted_class is None


def test_a_list_shaped_input_fails_as_an_invalid_event() -> None:
    """An execution someone started with a JSON list: the first step refuses it in prose."""
    cause = lambda_error("InvalidEventError", "event must be a JSON object, got list")
    execution = described("FAILED", input=json.dumps([{"s3_key": KEY}]), error="InvalidEventError", cause=cause)
    result = classify(KEY, execution)
    assert result.outcome is Outcome.FAILED and result.error == "InvalidEventError"
    assert result.details is None and result.probabilities is None


def test_a_low_confidence_error_in_the_old_prose_has_no_probabilities() -> None:
    """No guessing numbers out of prose: only the JSON message carries them."""
    cause = lambda_error("ThresholdConfidenceNotMetError", "top probability 0.81 < 0.93 (inferences [0.19, 0.81])")
    result = classify(KEY, described("FAILED", error="ThresholdConfidenceNotMetError", cause=cause))
    assert result.outcome is Outcome.LOW_CONFIDENCE
    assert result.details is None and result.probabilities is None


def test_timeouts_and_aborts() -> None:
    running = classify(KEY, described("RUNNING"))
    assert running.outcome is Outcome.TIMED_OUT and running.duration_ms is None
    timed_out = classify(KEY, described("TIMED_OUT", error="States.Timeout", cause="State machine timed out"))
    assert timed_out.outcome is Outcome.FAILED and timed_out.error == "States.Timeout"
    aborted = classify(KEY, described("ABORTED"))
    assert aborted.outcome is Outcome.FAILED and aborted.error == "ABORTED"


@pytest.mark.parametrize(
    "cause",
    [
        None,
        "",
        "Task timed out after 30.00 seconds",  # not JSON
        json.dumps(["errorMessage"]),  # JSON, not an object
        json.dumps({"errorType": "InvalidImageError"}),  # no message
        lambda_error("InvalidImageError", json.dumps([0.5, 0.5])),  # a JSON message that is not an object
        lambda_error("InvalidImageError", "{not json"),
    ],
)
def test_causes_without_details(cause: str | None) -> None:
    assert error_details(cause) is None


def test_details_ignore_fields_of_the_wrong_type() -> None:
    message = {"message": "low", "confidence": "high", "threshold": True, "inferences": ["a"], "s3_key": 3}
    assert error_details(lambda_error("ThresholdConfidenceNotMetError", json.dumps(message))) == ErrorDetails("low")


def test_probabilities_from_every_output_shape() -> None:
    assert probabilities_from_output('{"statusCode": 200, "body": {"inferences": [0.2, 0.8]}}') == [0.2, 0.8]
    assert probabilities_from_output('{"body": "{\\"inferences\\": [0.3, 0.7]}"}') == [0.3, 0.7]
    assert probabilities_from_output('{"inferences": [1, 0]}') == [1.0, 0.0]
    assert probabilities_from_output("not json") is None
    assert probabilities_from_output('{"body": {"inferences": "x"}}') is None
    assert probabilities_from_output("[0.5, 0.5]") is None
    assert probabilities_from_output(None) is None
