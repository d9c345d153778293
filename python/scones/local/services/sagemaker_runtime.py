"""sagemaker-runtime InvokeEndpoint runs the deployed model (moto answers canned results).

While a `LocalAWS` is active the request goes to its `ModelServer`, and its failures come back
as SageMaker's errors: ValidationError for an endpoint that cannot serve, ModelError (424) for
a model that failed on the request.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from moto.core.exceptions import JsonRESTError
from moto.core.responses import TYPE_RESPONSE
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

from scones.local.runtime import active
from scones.local.runtime.model_server import (
    EndpointConfigurationError,
    EndpointNotFoundError,
    EndpointRequest,
    ModelInvocationError,
)


class SageMakerRuntimeValidationError(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ValidationError", message)


class SageMakerModelError(JsonRESTError):
    code = 424

    def __init__(self, error: ModelInvocationError) -> None:
        super().__init__("ModelError", str(error))
        self.description = json.dumps(
            {
                "__type": "ModelError",
                "message": str(error),
                "OriginalStatusCode": error.original_status,
                "OriginalMessage": error.original_message,
                "LogStreamArn": error.log_stream_arn,
            }
        )


_original_invoke_endpoint = SageMakerRuntimeResponse.invoke_endpoint


def _invoke_endpoint(self: SageMakerRuntimeResponse) -> TYPE_RESPONSE:
    runtimes = active.current()
    if runtimes is None:
        return _original_invoke_endpoint(self)
    # /endpoints/<name>/invocations; the body is raw bytes (use_raw_body), e.g. a PNG.
    endpoint_name = unquote(self.parsed_url.path.split("/")[2])
    body = self.raw_body if isinstance(self.raw_body, bytes) else str(self.raw_body or "").encode("utf-8")
    request = EndpointRequest(
        account_id=self.current_account,
        region=self.region,
        endpoint_name=endpoint_name,
        body=body,
        content_type=self.headers.get("Content-Type") or "application/octet-stream",
        accept=self.headers.get("Accept"),
        inference_id=self.headers.get("X-Amzn-SageMaker-Inference-Id"),
        target_variant=self.headers.get("X-Amzn-SageMaker-Target-Variant"),
    )
    try:
        response = runtimes.models.invoke(request)
    except (EndpointNotFoundError, EndpointConfigurationError) as exc:
        raise SageMakerRuntimeValidationError(str(exc)) from exc
    except ModelInvocationError as exc:
        raise SageMakerModelError(exc) from exc
    headers = {"Content-Type": response.content_type, "x-Amzn-Invoked-Production-Variant": response.variant}
    return 200, headers, response.body


def install() -> None:
    SageMakerRuntimeResponse.invoke_endpoint = _invoke_endpoint  # type: ignore[method-assign]
    # moto decodes request bodies as UTF-8 unless told not to; image bodies are binary.
    SageMakerRuntimeResponse.use_raw_body = property(lambda _self: active.current() is not None)  # type: ignore[assignment]
