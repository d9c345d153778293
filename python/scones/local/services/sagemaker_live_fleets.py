"""An endpoint keeps serving when its endpoint configuration or model is deleted, as on SageMaker.

"The DeleteEndpointConfig API deletes only the specified configuration. It does not delete endpoints created using
the configuration" (DeleteEndpointConfig, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteEndpointConfig.html),
and DeleteModel "deletes only the model entry that was created in SageMaker when you called the CreateModel API"
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DeleteModel.html): the instances of a live endpoint
keep their container. moto forgets both, and the emulator's model server resolves endpoint -> configuration ->
model on every request, so an endpoint on a deleted configuration failed every request. Terraform does exactly
that after SageMaker rolled a deployment back: with create_before_destroy it deletes the configuration and model
it replaced, which the endpoint is back on (the provider records the update as a success). Here a deleted
configuration or model stays resolvable for serving only: DescribeEndpointConfig and DescribeModel say it does not
exist, and a name created again is the new one.
"""

from __future__ import annotations

from typing import Any

from moto.sagemaker.models import SageMakerModelBackend

_CONFIGS = "scones_deleted_endpoint_configs"
_MODELS = "scones_deleted_models"


def _deleted(backend: SageMakerModelBackend, kind: str) -> dict[str, Any]:
    # Kept on the backend: a reset of the emulator's state starts afresh.
    return backend.__dict__.setdefault(kind, {})  # type: ignore[no-any-return]


def serving_config(backend: SageMakerModelBackend, name: str) -> Any:
    """The endpoint configuration `name` as an endpoint on it serves it (deleted or not), or None."""
    return backend.endpoint_configs.get(name) or _deleted(backend, _CONFIGS).get(name)


def serving_model(backend: SageMakerModelBackend, name: str) -> Any:
    """The model `name` as a configuration's variant serves it (deleted or not), or None."""
    return backend._models.get(name) or _deleted(backend, _MODELS).get(name)


_original_delete_endpoint_config = SageMakerModelBackend.delete_endpoint_config
_original_delete_model = SageMakerModelBackend.delete_model


def _delete_endpoint_config(self: SageMakerModelBackend, endpoint_config_name: str) -> None:
    config = self.endpoint_configs.get(endpoint_config_name)
    _original_delete_endpoint_config(self, endpoint_config_name)
    _deleted(self, _CONFIGS)[endpoint_config_name] = config


def _delete_model(self: SageMakerModelBackend, model_name: str) -> None:
    model = self._models.get(model_name)
    _original_delete_model(self, model_name)
    _deleted(self, _MODELS)[model_name] = model


def install() -> None:
    SageMakerModelBackend.delete_endpoint_config = _delete_endpoint_config  # type: ignore[method-assign]
    SageMakerModelBackend.delete_model = _delete_model  # type: ignore[method-assign]
