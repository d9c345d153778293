"""Lambda Invoke runs the deployed zip (moto would start a Docker container or answer a stub).

While a `LocalAWS` is active, `LambdaFunction.invoke` hands the call to its `LambdaRuntime` and
answers the way Lambda does: the function error and log tail in headers, Event invocations in
the background, DryRun with nothing. A `LambdaThrottle` fault in the emulator's `FaultRegistry`
refuses the call as Lambda refuses a throttled one (TooManyRequestsException, HTTP 429; the code
does not run) and counts it in `AWS/Lambda` Throttles.
"""

from __future__ import annotations

import json
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.core.exceptions import JsonRESTError

from scones.local.faults import LambdaThrottle
from scones.local.runtime import active, cloudwatch_metrics
from scones.local.runtime.lambda_runtime import LAMBDA_NAMESPACE, FunctionSpec


class InvalidRequestContentError(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestContentException", message)


class TooManyRequestsError(JsonRESTError):
    """Lambda's answer to a throttled Invoke (the Invoke API reference: TooManyRequestsException,
    HTTP 429; https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)."""

    code = 429

    def __init__(self) -> None:
        super().__init__("TooManyRequestsException", "Rate Exceeded.")
        self.description = json.dumps(
            {
                "__type": "TooManyRequestsException",
                "message": "Rate Exceeded.",
                "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
                "Type": "User",
            }
        )


# Lambda names the session of the execution role after the function:
# arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION_NAME.
def _function_spec(function: LambdaFunction) -> FunctionSpec:
    authorizer = active.authorizer()
    credentials = (
        None
        if authorizer is None
        else authorizer.credentials_for(function.role, function.function_name, function.region)
    )
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
        credentials=credentials,
        role_arn=str(function.role or ""),
    )


_original_invoke = LambdaFunction.invoke


def invoke(
    function: LambdaFunction, body: str | bytes, request_headers: Any, response_headers: dict[str, Any]
) -> str | bytes:
    """`LambdaFunction.invoke`: the response body, with Lambda's headers set in `response_headers`."""
    runtimes = active.current()
    if runtimes is None:
        return _original_invoke(function, body, request_headers, response_headers)
    payload = body.encode("utf-8") if isinstance(body, str) else bytes(body or b"")
    if not payload.strip():
        payload = b"{}"
    try:
        json.loads(payload)
    except ValueError as exc:
        raise InvalidRequestContentError(f"Could not parse request body into json: {exc}") from exc
    invocation_type = request_headers.get("x-amz-invocation-type", "RequestResponse")
    spec = _function_spec(function)
    if invocation_type == "DryRun":
        return b""
    if runtimes.faults.take(LambdaThrottle, function.function_name) is not None:
        throttles = cloudwatch_metrics.Datum("Throttles", 1, "Count", {"FunctionName": function.function_name})
        cloudwatch_metrics.publish(function.account_id, function.region, LAMBDA_NAMESPACE, [throttles])
        raise TooManyRequestsError()
    if invocation_type == "Event":
        runtimes.lambdas.invoke_async(spec, payload)
        return b""
    result = runtimes.lambdas.invoke(spec, payload)
    if result.function_error:
        response_headers["x-amz-function-error"] = result.function_error
    response_headers["x-amz-executed-version"] = result.executed_version
    response_headers["x-amz-log-result"] = result.log_result_header
    return result.payload


def install() -> None:
    LambdaFunction.invoke = invoke  # type: ignore[method-assign]
