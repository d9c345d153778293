"""Named errors. Lambda reports the exception class name as `errorType`, which is what the
state machine's Catch and Retry match on, so these names are part of the workflow's contract."""


class WorkflowError(Exception):
    """Base class of every error this workflow raises on purpose."""


class InvalidEventError(WorkflowError):
    """The event is not a workflow record (missing or mistyped keys, unparseable body)."""


class ImageNotFoundError(WorkflowError):
    """The S3 object (or its bucket) does not exist."""


class InvalidImageError(WorkflowError):
    """The bytes are not a PNG/JPEG image, not valid base64, or too large for a state payload."""


class EndpointInvocationError(WorkflowError):
    """The SageMaker endpoint could not be invoked or answered with an error."""


class InvalidInferencesError(WorkflowError):
    """Inferences are empty, non-numeric, NaN/infinite or outside [0, 1]."""


class ThresholdConfidenceNotMetError(WorkflowError):
    """No class reached the confidence threshold: a person should look at this image."""


class ConfigurationError(WorkflowError):
    """The function's environment is wrong (e.g. THRESHOLD outside (0, 1])."""
