"""The model registry: each released candidate is a version of the stack's SageMaker model package group.

Terraform manages the group (`<name_prefix>-models`, terraform/modules/registry); this module registers,
reads and approves its versions, and the endpoint deploys one with `model_package_arn`.

- A version's container is the candidate's: image, artifact (`ModelDataUrl`) and environment.
- `CustomerMetadataProperties` record the artifact's SHA-256 (`sha256`: registering the same artifact again
  returns the version it already has), where it came from (`source`) and the evaluation figures
  (`metric.<name>`, each JSON-encoded). SageMaker's `ModelMetrics` would need each report as a JSON object in S3
  in its model-quality format (`MetricsSource` is an `S3Uri`, "ModelMetrics",
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ModelMetrics.html): the figures live in the
  package itself instead, readable by whoever may describe it, within the metadata's limits (50 entries, keys
  of at most 128 characters and values of at most 256, "CreateModelPackage",
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModelPackage.html).
- Approval is the caller's: `Approved` (dev, local) or `PendingManualApproval` (prod, approved by
  `scones approve`); SageMaker deploys only an `Approved` version (ModelApprovalStatus, ibid.). A version
  found wanting is `Rejected` with the reason as its `ApprovalDescription` (`scones registry reject`); a
  release refuses it, and re-registering its artifact finds it rejected rather than registering it anew.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import click
from botocore.exceptions import ClientError

from scones.aws import InvalidS3UriError, parse_s3_uri

APPROVED = "Approved"
PENDING = "PendingManualApproval"
REJECTED = "Rejected"
APPROVAL_STATUSES = (APPROVED, PENDING, REJECTED)
SHA256_KEY = "sha256"
SOURCE_KEY = "source"
METRIC_PREFIX = "metric."
# CustomerMetadataProperties' limits (CreateModelPackage).
_MAX_PROPERTIES = 50
_MAX_KEY = 128
_MAX_VALUE = 256
_PROPERTY_KEY = re.compile(r"^[\w\s.:/=+\-@]*$")
# A versioned model package ARN: model-package/<group>/<version> (SageMaker writes the group in lower case).
VERSION_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/(?P<group>[a-z0-9](?:-*[a-z0-9]){0,62})/(?P<version>\d+)$"
)
# What the endpoint takes and answers (docs/contracts.md); SageMaker requires both lists in a version's
# InferenceSpecification.
_CONTENT_TYPES = ["image/png", "image/jpeg"]
_RESPONSE_TYPES = ["application/json", "application/vnd.scones.prediction+json"]
_CHUNK = 1 << 20


class RegistryError(click.ClickException):
    """Base class of the model registry's errors."""


class VersionNotApprovedError(RegistryError):
    """The version is not Approved: SageMaker would not deploy it."""


class VersionRejectedError(VersionNotApprovedError):
    """The version was Rejected: no release deploys it."""


class VersionFromAnotherGroupError(RegistryError):
    """The version belongs to another model package group than the one expected."""


class ModelVersionNotFoundError(RegistryError):
    """No such model package version."""


class InvalidVersionArnError(RegistryError):
    """Not a versioned model package ARN."""


class ModelGroupNotFoundError(RegistryError):
    """The model package group does not exist (the stack is not applied?)."""


class ArtifactNotFoundError(RegistryError):
    """The model artifact is not in S3."""


class InvalidCandidateError(RegistryError):
    """What register was given cannot be registered (approval, artifact URL, metrics beyond SageMaker's limits)."""


@dataclass(frozen=True)
class ModelVersion:
    arn: str  # versioned model package ARN
    group: str
    version: int
    approval: str  # "Approved" | "PendingManualApproval" | "Rejected"
    model_data_url: str
    image_uri: str
    sha256: str  # of the artifact tarball, from CustomerMetadataProperties["sha256"]
    metrics: dict[str, Any]  # the evaluation figures registered with it (may be {})
    source: str  # where the candidate came from (training job, local run, --model-data-url)
    approval_description: str = ""  # why it was approved or rejected (ApprovalDescription)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", exc))


def artifact_sha256(session: Any, model_data_url: str) -> str:
    """SHA-256 of the artifact, streamed from S3 (never held whole in memory)."""
    try:
        bucket, key = parse_s3_uri(model_data_url)
    except InvalidS3UriError as exc:
        raise InvalidCandidateError(f"model_data_url: {exc}") from None
    try:
        body = session.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as exc:
        if _code(exc) in {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}:
            raise ArtifactNotFoundError(f"{model_data_url} does not exist") from None
        raise
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(_CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def _require_ecr_image(image_uri: str) -> None:
    from scones.tfvars import TfvarsError, validate_image_uri

    try:
        validate_image_uri(image_uri or "")
    except TfvarsError as exc:
        raise InvalidCandidateError(f"image_uri: {exc.message}") from None


def _metric_properties(metrics: dict[str, Any]) -> dict[str, str]:
    properties = {}
    for name, value in sorted(metrics.items()):
        key, encoded = f"{METRIC_PREFIX}{name}", json.dumps(value, sort_keys=True)
        if len(key) > _MAX_KEY or not _PROPERTY_KEY.match(key) or not 1 <= len(encoded) <= _MAX_VALUE:
            raise InvalidCandidateError(
                f"metric {name!r} cannot be registered: names of at most {_MAX_KEY - len(METRIC_PREFIX)} letters, "
                f"digits, spaces or _.:/=+-@ and values of at most {_MAX_VALUE} characters as JSON"
            )
        properties[key] = encoded
    if len(properties) + 2 > _MAX_PROPERTIES:
        raise InvalidCandidateError(f"{len(properties)} metrics: a version holds at most {_MAX_PROPERTIES - 2}")
    return properties


def _from_description(described: dict[str, Any]) -> ModelVersion:
    properties = described.get("CustomerMetadataProperties") or {}
    (container, *_) = described.get("InferenceSpecification", {}).get("Containers") or [{}]
    return ModelVersion(
        arn=described["ModelPackageArn"],
        group=described.get("ModelPackageGroupName", ""),
        version=int(described.get("ModelPackageVersion", 0)),
        approval=described.get("ModelApprovalStatus", PENDING),
        model_data_url=container.get("ModelDataUrl", ""),
        image_uri=container.get("Image", ""),
        sha256=properties.get(SHA256_KEY, ""),
        metrics={
            key.removeprefix(METRIC_PREFIX): json.loads(value)
            for key, value in sorted(properties.items())
            if key.startswith(METRIC_PREFIX)
        },
        source=properties.get(SOURCE_KEY, ""),
        approval_description=described.get("ApprovalDescription") or "",
    )


def _parse_arn(arn: str) -> re.Match[str]:
    found = VERSION_ARN.match(arn or "")
    if found is None:
        raise InvalidVersionArnError(
            f"{arn!r} is not a model version ARN (arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)"
        )
    return found


def describe(session: Any, arn: str, *, group: str | None = None) -> ModelVersion:
    """The version `arn`; with `group`, VersionFromAnotherGroupError unless it is one of that group's."""
    arn_group = _parse_arn(arn)["group"]
    if group is not None and arn_group != group.lower():
        raise VersionFromAnotherGroupError(f"{arn} is a version of {arn_group}, not of {group}")
    try:
        described = session.client("sagemaker").describe_model_package(ModelPackageName=arn)
    except ClientError as exc:
        if _code(exc) == "ValidationException":
            raise ModelVersionNotFoundError(f"{arn}: {_message(exc)}") from None
        raise
    return _from_description(described)


def version_arns(session: Any, group: str, approval: str | None = None) -> list[str]:
    """The ARNs of the group's versions (with that approval status, if given), newest first."""
    kwargs: dict[str, Any] = {"ModelPackageGroupName": group, "SortBy": "CreationTime", "SortOrder": "Descending"}
    if approval is not None:
        kwargs["ModelApprovalStatus"] = approval
    pages = session.client("sagemaker").get_paginator("list_model_packages").paginate(**kwargs)
    summaries = [s for page in pages for s in page.get("ModelPackageSummaryList", [])]
    # Versions by number, not by timestamp: two registered within the clock's resolution keep their order.
    summaries.sort(key=lambda s: int(s.get("ModelPackageVersion", 0)), reverse=True)
    return [s["ModelPackageArn"] for s in summaries]


def require_group(session: Any, group: str) -> None:
    """ModelGroupNotFoundError unless the model package group exists."""
    try:
        session.client("sagemaker").describe_model_package_group(ModelPackageGroupName=group)
    except ClientError as exc:
        if _code(exc) == "ValidationException":
            raise ModelGroupNotFoundError(
                f"model package group {group} does not exist: apply the environment's stack first ({_message(exc)})"
            ) from None
        raise


def register(
    session: Any,
    *,
    group: str,
    model_data_url: str,
    image_uri: str,
    environment: dict[str, str],
    metrics: dict[str, Any],
    source: str,
    approval: str,
) -> tuple[ModelVersion, bool]:
    """Register the artifact as a new version of `group`; (version, True), or (the version that already has this
    artifact, False), unchanged."""
    if approval not in APPROVAL_STATUSES:
        raise InvalidCandidateError(f"approval {approval!r} must be one of {', '.join(APPROVAL_STATUSES)}")
    if not model_data_url.endswith(".tar.gz"):
        raise InvalidCandidateError(f"model_data_url {model_data_url!r} must point at a .tar.gz model artifact")
    _require_ecr_image(image_uri)
    properties = _metric_properties(metrics)
    source_value = (source or "unknown")[:_MAX_VALUE]
    require_group(session, group)
    sha256 = artifact_sha256(session, model_data_url)
    for arn in version_arns(session, group):
        existing = describe(session, arn, group=group)
        if existing.sha256 == sha256:
            return existing, False
    created = session.client("sagemaker").create_model_package(
        ModelPackageGroupName=group,
        ModelPackageDescription=f"Released from {source_value}"[:1024],
        InferenceSpecification={
            "Containers": [{"Image": image_uri, "ModelDataUrl": model_data_url, "Environment": dict(environment)}],
            "SupportedContentTypes": _CONTENT_TYPES,
            "SupportedResponseMIMETypes": _RESPONSE_TYPES,
        },
        ModelApprovalStatus=approval,
        CustomerMetadataProperties={SHA256_KEY: sha256, SOURCE_KEY: source_value, **properties},
    )
    return describe(session, created["ModelPackageArn"], group=group), True


def _set_approval(session: Any, arn: str, status: str, group: str | None, description: str) -> ModelVersion:
    describe(session, arn, group=group)  # refuses an ARN of another group or of no version before changing anything
    kwargs: dict[str, Any] = {"ModelPackageArn": arn, "ModelApprovalStatus": status}
    if description:
        kwargs["ApprovalDescription"] = description
    session.client("sagemaker").update_model_package(**kwargs)
    return describe(session, arn, group=group)


def approve(session: Any, arn: str, *, group: str | None = None, description: str = "") -> ModelVersion:
    """Mark the version Approved (with `description` as the approval's reason), so it can be deployed."""
    return _set_approval(session, arn, APPROVED, group, description)


def reject(session: Any, arn: str, *, description: str, group: str | None = None) -> ModelVersion:
    """Mark the version Rejected with `description` as the reason (ApprovalDescription: at most 1024 characters,
    UpdateModelPackage, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateModelPackage.html)."""
    if not description.strip() or len(description) > 1024:
        raise InvalidCandidateError("a rejection needs its reason: a description of 1 to 1024 characters")
    return _set_approval(session, arn, REJECTED, group, description)


def refuse_rejected(version: ModelVersion) -> ModelVersion:
    """The version, unless it was Rejected (VersionRejectedError with the reason)."""
    if version.approval == REJECTED:
        raise VersionRejectedError(
            f"{version.arn} was Rejected ({version.approval_description or 'no reason given'}): no release deploys "
            "it. Release another version (or approve this one with `scones approve` if the rejection was a mistake)."
        )
    return version


def require_approved(session: Any, arn: str, *, group: str | None = None) -> ModelVersion:
    """The version, if Approved; VersionRejectedError (with the reason) for a Rejected one, VersionNotApprovedError
    (saying how to approve it) for one pending."""
    version = refuse_rejected(describe(session, arn, group=group))
    if version.approval != APPROVED:
        raise VersionNotApprovedError(
            f"{arn} is {version.approval}, not Approved: SageMaker deploys only approved versions. "
            f"Approve it with `scones approve {arn}` (or in the SageMaker console), then run again."
        )
    return version


def versions(session: Any, group: str) -> list[ModelVersion]:
    """Every version of the group, newest first."""
    return [describe(session, arn, group=group) for arn in version_arns(session, group)]


def latest(session: Any, group: str, *, approval: str | None = None) -> ModelVersion | None:
    """The group's newest version (with that approval status, if given), or None."""
    if approval is not None and approval not in APPROVAL_STATUSES:
        raise InvalidCandidateError(f"approval {approval!r} must be one of {', '.join(APPROVAL_STATUSES)}")
    arns = version_arns(session, group, approval)
    return describe(session, arns[0], group=group) if arns else None
