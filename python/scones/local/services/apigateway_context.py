"""The `$context` of one request to a REST API stage: what API Gateway knows of it, for the
Lambda proxy event (payload format 1.0, "Set up Lambda proxy integrations in API Gateway",
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html)
and the access log's `$context` variables.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from moto.apigateway.models import ApiKey

from scones.local.iam.credentials import Caller
from scones.local.services.apigateway_proxy import GatewayAnswer
from scones.local.services.apigateway_routes import Route


@dataclass
class Invocation:
    """One request and what is learnt about it on the way: the `$context` of API Gateway."""

    environ: dict[str, Any]
    body: bytes
    started: float  # the data plane's clock, epoch seconds: $context.requestTime
    timer: float = field(default_factory=time.monotonic)  # for the latencies, whatever the clock says
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    extended_request_id: str = field(default_factory=lambda: base64.b32encode(uuid.uuid4().bytes)[:16].decode())
    caller: Caller | None = None
    api_key: ApiKey | None = None
    integration_ms: float | None = None

    @property
    def method(self) -> str:
        return str(self.environ.get("REQUEST_METHOD", "GET")).upper()

    @property
    def source_ip(self) -> str:
        return str(self.environ.get("REMOTE_ADDR", "127.0.0.1"))

    def header(self, name: str) -> str | None:
        value = self.environ.get("HTTP_" + name.upper().replace("-", "_"))
        if value is None and name.lower() == "content-type":
            value = self.environ.get("CONTENT_TYPE")
        return None if value is None else str(value)

    def headers(self) -> dict[str, str]:
        found = {
            key[5:].replace("_", "-").title(): str(value)
            for key, value in self.environ.items()
            if key.startswith("HTTP_")
        }
        if self.environ.get("CONTENT_TYPE"):
            found["Content-Type"] = str(self.environ["CONTENT_TYPE"])
        return found

    def query(self) -> dict[str, list[str]]:
        return parse_qs(str(self.environ.get("QUERY_STRING", "")), keep_blank_values=True)


def _request_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def identity(invocation: Invocation) -> dict[str, Any]:
    caller = invocation.caller
    key = invocation.api_key
    return {
        "cognitoIdentityPoolId": None,
        "cognitoIdentityId": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "principalOrgId": None,
        "accountId": caller.account_id if caller else None,
        "caller": caller.principal_id if caller else None,
        "user": caller.principal_id if caller else None,
        "userArn": caller.arn if caller else None,
        "accessKey": caller.access_key_id if caller else None,
        "sourceIp": invocation.source_ip,
        "userAgent": invocation.header("user-agent"),
        "apiKey": key.value if key else None,
        "apiKeyId": key.id if key else None,
    }


def proxy_event(route: Route, invocation: Invocation) -> dict[str, Any]:
    """The REST API's Lambda proxy event (payload format 1.0)."""
    headers = invocation.headers()
    query = invocation.query()
    content_type = (invocation.header("content-type") or "").split(";")[0].strip()
    binary = any(
        media == content_type or (media.endswith("/*") and content_type.startswith(media[:-1]))
        for media in route.api.binaryMediaTypes or []
    )
    body: str | None
    try:
        body = None if not invocation.body else invocation.body.decode() if not binary else None
    except UnicodeDecodeError:
        binary = True
        body = None
    if binary and invocation.body:
        body = base64.b64encode(invocation.body).decode()
    method = invocation.method
    return {
        "resource": route.resource_path,
        "path": route.path,
        "httpMethod": method,
        "headers": headers or None,
        "multiValueHeaders": {name: [value] for name, value in headers.items()} or None,
        "queryStringParameters": {name: values[-1] for name, values in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": route.path_parameters or None,
        "stageVariables": dict(route.stage.variables or {}) or None,
        "requestContext": {
            "accountId": route.backend.account_id,
            "apiId": route.api.id,
            "domainName": invocation.header("host"),
            "extendedRequestId": invocation.extended_request_id,
            "httpMethod": method,
            "identity": identity(invocation),
            "path": f"/{route.stage.name}{route.path}",
            "protocol": str(invocation.environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
            "requestId": invocation.request_id,
            "requestTime": _request_time(invocation.started),
            "requestTimeEpoch": int(invocation.started * 1000),
            "resourceId": route.resource.id,
            "resourcePath": route.resource_path,
            "stage": route.stage.name,
        },
        "body": body,
        "isBase64Encoded": bool(binary and invocation.body),
    }


def log_context(
    api_id: str,
    stage: str,
    route: Route | None,
    path: str,
    invocation: Invocation,
    answer: GatewayAnswer,
    latency_ms: float,
) -> dict[str, object]:
    who = identity(invocation)
    context: dict[str, object] = {
        "requestId": invocation.request_id,
        "extendedRequestId": invocation.extended_request_id,
        "apiId": api_id,
        "stage": stage,
        "httpMethod": invocation.method,
        "resourcePath": route.resource_path if route else None,
        "resourceId": route.resource.id if route else None,
        "path": f"/{stage}{path}",
        "status": answer.status,
        "protocol": str(invocation.environ.get("SERVER_PROTOCOL", "HTTP/1.1")),
        "responseLength": len(answer.body),
        "responseLatency": round(latency_ms),
        "integrationLatency": None if invocation.integration_ms is None else round(invocation.integration_ms),
        "requestTime": _request_time(invocation.started),
        "requestTimeEpoch": int(invocation.started * 1000),
        "error.message": answer.error_message,
        "error.responseType": answer.error_type,
        "integrationErrorMessage": answer.integration_error,
        "integration.error": answer.integration_error,
        "integration.latency": None if invocation.integration_ms is None else round(invocation.integration_ms),
        "domainName": invocation.header("host"),
    }
    context.update({f"identity.{name}": value for name, value in who.items()})
    return context
