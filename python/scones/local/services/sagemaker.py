"""SageMaker: UpdateEndpoint, and model read-backs that match AWS's.

- moto has no `UpdateEndpoint`; a redeploy of the model calls it. With a blue/green `DeploymentConfig`
  it is a deployment with baking periods and auto-rollback (`sagemaker_deployments.py`). It refuses what AWS refuses
  (an instance-type change or removal of an autoscaled variant) and keeps or resets instance
  counts as AWS does (docs/emulator.md, "SageMaker endpoint updates").
- moto's `DescribeModel` reports an empty `VpcConfig` for a model created without one, which the
  Terraform AWS provider reads back as a `vpc_config` block and plans to remove on every run.
- moto's `CreateModel` drops `EnableNetworkIsolation` (read back as false: the provider would
  replace the model).
- Model packages (the model registry) and models created from one: `sagemaker_model_packages.py`.
- An endpoint keeps serving a deleted endpoint configuration or model: `sagemaker_live_fleets.py`.
- moto's `CreateEndpointConfig` accepts any data-capture content type; SageMaker refuses one its
  documented pattern does not match (the Terraform provider only checks the start of the value).
"""

from __future__ import annotations

import re
from typing import Any

from moto.applicationautoscaling.models import applicationautoscaling_backends
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from scones.local.services import sagemaker_deployments, sagemaker_live_fleets, sagemaker_model_packages

# "Update endpoints that use auto scaling", https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html:
# an update that changes the instance type of (or removes) a variant registered as a scalable target fails.
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
# What UpdateEndpoint can retain of a variant, by ExcludeRetainedVariantProperties' VariantPropertyType
# (API_UpdateEndpoint), with the keys DescribeEndpoint reports them under; DataCaptureConfig is the endpoint's.
_RETAINED = {
    "DesiredInstanceCount": ("CurrentInstanceCount", "DesiredInstanceCount"),
    "DesiredWeight": ("CurrentWeight", "DesiredWeight"),
    "DataCaptureConfig": (),
}


def _autoscaled_variants(backend: SageMakerModelBackend, endpoint_name: str) -> set[str]:
    """Names of the endpoint's variants that Application Auto Scaling has as scalable targets."""
    autoscaling = applicationautoscaling_backends[backend.account_id][backend.region_name]
    prefix = f"endpoint/{endpoint_name}/variant/"
    return {
        target.resource_id.removeprefix(prefix)
        for target in autoscaling.describe_scalable_targets("sagemaker", None, SCALABLE_DIMENSION)
        if target.resource_id.startswith(prefix)
    }


def _refuse_autoscaled_changes(backend: SageMakerModelBackend, endpoint: FakeEndpoint, new: FakeEndpointConfig) -> None:
    current = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    if current is None:
        return  # its config was deleted: nothing says what the variants run on now
    new_types = {variant["VariantName"]: variant.get("InstanceType") for variant in new.production_variants}
    autoscaled = _autoscaled_variants(backend, endpoint.endpoint_name)
    changed = sorted(
        name
        for name, instance_type in ((v["VariantName"], v.get("InstanceType")) for v in current.production_variants)
        if name in autoscaled and (name not in new_types or new_types[name] != instance_type)
    )
    if changed:
        names = ", ".join(changed)
        raise ValidationError(
            message=f'The variant(s) "[{names}]" must be deregistered as scalable targets with AWS Application '
            "Auto Scaling before they can be removed or have their instance type updated."
        )


def _retain(variants: list[dict[str, Any]], live: list[dict[str, Any]], retained: tuple[str, ...]) -> None:
    """Give each new variant the live values of its same-named predecessor, for the retained properties."""
    by_name = {variant["VariantName"]: variant for variant in live}
    for variant in variants:
        previous = by_name.get(variant["VariantName"], {})
        variant.update({key: previous[key] for prop in retained for key in _RETAINED[prop] if key in previous})


def _update_endpoint(
    self: SageMakerModelBackend,
    endpoint_name: str,
    endpoint_config_name: str,
    retain_all_variant_properties: bool = False,
    excluded_properties: tuple[str, ...] = (),
    deployment_config: dict[str, Any] | None = None,
    retain_deployment_config: bool = False,
) -> FakeEndpoint:
    """Point the endpoint at another config, as a redeploy does.

    The model server resolves endpoint -> config -> model on every request, so the next
    invocation serves the new model; a real endpoint would blue/green the fleet instead.
    Variants take the new config's InitialInstanceCount and weight unless the caller retains
    them (RetainAllVariantProperties, API_UpdateEndpoint): then a same-named variant keeps its
    live DesiredInstanceCount, a scaled-out count included. A blue/green DeploymentConfig (or the last
    one, with RetainDeploymentConfig) makes it a deployment that bakes and may roll back
    (`sagemaker_deployments.py`); without one the switch is immediate.
    """
    endpoint = self.endpoints.get(endpoint_name)
    if endpoint is None:
        arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    config = self.endpoint_configs.get(endpoint_config_name)
    if config is None:
        raise ValidationError(message=f"Could not find endpoint configuration '{endpoint_config_name}'.")
    _refuse_autoscaled_changes(self, endpoint, config)
    variants = endpoint._process_production_variants(config.production_variants)
    retained = (
        tuple(prop for prop in _RETAINED if prop not in excluded_properties) if retain_all_variant_properties else ()
    )
    _retain(variants, endpoint.production_variants, retained)
    if retain_deployment_config:
        deployment_config = getattr(endpoint, "last_deployment_config", None)
    capture = endpoint.data_capture_config if "DataCaptureConfig" in retained else config.data_capture_config
    endpoint.last_modified_time = utcnow()
    config_name = endpoint_config_name
    if not sagemaker_deployments.start(self, endpoint, config_name, variants, capture, deployment_config or {}):
        sagemaker_deployments.switch(endpoint, endpoint_config_name, variants, capture)
        endpoint.failure_reason = None
    endpoint.last_deployment_config = deployment_config
    return endpoint


def _update_endpoint_response(self: SageMakerResponse) -> ActionResult:
    excluded = self._get_param("ExcludeRetainedVariantProperties") or []
    endpoint = self.sagemaker_backend.update_endpoint(
        endpoint_name=self._get_param("EndpointName"),
        endpoint_config_name=self._get_param("EndpointConfigName"),
        retain_all_variant_properties=bool(self._get_param("RetainAllVariantProperties", False)),
        excluded_properties=tuple(item["VariantPropertyType"] for item in excluded),
        deployment_config=self._get_param("DeploymentConfig"),
        retain_deployment_config=bool(self._get_param("RetainDeploymentConfig", False)),
    )
    return ActionResult({"EndpointArn": endpoint.arn})


# CaptureContentTypeHeader's CsvContentTypes and JsonContentTypes: 1-10 items, each 1-256 characters matching
# this pattern, which SageMaker checks against the whole value as it does every documented pattern
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CaptureContentTypeHeader.html). No "+": a
# structured-syntax type such as application/vnd.scones.prediction+json cannot be listed (answers of such a
# type are captured base64).
_CAPTURE_CONTENT_TYPE = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*\/[a-zA-Z0-9](-*[a-zA-Z0-9.])*")
_CAPTURE_TYPE_LISTS = (("CsvContentTypes", "csvContentTypes"), ("JsonContentTypes", "jsonContentTypes"))


def _refuse_bad_capture_content_types(data_capture_config: Any) -> None:
    header = (data_capture_config or {}).get("CaptureContentTypeHeader") or {}
    for key, member in _CAPTURE_TYPE_LISTS:
        types = header.get(key)
        if types is None:
            continue
        where = f"dataCaptureConfig.captureContentTypeHeader.{member}"
        if not 1 <= len(types) <= 10:
            raise ValidationError(
                f"1 validation error detected: Value '{types}' at '{where}' failed to satisfy constraint: "
                "Member must have length less than or equal to 10 and greater than or equal to 1"
            )
        for index, value in enumerate(types, start=1):
            if not (1 <= len(str(value)) <= 256 and _CAPTURE_CONTENT_TYPE.fullmatch(str(value))):
                raise ValidationError(
                    f"1 validation error detected: Value '{value}' at '{where}.{index}.member' failed to satisfy "
                    f"constraint: Member must satisfy regular expression pattern: {_CAPTURE_CONTENT_TYPE.pattern}"
                )


_original_create_endpoint_config = SageMakerResponse.create_endpoint_config


def _create_endpoint_config(self: SageMakerResponse) -> Any:
    _refuse_bad_capture_content_types(self._get_param("DataCaptureConfig"))
    return _original_create_endpoint_config(self)


_original_describe_model = SageMakerResponse.describe_model
_original_create_model = SageMakerResponse.create_model


def _describe_model(self: SageMakerResponse) -> Any:
    """AWS omits `VpcConfig` for a model created without one."""
    result = _original_describe_model(self)
    body = result.result if isinstance(result, ActionResult) else None
    if isinstance(body, dict) and "VpcConfig" in body and not body["VpcConfig"]:
        return ActionResult({key: value for key, value in body.items() if key != "VpcConfig"})
    return result


def _create_model(self: SageMakerResponse) -> Any:
    # Resolved (or refused) before the model exists; DescribeModel keeps reporting the container as given.
    package_container = sagemaker_model_packages.resolve_container(
        self.sagemaker_backend, self._get_param("PrimaryContainer")
    )
    result = _original_create_model(self)
    model = self.sagemaker_backend.describe_model(self._get_param("ModelName"))
    model.enable_network_isolation = bool(self._get_param("EnableNetworkIsolation", False))
    model.package_container = package_container
    return result


def install() -> None:
    SageMakerModelBackend.update_endpoint = _update_endpoint  # type: ignore[attr-defined]
    SageMakerResponse.update_endpoint = _update_endpoint_response  # type: ignore[attr-defined]
    SageMakerResponse.describe_model = _describe_model  # type: ignore[method-assign]
    SageMakerResponse.create_model = _create_model  # type: ignore[method-assign]
    SageMakerResponse.create_endpoint_config = _create_endpoint_config  # type: ignore[method-assign]
    sagemaker_deployments.install()
    sagemaker_live_fleets.install()
    sagemaker_model_packages.install()
