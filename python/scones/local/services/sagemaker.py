"""SageMaker: UpdateEndpoint, and model read-backs that match AWS's.

- moto has no `UpdateEndpoint`; a redeploy of the model calls it.
- moto's `DescribeModel` reports an empty `VpcConfig` for a model created without one, which the
  Terraform AWS provider reads back as a `vpc_config` block and plans to remove on every run.
- moto's `CreateModel` drops `EnableNetworkIsolation` (read back as false: the provider would
  replace the model).
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse


def _update_endpoint(self: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str) -> FakeEndpoint:
    """Point the endpoint at another config, as a redeploy does.

    The model server resolves endpoint -> config -> model on every request, so the next
    invocation serves the new model; a real endpoint would blue/green the fleet instead.
    """
    endpoint = self.endpoints.get(endpoint_name)
    if endpoint is None:
        arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    config = self.endpoint_configs.get(endpoint_config_name)
    if config is None:
        raise ValidationError(message=f"Could not find endpoint configuration '{endpoint_config_name}'.")
    endpoint.endpoint_config_name = endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
    endpoint.data_capture_config = config.data_capture_config
    endpoint.last_modified_time = utcnow()
    return endpoint


def _update_endpoint_response(self: SageMakerResponse) -> ActionResult:
    endpoint = self.sagemaker_backend.update_endpoint(
        endpoint_name=self._get_param("EndpointName"), endpoint_config_name=self._get_param("EndpointConfigName")
    )
    return ActionResult({"EndpointArn": endpoint.arn})


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
    result = _original_create_model(self)
    model = self.sagemaker_backend.describe_model(self._get_param("ModelName"))
    model.enable_network_isolation = bool(self._get_param("EnableNetworkIsolation", False))
    return result


def install() -> None:
    SageMakerModelBackend.update_endpoint = _update_endpoint  # type: ignore[attr-defined]
    SageMakerResponse.update_endpoint = _update_endpoint_response  # type: ignore[attr-defined]
    SageMakerResponse.describe_model = _describe_model  # type: ignore[method-assign]
    SageMakerResponse.create_model = _create_model  # type: ignore[method-assign]
