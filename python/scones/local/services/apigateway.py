"""API Gateway REST APIs answer invocations (moto serves only their control plane).

`ApiGatewayDataPlane` is WSGI middleware in front of moto (server.py). A deployed stage answers at
`{emulator}/restapis/{api_id}/{stage}/_user_request_/{path}` (`apigateway_routes.py`), and each
request goes through what API Gateway does, in its order:

1. route: the stage, the resource (`{param}`, `{proxy+}`), the method (or `ANY`); an unknown
   route answers 403 "Missing Authentication Token", as API Gateway does for a path or method it
   does not have ("How do I troubleshoot 403 "Missing Authentication Token" errors ...",
   https://repost.aws/knowledge-center/api-gateway-authentication-token-errors); an API id the
   emulator does not hold answers 404 (on AWS its host name would not resolve);
2. `AWS_IAM` methods: the SigV4 signature for `execute-api` (`apigateway_sigv4.py`);
3. authorization of `execute-api:Invoke` on the method ARN
   `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH` against the caller's identity
   policies and the API's resource policy, as "How API Gateway resource policies affect
   authorization workflow" tabulates
   (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-authorization-flow.html):
   an explicit Deny in either refuses; same account, either Allow allows; another account needs
   both. A method without IAM auth is checked against the resource policy alone (when there is
   one) as `anonymous`, which needs its explicit Allow;
4. `apiKeyRequired`: the `x-api-key` header must be an enabled key of a usage plan that lists
   this API stage, else 403 "Forbidden";
5. throttling (`apigateway_throttle.py`): the stage's method settings (`*/*` or the method's),
   the usage plan's per-method and per-key rate limits (429 "Too Many Requests") and its quota
   (429 "Limit Exceeded");
6. request validation: a request validator with `validateRequestBody` and an
   `application/json` model validates the JSON body against the model's schema (JSON Schema
   draft 4), else 400 "Invalid request body";
7. the integration: `AWS_PROXY` to a Lambda function (`apigateway_proxy.py`, with the proxy
   event of `apigateway_context.py`); other types answer 500 with a message naming what the
   emulator does not run.

Every request to a known stage publishes `AWS/ApiGateway` Count, 4XXError, 5XXError, Latency and
IntegrationLatency by ApiName and Stage ("Amazon API Gateway dimensions and metrics",
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html)
and, when the stage has access logging, writes its access-log line (`apigateway_access_log.py`).
API Gateway's own errors carry `x-amzn-ErrorType`; every answer carries `x-amzn-RequestId`.

Not emulated: Lambda (CUSTOM) and Cognito authorizers, mapping templates and non-proxy
integrations (AWS, HTTP, HTTP_PROXY, MOCK), caching, request parameter validation, per-method
detailed metrics, canaries, and deployment snapshots: a stage serves the API's current
resources and methods, not those of its deployment.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import jsonschema
from moto.apigateway.models import APIGatewayBackend, UsagePlan

from scones.local.iam.authorizer import AccessDeniedError
from scones.local.iam.credentials import Caller
from scones.local.iam.policies import Decision, evaluate
from scones.local.iam.resource_policies import PolicyPrincipal, evaluate_resource_policy
from scones.local.runtime import cloudwatch_metrics
from scones.local.runtime.cloudwatch_logs import CloudWatchLogs
from scones.local.services import apigateway_access_log, apigateway_proxy, apigateway_routes
from scones.local.services.apigateway_context import Invocation, log_context, proxy_event
from scones.local.services.apigateway_proxy import GatewayAnswer, IntegrationError
from scones.local.services.apigateway_routes import Route
from scones.local.services.apigateway_sigv4 import SignatureError, SignedRequest, verify
from scones.local.services.apigateway_throttle import Clock, Limit, Throttles

NAMESPACE = "AWS/ApiGateway"
_log = logging.getLogger(__name__)
INVOKE_ACTION = "execute-api:Invoke"

StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Refused(Exception):
    """API Gateway answers the request itself with `answer`."""

    def __init__(self, answer: GatewayAnswer) -> None:
        self.answer = answer
        super().__init__(answer.error_message or "")


def _error(status: int, message: str, error_type: str) -> Refused:
    return Refused(GatewayAnswer.error(status, message, error_type))


class ApiGatewayDataPlane:
    """Answers invocations of deployed REST API stages; passes every other request to `app`.
    `clock` (epoch seconds) drives throttling, quotas and the signature's time window."""

    def __init__(self, app: WSGIApp, logs: CloudWatchLogs, clock: Clock = time.time) -> None:
        self._app = app
        self._logs = logs
        self.throttles = Throttles(clock)

    @property
    def clock(self) -> Clock:
        return self.throttles.clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        self.throttles.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = apigateway_routes.INVOKE_PATH.match(str(environ.get("PATH_INFO", "")))
        if match is None:
            return self._app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = bytes(environ["wsgi.input"].read(length)) if length else b""
        invocation = Invocation(environ, body, self.clock())
        found = apigateway_routes.find_api(match.group("api"))
        if found is None:
            message = (
                f"No REST API {match.group('api')} in the scones emulator (on AWS its host name would not resolve)"
            )
            return self._answer(start_response, invocation, GatewayAnswer.error(404, message, "NotFoundException"))
        backend, api = found
        stage = api.stages.get(match.group("stage"))
        path = match.group("path") or "/"
        answer: GatewayAnswer
        route: Route | None = None
        try:
            if stage is None:
                raise _error(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
            resolved = apigateway_routes.resolve(api, path, invocation.method)
            if resolved is None:
                raise _error(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
            route = Route(backend, api, stage, resolved[0], resolved[1], path, resolved[2])
            answer = self._serve(route, invocation)
        except Refused as refused:
            answer = refused.answer
        except Exception as exc:  # an emulator fault: answered as API Gateway answers its own, and logged
            _log.exception("API Gateway data plane: %s %s failed", invocation.method, path)
            answer = GatewayAnswer.error(500, "Internal server error").because(repr(exc))
        if stage is not None:
            self._record(backend, api.name, api.id, stage, route, path, invocation, answer)
        return self._answer(start_response, invocation, answer)

    # -- the steps ---------------------------------------------------------------------------

    def _serve(self, route: Route, invocation: Invocation) -> GatewayAnswer:
        method_arn = _method_arn(route, invocation.method)
        if (route.method.authorization_type or "NONE").upper() == "AWS_IAM":
            invocation.caller = self._authenticate(route, invocation)
        self._authorize(route, invocation, method_arn)
        plans = self._api_key_plans(route, invocation) if route.method.api_key_required else []
        self._throttle(route, invocation, plans)
        self._validate(route, invocation)
        return self._integrate(route, invocation, method_arn)

    def _authenticate(self, route: Route, invocation: Invocation) -> Caller:
        environ = invocation.environ
        raw_path = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/"))
        host = str(environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}")
        headers = {name.lower(): value for name, value in invocation.headers().items()}
        request = SignedRequest(invocation.method, f"http://{host}{raw_path}", headers, invocation.body)
        now = datetime.fromtimestamp(self.clock(), tz=UTC)
        try:
            return verify(request, route.backend.region_name, now)
        except SignatureError as refused:
            raise _error(403, str(refused), refused.error_type) from refused

    def _authorize(self, route: Route, invocation: Invocation, method_arn: str) -> None:
        caller = invocation.caller
        policy = route.api.policy
        if caller is None:
            if not policy:
                return
            principal = PolicyPrincipal()
            decision = evaluate_resource_policy(policy, principal, INVOKE_ACTION, method_arn, _keys(invocation, None))
            if decision is not Decision.ALLOW:
                message = f"User: anonymous is not authorized to perform: {INVOKE_ACTION} on resource: {method_arn}"
                if decision is Decision.EXPLICIT_DENY:
                    message += " with an explicit deny"
                raise _error(403, message, "AccessDeniedException")
            return
        documents = caller.identity_policy_documents()
        keys = _keys(invocation, caller)
        identity = Decision.ALLOW if documents is None else evaluate(documents, INVOKE_ACTION, method_arn, keys)
        resource = (
            evaluate_resource_policy(
                policy,
                PolicyPrincipal(caller.policy_arns, caller.account_id),
                INVOKE_ACTION,
                method_arn,
                keys,
            )
            if policy
            else None
        )
        denied_by = denial(identity, resource, same_account=caller.account_id == route.backend.account_id)
        if denied_by is not None:
            decision, resource_based = denied_by
            error = AccessDeniedError(caller, INVOKE_ACTION, method_arn, decision, resource_based=resource_based)
            raise _error(403, error.message(), "AccessDeniedException")

    def _api_key_plans(self, route: Route, invocation: Invocation) -> list[UsagePlan]:
        value = invocation.header("x-api-key")
        key = next(
            (k for k in list(route.backend.keys.values()) if value and k.value == value and k.enabled),
            None,
        )
        plans = [] if key is None else _plans_of(route, key.id)
        if not plans:
            raise _error(403, "Forbidden", "ForbiddenException")
        invocation.api_key = key
        return plans

    def _throttle(self, route: Route, invocation: Invocation, plans: list[UsagePlan]) -> None:
        too_many = _error(429, "Too Many Requests", "TooManyRequestsException")
        method_key = f"{route.resource_path}/{route.method.http_method}"
        settings = route.stage.method_settings or {}
        setting_key = route.resource_path.replace("/", "~1") + "/" + route.method.http_method
        stage_settings = (
            settings.get(setting_key.removeprefix("~1")) or settings.get(setting_key) or settings.get("*/*")
        )
        if stage_settings:
            limit = Limit.of(stage_settings.get("throttlingRateLimit"), stage_settings.get("throttlingBurstLimit"))
            if limit is not None and not self.throttles.take(
                ("stage", route.api.id, route.stage.name, method_key), limit
            ):
                raise too_many
        key_id = invocation.api_key.id if invocation.api_key is not None else ""
        for plan in plans:
            for api_stage in plan.api_stages:
                if _names_stage(api_stage, route):
                    per_method = (api_stage.get("throttle") or {}).get(method_key)
                    limit = Limit.of((per_method or {}).get("rateLimit"), (per_method or {}).get("burstLimit"))
                    if limit is not None and not self.throttles.take(("method", plan.id, key_id, method_key), limit):
                        raise too_many
            limit = Limit.of(plan.throttle.get("rateLimit"), plan.throttle.get("burstLimit")) if plan.throttle else None
            if limit is not None and not self.throttles.take(("plan", plan.id, key_id), limit):
                raise too_many
            quota = plan.quota or {}
            if quota.get("limit") is not None:
                counted = self.throttles.count(
                    ("quota", plan.id, key_id),
                    int(quota["limit"]),
                    str(quota.get("period") or "DAY"),
                    int(quota.get("offset") or 0),
                )
                if not counted:
                    raise _error(429, "Limit Exceeded", "LimitExceededException")

    def _validate(self, route: Route, invocation: Invocation) -> None:
        validator_id = route.method.request_validator_id
        model_name = (route.method.request_models or {}).get("application/json")
        if not validator_id or not model_name:
            return
        validator = route.api.request_validators.get(validator_id)
        model = route.api.models.get(model_name)
        if validator is None or not validator.validate_request_body or model is None or not model.schema:
            return
        try:
            schema = json.loads(model.schema)
            jsonschema.Draft4Validator(schema).validate(json.loads(invocation.body or b"null"))
        except (ValueError, jsonschema.ValidationError) as invalid:
            raise _error(400, "Invalid request body", "BadRequestException") from invalid

    def _integrate(self, route: Route, invocation: Invocation, method_arn: str) -> GatewayAnswer:
        integration = route.method.method_integration
        kind = (integration.integration_type if integration is not None else "") or "(none)"
        if integration is None or kind.upper() != "AWS_PROXY":
            message = (
                f"Internal server error: the scones emulator does not run integration type {kind} "
                f"({route.method.http_method} {route.resource_path}); it runs AWS_PROXY to a Lambda function"
            )
            return GatewayAnswer.error(500, message).because(message)
        started = time.monotonic()
        try:
            function, invoked_arn = apigateway_proxy.lambda_function(str(integration.uri or ""))
            apigateway_proxy.check_invoke_permission(function, invoked_arn, method_arn, route.backend.account_id)
            timeout_ms = int(integration.timeout_in_millis or apigateway_proxy.DEFAULT_TIMEOUT_MS)
            return apigateway_proxy.invoke(function, proxy_event(route, invocation), timeout_ms)
        except IntegrationError as failed:
            return failed.answer.because(str(failed))
        finally:
            invocation.integration_ms = (time.monotonic() - started) * 1000

    # -- answer, metrics, access log --------------------------------------------------------

    @staticmethod
    def _answer(start_response: StartResponse, invocation: Invocation, answer: GatewayAnswer) -> Iterable[bytes]:
        headers = [(name, value) for name, values in answer.headers.items() for value in values]
        headers += [("x-amzn-RequestId", invocation.request_id), ("x-amz-apigw-id", invocation.extended_request_id)]
        if answer.error_type:
            headers.append(("x-amzn-ErrorType", answer.error_type))
        headers.append(("Content-Length", str(len(answer.body))))
        start_response(f"{answer.status} {_reason(answer.status)}", headers)
        return [answer.body]

    def _record(
        self,
        backend: APIGatewayBackend,
        api_name: str,
        api_id: str,
        stage: Any,
        route: Route | None,
        path: str,
        invocation: Invocation,
        answer: GatewayAnswer,
    ) -> None:
        latency_ms = (time.monotonic() - invocation.timer) * 1000
        dimensions = {"ApiName": api_name, "Stage": str(stage.name)}
        data = [
            cloudwatch_metrics.Datum("Count", 1, "Count", dimensions),
            cloudwatch_metrics.Datum("4XXError", 1 if 400 <= answer.status < 500 else 0, "Count", dimensions),
            cloudwatch_metrics.Datum("5XXError", 1 if answer.status >= 500 else 0, "Count", dimensions),
            cloudwatch_metrics.Datum("Latency", latency_ms, "Milliseconds", dimensions),
        ]
        if invocation.integration_ms is not None:
            data.append(
                cloudwatch_metrics.Datum("IntegrationLatency", invocation.integration_ms, "Milliseconds", dimensions)
            )
        cloudwatch_metrics.publish(backend.account_id, backend.region_name, NAMESPACE, data)
        context = log_context(api_id, stage.name, route, path, invocation, answer, latency_ms)
        with contextlib.suppress(Exception):  # a broken log destination never fails the request
            apigateway_access_log.write(
                self._logs,
                stage.access_log_settings,
                f"{api_id}/{stage.name}",
                context,
                int(invocation.started * 1000),
            )


def _reason(status: int) -> str:
    with contextlib.suppress(ValueError):
        return HTTPStatus(status).phrase
    return "Unknown"


def _method_arn(route: Route, http_method: str) -> str:
    backend = route.backend
    method = http_method if route.method.http_method == "ANY" else route.method.http_method
    return (
        f"arn:aws:execute-api:{backend.region_name}:{backend.account_id}:{route.api.id}/"
        f"{route.stage.name}/{method}/{route.path.lstrip('/')}"
    )


def _keys(invocation: Invocation, caller: Caller | None) -> dict[str, str]:
    """The condition keys a request carries (Condition elements of the policies)."""
    keys = {"aws:SourceIp": invocation.source_ip}
    if caller is not None:
        keys.update(
            {
                "aws:PrincipalArn": caller.role_arn or caller.arn,
                "aws:PrincipalAccount": caller.account_id,
                "aws:userid": caller.principal_id,
            }
        )
    return keys


def denial(identity: Decision, resource: Decision | None, *, same_account: bool) -> tuple[Decision, bool] | None:
    """None when allowed; else the deciding decision and whether the resource policy decided.
    Tables A and B of "How API Gateway resource policies affect authorization workflow"."""
    if resource is Decision.EXPLICIT_DENY:
        return Decision.EXPLICIT_DENY, True
    if identity is Decision.EXPLICIT_DENY:
        return Decision.EXPLICIT_DENY, False
    if resource is None:
        return None if identity is Decision.ALLOW else (identity, False)
    if same_account:
        return None if Decision.ALLOW in (identity, resource) else (identity, False)
    if identity is not Decision.ALLOW:
        return identity, False
    return None if resource is Decision.ALLOW else (resource, True)


def _names_stage(api_stage: dict[str, Any], route: Route) -> bool:
    return api_stage.get("apiId") == route.api.id and api_stage.get("stage") == route.stage.name


def _plans_of(route: Route, key_id: str) -> list[UsagePlan]:
    backend = route.backend
    return [
        plan
        for plan in list(backend.usage_plans.values())
        if key_id in backend.usage_plan_keys.get(plan.id, {})
        and any(_names_stage(api_stage, route) for api_stage in plan.api_stages)
    ]
