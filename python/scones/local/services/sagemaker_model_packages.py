"""SageMaker model registry: model package groups and their versions as SageMaker keeps them.

moto has groups and versioned packages but:
- numbers a new version after the group's current count, so after a deletion it reuses (and overwrites) a version;
  SageMaker numbers each group's versions 1, 2, … and never reuses one;
- leaves a new version's `ModelApprovalStatus` unset; SageMaker's default is `PendingManualApproval`;
- clears `CustomerMetadataProperties` and `ApprovalDescription` on every `UpdateModelPackage` that does not
  repeat them;
- has no `DeleteModelPackage` or `DeleteModelPackageGroup` (the Terraform provider deletes its group with
  the latter, then polls `DescribeModelPackageGroup` until "does not exist"). SageMaker refuses to delete a
  group that still has versions (a `ConflictException`, the error API_DeleteModelPackageGroup lists);
- creates a model from `PrimaryContainer.ModelPackageName` without looking at the package. SageMaker takes the
  version's container (image, artifact, environment), and only from an approved version: "For versioned
  models, the value of this parameter must be set to Approved to deploy the model" (ModelApprovalStatus,
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModelPackage.html). `serving_container`
  is what the emulator's model server runs.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import AWSValidationException, ConflictException, ValidationError
from moto.sagemaker.models import Model, ModelPackage, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemaker.utils import arn_formatter, validate_model_approval_status

DEFAULT_APPROVAL = "PendingManualApproval"


def _group_name(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def _package(backend: SageMakerModelBackend, name_or_arn: str) -> ModelPackage:
    arn = backend.model_package_name_mapping.get(name_or_arn, name_or_arn)
    package = backend.model_packages.get(arn)
    if package is None:
        raise ValidationError(f"Model package {name_or_arn} not found")
    return package


def _versions(backend: SageMakerModelBackend, group: str) -> list[ModelPackage]:
    return [p for p in backend.model_packages.values() if p.model_package_group_name == group]


_original_create_model_package = SageMakerResponse.create_model_package


def _create_model_package(self: SageMakerResponse) -> ActionResult:
    """A version of a group gets the group's next number, never one a deleted version had."""
    backend = self.sagemaker_backend
    group_param = self._get_param("ModelPackageGroupName")
    if not group_param or self._get_param("ModelPackageName"):
        return _original_create_model_package(self)  # unversioned, or moto's refusal of both names
    name = _group_name(group_param)
    group = backend.model_package_groups.get(name)
    if group is None:
        raise AWSValidationException(f"Model Package Group {name} does not exist.")
    version = getattr(group, "last_version", len(_versions(backend, name))) + 1
    # moto numbers by count (and so overwrites a version after a deletion): let it create an unversioned
    # package named after the group, then make it the group's next version.
    read = self._get_param
    overrides = {"ModelPackageGroupName": None, "ModelPackageName": name}
    self._get_param = lambda key, default=None: overrides[key] if key in overrides else read(key, default)  # type: ignore[method-assign]
    try:
        created = _original_create_model_package(self)
    finally:
        del self._get_param
    package = backend.model_packages.pop(created.result["ModelPackageArn"])  # type: ignore[union-attr]
    for key in (package.arn, name):
        backend.model_package_name_mapping.pop(key, None)
    package.model_package_group_name = name
    package.model_package_version = version
    package.model_package_type = "Versioned"
    package.arn = arn_formatter("model-package", f"{name.lower()}/{version}", backend.account_id, backend.region_name)
    package.model_package_status_details = {
        key: [{"Name": package.arn, "Status": "Completed"}] for key in ("ValidationStatuses", "ImageScanStatuses")
    }
    if package.model_approval_status is None:
        package.model_approval_status = DEFAULT_APPROVAL
    backend.model_packages[package.arn] = package
    backend.model_package_name_mapping[package.arn] = package.arn
    group.last_version = version  # type: ignore[attr-defined]
    return ActionResult({"ModelPackageArn": package.arn})


def _update_model_package(self: SageMakerResponse) -> ActionResult:
    """Change what the request names and nothing else (moto clears the metadata and description it omits)."""
    package = _package(self.sagemaker_backend, self._get_param("ModelPackageArn"))
    status = self._get_param("ModelApprovalStatus")
    if status is not None:
        validate_model_approval_status(status)
        package.model_approval_status = status
    description = self._get_param("ApprovalDescription")
    if description is not None:
        package.approval_description = description
    metadata = self._get_param("CustomerMetadataProperties")
    if metadata:
        package.customer_metadata_properties = {**(package.customer_metadata_properties or {}), **metadata}
    for key in self._get_param("CustomerMetadataPropertiesToRemove") or []:
        (package.customer_metadata_properties or {}).pop(key, None)
    package.last_modified_time = utcnow()
    package.last_modified_by = package.created_by
    return ActionResult({"ModelPackageArn": package.arn})


def _delete_model_package(self: SageMakerResponse) -> EmptyResult:
    backend = self.sagemaker_backend
    package = _package(backend, self._get_param("ModelPackageName"))
    del backend.model_packages[package.arn]
    for key in [key for key, arn in backend.model_package_name_mapping.items() if arn == package.arn]:
        del backend.model_package_name_mapping[key]
    return EmptyResult()


def _delete_model_package_group(self: SageMakerResponse) -> EmptyResult:
    backend = self.sagemaker_backend
    name = _group_name(self._get_param("ModelPackageGroupName"))
    group = backend.describe_model_package_group(name)  # "ModelPackageGroup <arn> does not exist." when absent
    if _versions(backend, name):
        raise ConflictException(
            f"Model Package Group {group.arn} cannot be deleted because it contains model packages; "
            "delete them first (DeleteModelPackage)."
        )
    del backend.model_package_groups[name]
    return EmptyResult()


def resolve_container(backend: SageMakerModelBackend, container: dict[str, Any] | None) -> dict[str, Any] | None:
    """The container a model created with `container` runs: the model package's own when it names one
    (refused as SageMaker refuses it), else None (the container as given)."""
    name = (container or {}).get("ModelPackageName")
    if not name:
        return None
    given = sorted(key for key in ("Image", "ModelDataUrl") if (container or {}).get(key))
    if given:
        # The package brings its image and artifact ("ContainerDefinition",
        # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html).
        raise ValidationError(f"ModelPackageName {name} cannot be combined with {' and '.join(given)}.")
    package = _package(backend, name)
    if package.model_package_version is not None and package.model_approval_status != "Approved":
        raise ValidationError(
            f"Model package {package.arn} has ModelApprovalStatus {package.model_approval_status}: "
            "only an Approved model package version can be deployed."
        )
    containers = (package.inference_specification or {}).get("Containers") or []
    if not containers:
        raise ValidationError(f"Model package {package.arn} has no InferenceSpecification containers.")
    resolved = dict(containers[0])
    resolved["Environment"] = {**(resolved.get("Environment") or {}), **((container or {}).get("Environment") or {})}
    return resolved


def serving_container(model: Model) -> dict[str, Any]:
    """What the model's primary container runs: its model package's container when created from one."""
    resolved = getattr(model, "package_container", None)
    if resolved is not None:
        return resolved
    return model.primary_container or (model.containers[0] if model.containers else {})


def install() -> None:
    SageMakerResponse.create_model_package = _create_model_package  # type: ignore[method-assign]
    SageMakerResponse.update_model_package = _update_model_package  # type: ignore[method-assign]
    SageMakerResponse.delete_model_package = _delete_model_package  # type: ignore[attr-defined]
    SageMakerResponse.delete_model_package_group = _delete_model_package_group  # type: ignore[attr-defined]
