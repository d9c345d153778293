"""The named errors of a release: each is a one-line message and a non-zero exit (click)."""

from __future__ import annotations

import click


class ReleaseError(click.ClickException):
    """Base class: a release stopped; the message says at which stage and why."""


class UnknownEnvironmentError(ReleaseError):
    """terraform/envs/<env> does not exist."""


class ReleaseConfigError(ReleaseError):
    """The environment's release.json is missing, not JSON, or a value is out of range."""


class MissingBackendConfigError(ReleaseError):
    """dev/prod keep state in S3 and need terraform/envs/<env>/backend.hcl."""


class StackNotAppliedError(ReleaseError):
    """The environment's stack (bucket, state machine) is not in Terraform's state yet."""


class CandidateArtifactError(ReleaseError):
    """The candidate's artifact does not exist, or cannot be evaluated by its own serving code."""


class GateRefusedError(ReleaseError):
    """The candidate is below a floor, or worse than the deployed model by more than the tolerance."""


class TerraformCommandError(ReleaseError):
    """terraform init, plan, show, apply or output failed."""


class VerificationError(ReleaseError):
    """After apply, the endpoint does not run what Terraform's state records."""


class SmokeTestError(ReleaseError):
    """An execution of the smoke test failed, or its capture records did not appear."""


class RolledBackError(ReleaseError):
    """A failure after the apply: the previous model was restored and serves again."""


class RollbackFailedError(ReleaseError):
    """A failure after the apply, and restoring the previous model failed too: act by hand."""
