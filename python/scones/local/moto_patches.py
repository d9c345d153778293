"""Where the emulator plugs into moto: Lambda invoke, InvokeEndpoint, and SFN execution names.

`install()` patches moto's classes once per process. The Lambda and SageMaker patches only
act while a `LocalAWS` has registered its services with `activate()`; otherwise moto's own
behaviour runs, so `mock_aws` tests in the same process are unaffected.
"""

from __future__ import annotations

import functools
import importlib
import io
import json
import sys
import threading
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from moto.awslambda.models import LambdaFunction, lambda_backends
from moto.core.exceptions import JsonRESTError
from moto.core.models import botocore_stubber
from moto.core.responses import TYPE_RESPONSE, ActionResult
from moto.core.utils import utcnow
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sagemaker.exceptions import ValidationError as SageMakerValidationError
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.path import result_path as sfn_result_path
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils as sfn_lambda
from moto.stepfunctions.parser.asl.utils import boto_client as sfn_boto_client
from moto.stepfunctions.parser.asl.utils import json_path as sfn_json_path
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from scones.local import s3_policy
from scones.local.lambda_runtime import FunctionSpec, LambdaRuntime
from scones.local.model_server import (
    EndpointConfigurationError,
    EndpointNotFoundError,
    EndpointRequest,
    ModelInvocationError,
    ModelServer,
)


@dataclass(frozen=True)
class EmulatorServices:
    lambdas: LambdaRuntime
    models: ModelServer


_lock = threading.Lock()
_installed = False
_active: EmulatorServices | None = None


def activate(services: EmulatorServices) -> None:
    global _active
    with _lock:
        if _active is not None and _active is not services:
            raise RuntimeError("another LocalAWS is already running in this process")
        _active = services


def deactivate(services: EmulatorServices) -> None:
    global _active
    with _lock:
        if _active is services:
            _active = None


# -- Lambda ------------------------------------------------------------------------------


class InvalidRequestContentError(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestContentException", message)


def function_spec(function: LambdaFunction) -> FunctionSpec:
    return FunctionSpec(
        account_id=function.account_id,
        region=function.region,
        function_name=function.function_name,
        function_arn=function.function_arn,
        version=str(function.version),
        handler=str(function.handler or ""),
        runtime=str(function.run_time or ""),
        timeout_seconds=float(function.timeout or 3),
        memory_size=int(function.memory_size or 128),
        environment=dict(function.environment_vars or {}),
        code_sha256=str(function.code_sha_256 or ""),
        code_zip=bytes(function.code_bytes or b""),
    )


_original_lambda_invoke = LambdaFunction.invoke


def _lambda_invoke(
    self: LambdaFunction, body: str | bytes, request_headers: Any, response_headers: dict[str, Any]
) -> str | bytes:
    services = _active
    if services is None:
        return _original_lambda_invoke(self, body, request_headers, response_headers)
    payload = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")
    if not payload.strip():
        payload = b"{}"
    try:
        json.loads(payload)
    except ValueError as exc:
        raise InvalidRequestContentError(f"Could not parse request body into json: {exc}") from exc
    invocation_type = request_headers.get("x-amz-invocation-type", "RequestResponse")
    spec = function_spec(self)
    if invocation_type == "DryRun":
        return b""
    if invocation_type == "Event":
        services.lambdas.invoke_async(spec, payload)
        return b""
    result = services.lambdas.invoke(spec, payload)
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    response_headers["x-amz-executed-version"] = result.executed_version
    response_headers["x-amz-log-result"] = result.log_result_header
    return result.payload


_original_invoke_lambda_function = sfn_lambda._invoke_lambda_function
MAX_RESPONSE_PAYLOAD_BYTES = 6_291_556  # Lambda's limit for synchronous responses


def _direct_invoke_lambda_function(parameters: dict[str, Any], region: str, state_credentials: Any) -> Any:
    """A `lambda:invoke` Task state's call, made in-process rather than over HTTP to this same
    server: the boto3 request and its Flask round trip cost more CPU (under the one GIL the
    interpreter shares) than the rest of the state. Only the plain case is short-circuited: an
    unqualified function ARN with a payload. Anything else, and any function moto does not know,
    goes the HTTP way, so errors still reach the interpreter exactly as boto3 raises them."""
    name = str(parameters.get("FunctionName", ""))
    arn = name.split(":")
    if (
        _active is None
        or set(parameters) - {"FunctionName", "Payload"}
        or len(arn) != 7
        or arn[:3] != ["arn", "aws", "lambda"]
    ):
        return _original_invoke_lambda_function(parameters, region, state_credentials)
    try:
        function = lambda_backends[arn[4]][arn[3]].get_function(name, None)
    except JsonRESTError:
        return _original_invoke_lambda_function(parameters, region, state_credentials)
    headers: dict[str, Any] = {}
    body = _lambda_invoke(function, parameters.get("Payload") or b"{}", {}, headers)
    body = body.encode() if isinstance(body, str) else body
    if len(body) > MAX_RESPONSE_PAYLOAD_BYTES:
        headers["x-amz-function-error"] = "Unhandled"
        body = json.dumps(
            {
                "errorMessage": "Response payload size exceeded maximum allowed payload size "
                f"({MAX_RESPONSE_PAYLOAD_BYTES} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
        ).encode()
    response: dict[str, Any] = {
        "StatusCode": 200,
        "ExecutedVersion": headers.get("x-amz-executed-version", "$LATEST"),
        "Payload": sfn_lambda._from_payload(io.BytesIO(body)),
    }
    if headers.get("x-amz-function-error"):
        response["FunctionError"] = headers["x-amz-function-error"]
    return response


# -- sagemaker-runtime -------------------------------------------------------------------


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
    services = _active
    if services is None:
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
        response = services.models.invoke(request)
    except (EndpointNotFoundError, EndpointConfigurationError) as exc:
        raise SageMakerRuntimeValidationError(str(exc)) from exc
    except ModelInvocationError as exc:
        raise SageMakerModelError(exc) from exc
    headers = {"Content-Type": response.content_type, "x-Amzn-Invoked-Production-Variant": response.variant}
    return 200, headers, response.body


# -- Step Functions ------------------------------------------------------------------------

_original_start_execution = StepFunctionsParserBackend.start_execution


def _start_execution(
    self: StepFunctionsParserBackend,
    state_machine_arn: str,
    name: str | None = None,
    execution_input: str | None = None,
    trace_header: str | None = None,
) -> Any:
    # moto names an unnamed execution "None", so the second unnamed start returns the first.
    return _original_start_execution(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)


# -- SageMaker UpdateEndpoint ---------------------------------------------------------------


def _update_endpoint(self: SageMakerModelBackend, endpoint_name: str, endpoint_config_name: str) -> FakeEndpoint:
    """Point the endpoint at another config, as a redeploy does (moto has no UpdateEndpoint).

    The model server resolves endpoint -> config -> model on every request, so the next
    invocation serves the new model; a real endpoint would blue/green the fleet instead.
    """
    endpoint = self.endpoints.get(endpoint_name)
    if endpoint is None:
        arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
        raise SageMakerValidationError(message=f"Could not find endpoint '{arn}'.")
    config = self.endpoint_configs.get(endpoint_config_name)
    if config is None:
        raise SageMakerValidationError(message=f"Could not find endpoint configuration '{endpoint_config_name}'.")
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


# -- Step Functions' AWS clients --------------------------------------------------------------

_original_boto_client_for = sfn_boto_client.boto_client_for
_clients: dict[tuple[str, str, bool, int], Any] = {}
_clients_lock = threading.Lock()


def _cached_boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's interpreter builds a new boto3 client for every Task state (tens of ms of CPU under
    the GIL, which caps throughput); clients are thread-safe, so one per region and service will do."""
    # The port is part of the key: each LocalAWS in a process (the tests start several) has its own.
    key = (region, service, botocore_stubber.enabled, int(moto_server_port()))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = _original_boto_client_for(region, service, state_credentials)
    return client


def _patch_sfn_clients() -> None:
    # Importers bound the name at import time; import the Task modules the workflow uses, then
    # rebind every loaded reference.
    importlib.import_module("moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils")
    importlib.import_module(
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns"
    )
    for name, module in list(sys.modules.items()):
        if (
            name.startswith("moto.stepfunctions.parser")
            and getattr(module, "boto_client_for", None) is _original_boto_client_for
        ):
            module.boto_client_for = _cached_boto_client_for  # type: ignore[attr-defined]


_original_evaluation_entrypoint = ExecutionWorker._get_evaluation_entrypoint
_programs: dict[str, Any] = {}


def _cached_evaluation_entrypoint(self: ExecutionWorker) -> Any:
    """moto re-parses the definition with a pure-Python ANTLR parser on every execution (~50 ms of
    CPU under the GIL for this project's state machine: a third of the workflow's latency and the
    cap on its throughput). The parsed program is reusable: every component keeps its per-run
    state in the execution's Environment (heap, stack, frames), not on itself."""
    definition = self._evaluation_details.state_machine_details.definition
    program = _programs.get(definition)
    if program is None:
        program = _programs[definition] = _original_evaluation_entrypoint(self)
    return program


def _cache_jsonpath_parsing() -> None:
    """moto parses a state's JSONPaths on every execution, and jsonpath_ng builds a new PLY parser
    (LR tables and all) for each parse: a third of the emulator's CPU under a burst of executions,
    all under the GIL. A parsed path keeps no per-use state (`find` and `update_or_create` only
    read it), so one per distinct path string will do."""
    for module in (sfn_json_path, sfn_result_path):
        module.parse = functools.lru_cache(maxsize=1024)(module.parse)  # type: ignore[attr-defined]


# -- moto server dispatch ---------------------------------------------------------------------

_original_get_backend_for_host = DomainDispatcherApplication.get_backend_for_host
_backend_for_host: dict[str | None, Any] = {}


def _cached_get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    """moto matches every request's host against hundreds of URL patterns while holding the one
    lock all request threads share; the answer for a host never changes, so remember it."""
    try:
        return _backend_for_host[host]
    except KeyError:
        backend = _backend_for_host[host] = _original_get_backend_for_host(self, host)
        return backend


def install() -> None:
    """Patch moto (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        LambdaFunction.invoke = _lambda_invoke  # type: ignore[method-assign]
        SageMakerRuntimeResponse.invoke_endpoint = _invoke_endpoint  # type: ignore[method-assign]
        # moto decodes request bodies as UTF-8 unless told not to; image bodies are binary.
        SageMakerRuntimeResponse.use_raw_body = property(lambda _self: _active is not None)  # type: ignore[assignment]
        StepFunctionsParserBackend.start_execution = _start_execution  # type: ignore[method-assign]
        _patch_sfn_clients()
        ExecutionWorker._get_evaluation_entrypoint = _cached_evaluation_entrypoint  # type: ignore[method-assign]
        _cache_jsonpath_parsing()
        sfn_lambda._invoke_lambda_function = _direct_invoke_lambda_function
        DomainDispatcherApplication.get_backend_for_host = _cached_get_backend_for_host  # type: ignore[method-assign]
        SageMakerModelBackend.update_endpoint = _update_endpoint  # type: ignore[attr-defined]
        SageMakerResponse.update_endpoint = _update_endpoint_response  # type: ignore[attr-defined]
        s3_policy.install()
        _installed = True
