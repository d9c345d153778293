"""The `AWS_PROXY` Lambda integration of a REST API: the event, the permission, the response.

As "Set up Lambda proxy integrations in API Gateway" describes
(https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html):
the function receives the request as the REST API's proxy event (payload format 1.0) and
answers `statusCode`, `headers`, `multiValueHeaders`, `body` and `isBase64Encoded`. API Gateway
invokes the function as the `apigateway.amazonaws.com` service, so the function's resource
policy (AddPermission) must allow it for the method's ARN (`AWS:SourceArn`); without it the
client gets 500 "Internal server error". An unhandled function error or an answer not of that
shape gives 502 "Internal server error"; an integration that takes longer than its timeout
(29 s by default) gives 504 "Endpoint request timed out".
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from moto.awslambda.models import LambdaFunction, lambda_backends

from scones.local.iam.policies import Decision
from scones.local.iam.resource_policies import PolicyPrincipal, evaluate_resource_policy
from scones.local.services import lambda_

DEFAULT_TIMEOUT_MS = 29_000
_LAMBDA_URI = re.compile(r"^arn:[^:]+:apigateway:[^:]+:lambda:path/2015-03-31/functions/(?P<function>.+)/invocations$")
_APIGATEWAY = PolicyPrincipal(service="apigateway.amazonaws.com")


@dataclass(frozen=True)
class GatewayAnswer:
    """What API Gateway answers: status, headers (name -> values) and body."""

    status: int
    headers: Mapping[str, list[str]] = field(default_factory=dict)
    body: bytes = b""
    error_type: str | None = None  # x-amzn-ErrorType, for API Gateway's own errors
    error_message: str | None = None  # $context.error.message: what the client is told
    integration_error: str | None = None  # $context.integrationErrorMessage: why, for the access log

    @classmethod
    def error(cls, status: int, message: str, error_type: str | None = None) -> GatewayAnswer:
        body = json.dumps({"message": message}).encode()
        return cls(status, {"Content-Type": ["application/json"]}, body, error_type, message)

    def because(self, detail: str) -> GatewayAnswer:
        """This answer, with why the integration failed (for the access log)."""
        return dataclasses.replace(self, integration_error=detail)


class IntegrationError(Exception):
    """The integration cannot be run here; API Gateway answers `answer`."""

    def __init__(self, answer: GatewayAnswer, detail: str) -> None:
        self.answer = answer
        super().__init__(detail)


def lambda_function(uri: str) -> tuple[LambdaFunction, str]:
    """The function an integration URI invokes and the ARN invoked (qualified when the URI is)."""
    match = _LAMBDA_URI.match(uri or "")
    if match is None:
        raise IntegrationError(
            GatewayAnswer.error(500, "Internal server error"),
            f"the integration URI {uri!r} is not a Lambda function's invocations path",
        )
    arn = match.group("function")
    parts = arn.split(":")
    if len(parts) < 7:
        raise IntegrationError(GatewayAnswer.error(500, "Internal server error"), f"{arn!r} is not a function ARN")
    backend = lambda_backends[parts[4]][parts[3]]
    try:
        function = backend.get_function(arn)
    except Exception as exc:  # moto's UnknownFunctionException and friends
        raise IntegrationError(GatewayAnswer.error(500, "Internal server error"), f"no function {arn}: {exc}") from exc
    return function, arn


def check_invoke_permission(function: LambdaFunction, invoked_arn: str, method_arn: str, account_id: str) -> None:
    """The function's resource policy must let API Gateway invoke it for this method."""
    statements = list(getattr(function.policy, "statements", None) or [])
    document = {"Version": "2012-10-17", "Statement": statements}
    context = {"aws:SourceArn": method_arn, "aws:SourceAccount": account_id}
    decision = evaluate_resource_policy(document, _APIGATEWAY, "lambda:InvokeFunction", invoked_arn, context)
    if decision is not Decision.ALLOW:
        raise IntegrationError(
            GatewayAnswer.error(500, "Internal server error"),
            f"Execution failed due to configuration error: Invalid permissions on Lambda function "
            f"(no statement of {function.function_name}'s resource policy lets apigateway.amazonaws.com "
            f"invoke it for {method_arn})",
        )


def invoke(function: LambdaFunction, event: dict[str, Any], timeout_ms: int) -> GatewayAnswer:
    """Run the function on the proxy event and map its answer."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        headers: dict[str, Any] = {}
        try:
            outcome["payload"] = lambda_.invoke(function, json.dumps(event), {}, headers)
            outcome["function_error"] = headers.get("x-amz-function-error")
        except Exception as exc:  # a throttled or refused invocation: API Gateway sees an error
            outcome["exception"] = exc

    worker = threading.Thread(target=run, name="apigateway-integration", daemon=True)
    worker.start()
    worker.join(timeout_ms / 1000)
    if worker.is_alive():
        return GatewayAnswer.error(504, "Endpoint request timed out")
    if "exception" in outcome:
        return _bad_gateway(f"Lambda invocation failed: {outcome['exception']}")
    if outcome.get("function_error"):
        return _bad_gateway(f"Lambda function error: {outcome['payload']!r}")
    return proxy_answer(outcome["payload"])


def _bad_gateway(detail: str) -> GatewayAnswer:
    return GatewayAnswer.error(502, "Internal server error").because(detail)


def proxy_answer(payload: str | bytes) -> GatewayAnswer:
    """The HTTP answer a proxy response describes; 502 when it is not one."""
    try:
        response = json.loads(payload)
    except ValueError:
        return _bad_gateway("Malformed Lambda proxy response: not JSON")
    if not isinstance(response, dict):
        return _bad_gateway("Malformed Lambda proxy response: not an object")
    status = response.get("statusCode", 200)
    body = response.get("body")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or not 100 <= status <= 599 or not isinstance(body, str | None):
        return _bad_gateway("Malformed Lambda proxy response: statusCode or body")
    headers: dict[str, list[str]] = {}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers.setdefault(str(name), []).extend(str(v) for v in (values if isinstance(values, list) else [values]))
    for name, value in (response.get("headers") or {}).items():
        headers[str(name)] = [str(value)]
    data = (body or "").encode()
    if response.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body or "", validate=True)
        except ValueError:
            return _bad_gateway("Malformed Lambda proxy response: body is not base64")
    headers.setdefault("Content-Type", ["application/json"])
    return GatewayAnswer(status, headers, data)
