"""Training errors: click prints the message and exits non-zero; tests match the class."""

import click


class TrainingError(click.ClickException):
    """Base class of `scones train` errors."""


class InvalidInstanceTypeError(TrainingError):
    """The instance type is not a SageMaker `ml.*` type."""


class MissingRoleError(TrainingError):
    """No SageMaker execution role ARN was given, or it is not an IAM role ARN."""


class InvalidHyperparameterError(TrainingError):
    """A hyperparameter override is malformed, unknown to the algorithm, or given twice."""


class TrainingJobFailedError(TrainingError):
    """The training job ended Failed or Stopped."""


class TrainingTimeoutError(TrainingError):
    """The job did not finish within --timeout; it keeps running in SageMaker."""


class QuotaExceededError(TrainingError):
    """SageMaker refused the job for lack of instance quota (ResourceLimitExceeded); the message names it."""
