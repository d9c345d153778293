"""Shortcuts that make moto answer faster, never differently; each is here for a measured cost.

The emulator is one process, and its request threads and Step Functions executions share one
GIL: under a burst of executions that process was the bottleneck (one core busy, the other
mostly idle), so CPU spent in moto per request or per execution caps the workflow's throughput.
Figures are CPU time per call unless said otherwise; "bench" is `make bench` on the 2-core
machine (README, "Figures").
"""

from __future__ import annotations

import functools
import importlib
import io
import json
import sys
import threading
import uuid
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto.awslambda.models import lambda_backends
from moto.core.exceptions import JsonRESTError
from moto.core.models import botocore_stubber
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.path import result_path as sfn_result_path
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils as sfn_lambda
from moto.stepfunctions.parser.asl.utils import boto_client as sfn_boto_client
from moto.stepfunctions.parser.asl.utils import json_path as sfn_json_path
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

from scones.local.iam.authorizer import AccessDeniedError
from scones.local.runtime import active
from scones.local.services import lambda_, stepfunctions

# -- Lambda called in process from lambda:invoke Task states ------------------------------------
# Measured with the JSONPath cache below (commit 9d448cc; they were not measured apart): the
# bench's burst of 100 executions went from 19.4 to 47.6 images/s, workflow p50 from 56.5 to
# 28.0 ms.

_original_invoke_lambda_function = sfn_lambda._invoke_lambda_function
MAX_RESPONSE_PAYLOAD_BYTES = 6_291_556  # Lambda's limit for synchronous responses


def invoke_lambda_in_process(parameters: dict[str, Any], region: str, state_credentials: Any) -> Any:
    """A `lambda:invoke` Task state's call, made in-process rather than over HTTP to this same
    server: the boto3 request and its Flask round trip cost more CPU than the rest of the state.
    Only the plain case is short-circuited: an unqualified function ARN with a payload. Anything
    else, and any function moto does not know, goes the HTTP way, so errors still reach the
    interpreter exactly as boto3 raises them. With IAM enforced, the state machine's role must be
    allowed lambda:InvokeFunction on the function, as over HTTP; a refusal is raised as boto3
    raises Lambda's 403."""
    name = str(parameters.get("FunctionName", ""))
    arn = name.split(":")
    if (
        active.current() is None
        or set(parameters) - {"FunctionName", "Payload"}
        or len(arn) != 7
        or arn[:3] != ["arn", "aws", "lambda"]
    ):
        return _original_invoke_lambda_function(parameters, region, state_credentials)
    try:
        function = lambda_backends[arn[4]][arn[3]].get_function(name, None)
    except JsonRESTError:
        return _original_invoke_lambda_function(parameters, region, state_credentials)
    _check_task_may_invoke(state_credentials, name)
    headers: dict[str, Any] = {}
    try:
        body = lambda_.invoke(function, parameters.get("Payload") or b"{}", {}, headers)
    except JsonRESTError as exc:
        # What boto3 raises for the same answer over HTTP (e.g. an injected throttle), so the
        # interpreter names the error `Lambda.<code>` as it does on AWS.
        error = {"Code": exc.error_type, "Message": exc.message}
        metadata = {"HTTPStatusCode": exc.code, "RequestId": str(uuid.uuid4())}
        raise ClientError({"Error": error, "ResponseMetadata": metadata}, "Invoke") from exc  # type: ignore[arg-type]
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


def _check_task_may_invoke(state_credentials: Any, function_arn: str) -> None:
    authorizer, task = active.authorizer(), stepfunctions.task_principal(state_credentials)
    if authorizer is None or task is None:
        return
    try:
        authorizer.check(task[1], "lambda:InvokeFunction", function_arn)
    except AccessDeniedError as exc:
        error = {"Code": "AccessDeniedException", "Message": str(exc)}
        metadata = {"HTTPStatusCode": 403, "RequestId": str(uuid.uuid4())}
        raise ClientError({"Error": error, "ResponseMetadata": metadata}, "Invoke") from None  # type: ignore[typeddict-item]


# -- JSONPaths parsed once -----------------------------------------------------------------------
# moto parses a state's JSONPaths on every execution, and jsonpath_ng builds a new PLY parser for
# each parse: a third of the emulator's CPU under a burst of executions (commit 9d448cc; the
# bench figures are above). A parsed path keeps no per-use state (`find` and `update_or_create`
# only read it), so one per distinct path string will do.

_cached_parsers = {
    module: functools.lru_cache(maxsize=1024)(module.parse) for module in (sfn_json_path, sfn_result_path)
}

# -- State machine definitions parsed once -------------------------------------------------------
# moto re-parses the definition with a pure-Python ANTLR parser on every execution: ~50 ms for
# this project's state machine when this cache was added (commit 6ab0f9e; a third of the
# workflow's latency then), 36 ms measured again on 2026-12-03. The parsed program is reusable:
# every component keeps its per-run state in the execution's Environment (heap, stack, frames),
# not on itself.

_original_evaluation_entrypoint = ExecutionWorker._get_evaluation_entrypoint
_programs: dict[str, Any] = {}


def _cached_evaluation_entrypoint(self: ExecutionWorker) -> Any:
    definition = self._evaluation_details.state_machine_details.definition
    program = _programs.get(definition)
    if program is None:
        program = _programs[definition] = _original_evaluation_entrypoint(self)
    return program


# -- One boto3 client per service for Step Functions' Task states --------------------------------
# moto's interpreter builds a new boto3 client for every Task state: "tens of ms" when this cache
# was added (commit 6ab0f9e), 6 ms measured again on 2026-12-03, for each SNS (and non-plain
# Lambda) Task state of the workflow. Clients are thread-safe, so one per region, service and
# role will do. With IAM enforced the client signs with the role's keys (moto's signs as "ak").

_original_boto_client_for = sfn_boto_client.boto_client_for
_clients: dict[tuple[Any, ...], Any] = {}
_clients_lock = threading.Lock()


def _cached_boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    authorizer = active.authorizer()
    task = None if authorizer is None else stepfunctions.task_principal(state_credentials)
    # The port and authorizer are part of the key: each LocalAWS in a process (the tests start
    # several) has its own, and its own STS keys.
    key = (region, service, botocore_stubber.enabled, int(moto_server_port()), id(authorizer), task)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _original_boto_client_for(region, service, state_credentials)
            if authorizer is not None and task is not None:
                keys = authorizer.credentials_for(task[0], task[1].session_name, region)
                client = boto3.client(
                    service,
                    region_name=region,
                    endpoint_url=client.meta.endpoint_url,
                    aws_access_key_id=keys.access_key_id,
                    aws_secret_access_key=keys.secret_access_key,
                    aws_session_token=keys.session_token,
                    config=client.meta.config,
                )
            _clients[key] = client
    return client


def _use_cached_boto_clients() -> None:
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


# -- Request host -> moto backend, remembered ------------------------------------------------------
# moto matches every request's host against hundreds of URL patterns while holding the one lock
# all request threads share: 0.7 ms per request, measured on 2026-12-03 (commit 6ab0f9e kept no
# figure of its own). The answer for a host never changes.

_original_get_backend_for_host = DomainDispatcherApplication.get_backend_for_host
_backend_for_host: dict[str | None, Any] = {}


def _cached_get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    try:
        return _backend_for_host[host]
    except KeyError:
        backend = _backend_for_host[host] = _original_get_backend_for_host(self, host)
        return backend


def install() -> None:
    sfn_lambda._invoke_lambda_function = invoke_lambda_in_process
    for module, parse in _cached_parsers.items():
        module.parse = parse  # type: ignore[attr-defined]
    ExecutionWorker._get_evaluation_entrypoint = _cached_evaluation_entrypoint  # type: ignore[method-assign]
    _use_cached_boto_clients()
    DomainDispatcherApplication.get_backend_for_host = _cached_get_backend_for_host  # type: ignore[method-assign]
