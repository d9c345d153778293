"""Named errors. Lambda reports the exception class name as `errorType`, which is what the
state machine's Catch and Retry match on, so these names are part of the workflow's contract.

Also the helpers every function uses to put an AWS error into those errors' messages (duck-typed
on botocore's ClientError, so this module needs no boto3).
"""

from __future__ import annotations

import json
from typing import Any


class WorkflowError(Exception):
    """Base class of every error this workflow raises on purpose.

    Lambda reports `str(exception)` as the `errorMessage`, which Step Functions passes on as the
    error's `Cause`. An error raised with `details` makes that message a JSON object,
    `{"message": <the prose>, **details}`, so a consumer (the notification, `scones invoke`) reads
    the details as data instead of parsing prose.
    """

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        if not self.details:
            return self.message
        return json.dumps({"message": self.message, **self.details}, default=str, separators=(", ", ": "))


class InvalidEventError(WorkflowError):
    """The event is not a workflow record (missing or mistyped keys, unparseable body)."""


class ImageNotFoundError(WorkflowError):
    """The S3 object (or its bucket) does not exist, or S3 denied reading it.

    S3 answers 403 AccessDenied rather than 404 for a missing key when the caller may not
    s3:ListBucket the bucket, so "missing" and "not readable by this function" look the same.
    """


class ImageReadError(WorkflowError):
    """S3 failed to return the image for another reason (throttling, a service error, the network)."""


class InvalidImageError(WorkflowError):
    """The bytes are not a PNG/JPEG image, not valid base64, or too large for a state payload."""


class EndpointInvocationError(WorkflowError):
    """The SageMaker endpoint could not be invoked or answered with an error."""


class InvalidInferencesError(WorkflowError):
    """Inferences are empty, non-numeric, NaN/infinite or outside [0, 1], or the out-of-distribution
    verdict (`ood`) that goes with them is malformed."""


class ThresholdConfidenceNotMetError(WorkflowError):
    """No class reached the confidence threshold: a person should look at this image."""


class OutOfDistributionError(WorkflowError):
    """The model's own guard says the image is not like its training images (not a vehicle photo, a blank
    or broken-camera frame): whatever the probabilities say, a person should look at it."""


class ConfigurationError(WorkflowError):
    """The function's environment is wrong (e.g. THRESHOLD outside (0, 1])."""


def _aws_error(exc: BaseException) -> dict[str, Any]:
    """The `Error` part of a botocore ClientError's response ({} for anything else)."""
    response: Any = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    return error if isinstance(error, dict) else {}


def aws_error_code(exc: BaseException) -> str:
    """The `Error.Code` of a botocore ClientError ("" for anything else)."""
    return str(_aws_error(exc).get("Code") or "")


def describe_aws_error(exc: BaseException) -> str:
    """`Code: Message` of a botocore ClientError, for an error message; str(exc) for anything else."""
    error = _aws_error(exc)
    return f"{error.get('Code') or '?'}: {error.get('Message') or exc}" if error else str(exc)
