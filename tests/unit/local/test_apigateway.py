"""API Gateway REST APIs on the emulator: invocations answered the way API Gateway answers them.

One small API is built through the control plane (boto3, as Terraform would), with AWS_PROXY
integrations to real Lambda zips, a resource policy, API keys in usage plans and an access log;
then real HTTP requests, signed with botocore's SigV4 for `execute-api` or not, check each step.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from scones.local.iam.policies import Decision
from scones.local.server import LocalAWS
from scones.local.services.apigateway import denial
from scones.local.services.apigateway_throttle import Limit, Throttles
from tests.support.local_fixtures import ACCOUNT_ID, client, create_function
from tests.support.local_metrics import statistics

REGION = "us-east-1"
STAGE = "v1"
LOG_GROUP = "/aws/apigateway/test-access"
LOG_FORMAT = (
    "$context.requestId $context.identity.caller $context.identity.userArn $context.httpMethod "
    "$context.resourcePath $context.status $context.identity.apiKeyId $context.error.message"
)

ECHO = """
import json


def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"X-Echo": "yes"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": json.dumps(event),
    }
"""

BOOM = """
def handler(event, context):
    raise RuntimeError("boom")
"""

SLOW = """
import time


def handler(event, context):
    time.sleep(3)
    return {"statusCode": 200, "body": "late"}
"""


@dataclass(frozen=True)
class Api:
    url: str  # the stage's invoke URL, without a trailing slash
    api_id: str
    keys: dict[str, str]  # name -> value
    key_ids: dict[str, str]  # name -> id
    roles: dict[str, str]  # name -> ARN


def _method(
    apigw: Any,
    api_id: str,
    parent: str,
    part: str,
    http: str,
    function_arn: str,
    integration: dict[str, Any] | None = None,
    **kwargs: Any,
) -> str:
    resource = apigw.create_resource(restApiId=api_id, parentId=parent, pathPart=part)["id"]
    apigw.put_method(restApiId=api_id, resourceId=resource, httpMethod=http, **kwargs)
    uri = f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    apigw.put_integration(
        restApiId=api_id,
        resourceId=resource,
        httpMethod=http,
        type="AWS_PROXY",
        integrationHttpMethod="POST",
        uri=uri,
        **(integration or {}),
    )
    return str(resource)


def _role(url: str, name: str, *statements: dict[str, Any]) -> str:
    iam = client("iam", url)
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"])
    if statements:
        document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
        iam.put_role_policy(RoleName=name, PolicyName="invoke", PolicyDocument=document)
    return arn


def _resource_policy(api_id: str, roles: dict[str, str]) -> str:
    base = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api_id}"
    statements = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": roles["caller"]},
            "Action": "execute-api:Invoke",
            "Resource": f"{base}/*",
        },
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{base}/*/GET/open/*"},
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{base}/{STAGE}/GET/boom"},
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{base}/{STAGE}/*/unwired"},
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{base}/{STAGE}/GET/http"},
        {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": f"{base}/{STAGE}/GET/slow"},
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": f"{base}/{STAGE}/POST/validated",
        },
        {
            "Effect": "Deny",
            "Principal": {"AWS": roles["blocked"]},
            "Action": "execute-api:Invoke",
            "Resource": f"{base}/*",
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "execute-api:Invoke",
            "Resource": f"{base}/{STAGE}/GET/items/secret",
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _usage_plan(apigw: Any, api_id: str, name: str, key_name: str, **limits: Any) -> tuple[str, str]:
    plan = apigw.create_usage_plan(name=name, apiStages=[{"apiId": api_id, "stage": STAGE}], **limits)
    key = apigw.create_api_key(name=key_name, enabled=True)
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return str(key["value"]), str(key["id"])


def _build(url: str) -> Api:
    echo = create_function(url, "api-echo", ECHO)
    boom = create_function(url, "api-boom", BOOM)
    bare = create_function(url, "api-no-permission", ECHO)
    slow = create_function(url, "api-slow", SLOW)
    apigw = client("apigateway", url)
    api_id = apigw.create_rest_api(name="classifier-api")["id"]
    source = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api_id}/*/*/*"
    lam = client("lambda", url)
    for name in ("api-echo", "api-boom", "api-slow"):
        lam.add_permission(
            FunctionName=name,
            StatementId="apigateway",
            Action="lambda:InvokeFunction",
            Principal="apigateway.amazonaws.com",
            SourceArn=source,
        )
    root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
    _method(apigw, api_id, root, "classify", "POST", echo, authorizationType="AWS_IAM", apiKeyRequired=True)
    items = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="items")["id"]
    _method(apigw, api_id, items, "{id}", "GET", echo, authorizationType="AWS_IAM")
    opened = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="open")["id"]
    _method(apigw, api_id, opened, "{proxy+}", "GET", echo, authorizationType="NONE")
    _method(apigw, api_id, root, "boom", "GET", boom, authorizationType="NONE")
    _method(apigw, api_id, root, "unwired", "GET", bare, authorizationType="NONE")
    http = _method(apigw, api_id, root, "http", "GET", bare, authorizationType="NONE")
    _method(apigw, api_id, root, "slow", "GET", slow, authorizationType="NONE", integration={"timeoutInMillis": 500})
    apigw.put_integration(
        restApiId=api_id,
        resourceId=http,
        httpMethod="GET",
        type="HTTP_PROXY",
        integrationHttpMethod="GET",
        uri="http://example.com",
    )
    apigw.create_model(
        restApiId=api_id,
        name="Image",
        contentType="application/json",
        schema=json.dumps(
            {
                "$schema": "http://json-schema.org/draft-04/schema#",
                "type": "object",
                "required": ["image"],
                "properties": {"image": {"type": "string"}},
            }
        ),
    )
    validator = apigw.create_request_validator(restApiId=api_id, name="body", validateRequestBody=True)["id"]
    _method(
        apigw,
        api_id,
        root,
        "validated",
        "POST",
        echo,
        authorizationType="NONE",
        requestValidatorId=validator,
        requestModels={"application/json": "Image"},
    )
    deployment = apigw.create_deployment(restApiId=api_id)["id"]
    apigw.create_stage(restApiId=api_id, stageName=STAGE, deploymentId=deployment, variables={"model": "tiny"})
    logs = client("logs", url)
    logs.create_log_group(logGroupName=LOG_GROUP)
    apigw.update_stage(
        restApiId=api_id,
        stageName=STAGE,
        patchOperations=[
            {
                "op": "replace",
                "path": "/accessLogSettings/destinationArn",
                "value": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{LOG_GROUP}",
            },
            {"op": "replace", "path": "/accessLogSettings/format", "value": LOG_FORMAT},
        ],
    )
    invoke = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}
    roles = {
        "caller": _role(url, "api-caller"),
        "blocked": _role(url, "api-blocked", invoke),
        "other": _role(url, "api-other"),
    }
    apigw.update_rest_api(
        restApiId=api_id,
        patchOperations=[{"op": "replace", "path": "/policy", "value": _resource_policy(api_id, roles)}],
    )
    keys, key_ids = {}, {}
    for name, limits in {
        "main": {},
        "quota": {"quota": {"limit": 2, "period": "DAY"}},
        "rate": {"throttle": {"rateLimit": 1.0, "burstLimit": 2}},
    }.items():
        keys[name], key_ids[name] = _usage_plan(apigw, api_id, f"plan-{name}", f"key-{name}", **limits)
    disabled = apigw.create_api_key(name="key-disabled", enabled=False)
    apigw.create_usage_plan_key(
        usagePlanId=apigw.get_usage_plans()["items"][0]["id"], keyId=disabled["id"], keyType="API_KEY"
    )
    keys["disabled"] = disabled["value"]
    keys["planless"] = apigw.create_api_key(name="key-planless", enabled=True)["value"]
    return Api(f"{url}/restapis/{api_id}/{STAGE}/_user_request_", api_id, keys, key_ids, roles)


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def api(aws: LocalAWS) -> Api:
    return _build(aws.url)


def _credentials(url: str, role_arn: str | None) -> Credentials:
    if role_arn is None:
        return Credentials("testing", "testing")
    keys = client("sts", url).assume_role(RoleArn=role_arn, RoleSessionName="tester")["Credentials"]
    return Credentials(keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"])


def _call(
    method: str,
    url: str,
    *,
    body: Any = None,
    credentials: Credentials | None = None,
    api_key: str | None = None,
) -> requests.Response:
    data = b"" if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if api_key is not None:
        headers["x-api-key"] = api_key
    request = AWSRequest(method=method, url=url, data=data, headers=headers)
    if credentials is not None:
        SigV4Auth(credentials, "execute-api", REGION).add_auth(request)
    return requests.request(method, url, data=data, headers=dict(request.headers), timeout=60)


def _message(response: requests.Response) -> str:
    return str(response.json()["message"])


# -- invocation ----------------------------------------------------------------------------------


def test_a_signed_request_with_a_key_reaches_the_function_with_the_proxy_event(aws: LocalAWS, api: Api) -> None:
    credentials = _credentials(aws.url, api.roles["caller"])
    response = _call(
        "POST",
        f"{api.url}/classify?top=2&top=3",
        body={"image": "abc"},
        credentials=credentials,
        api_key=api.keys["main"],
    )
    assert response.status_code == 200, response.text
    assert response.headers["X-Echo"] == "yes"
    assert response.headers["x-amzn-RequestId"]
    event = response.json()
    assert event["resource"] == "/classify"
    assert event["path"] == "/classify"
    assert event["httpMethod"] == "POST"
    assert json.loads(event["body"]) == {"image": "abc"}
    assert event["isBase64Encoded"] is False
    assert event["queryStringParameters"] == {"top": "3"}
    assert event["multiValueQueryStringParameters"] == {"top": ["2", "3"]}
    assert event["stageVariables"] == {"model": "tiny"}
    assert event["headers"]["X-Api-Key"] == api.keys["main"]
    context = event["requestContext"]
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert (context["apiId"], context["stage"], context["accountId"]) == (api.api_id, STAGE, ACCOUNT_ID)
    assert (context["resourcePath"], context["httpMethod"], context["path"]) == ("/classify", "POST", "/v1/classify")
    assert context["requestTimeEpoch"] > 0
    identity = context["identity"]
    assert identity["userArn"] == f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/api-caller/tester"
    assert identity["accessKey"] == credentials.access_key
    assert identity["accountId"] == ACCOUNT_ID
    assert identity["caller"].endswith(":tester")
    assert identity["apiKey"] == api.keys["main"]
    assert identity["apiKeyId"] == api.key_ids["main"]
    assert identity["sourceIp"] == "127.0.0.1"


def test_path_parameters_and_greedy_paths(aws: LocalAWS, api: Api) -> None:
    item = _call("GET", f"{api.url}/items/42", credentials=_credentials(aws.url, None))
    assert item.status_code == 200, item.text
    assert item.json()["pathParameters"] == {"id": "42"}
    assert item.json()["resource"] == "/items/{id}"
    opened = _call("GET", f"{api.url}/open/a/b/c")
    assert opened.status_code == 200, opened.text
    assert opened.json()["pathParameters"] == {"proxy": "a/b/c"}
    assert opened.json()["requestContext"]["identity"]["userArn"] is None


def test_unknown_routes_answer_missing_authentication_token(api: Api) -> None:
    for method, path in (("GET", "/nowhere"), ("DELETE", "/classify")):
        response = _call(method, f"{api.url}{path}")
        assert response.status_code == 403
        assert response.json() == {"message": "Missing Authentication Token"}
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    wrong_stage = _call("GET", api.url.replace(f"/{STAGE}/", "/nostage/") + "/open/x")
    assert wrong_stage.status_code == 403
    assert _call("GET", api.url.replace(api.api_id, "nosuchapi") + "/open/x").status_code == 404


# -- IAM authentication and authorization -------------------------------------------------------


def test_unsigned_and_wrongly_signed_requests_are_refused(aws: LocalAWS, api: Api) -> None:
    url = f"{api.url}/classify"
    unsigned = _call("POST", url, body={}, api_key=api.keys["main"])
    assert unsigned.status_code == 403
    assert _message(unsigned) == "Missing Authentication Token"
    wrong_secret = _call("POST", url, body={}, credentials=Credentials("testing", "wrong"), api_key=api.keys["main"])
    assert wrong_secret.status_code == 403
    assert wrong_secret.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert _message(wrong_secret).startswith(
        "The request signature we calculated does not match the signature you provided."
    )
    unknown = _call("POST", url, body={}, credentials=Credentials("AKIANOBODY", "x"), api_key=api.keys["main"])
    assert unknown.status_code == 403
    assert _message(unknown) == "The security token included in the request is invalid."
    aws.apigateway.clock = lambda: time.time() + 600
    try:
        late = _call("POST", url, body={}, credentials=Credentials("testing", "testing"), api_key=api.keys["main"])
    finally:
        aws.apigateway.clock = time.time
    assert late.status_code == 403
    assert _message(late).startswith("Signature expired: ")


def test_the_resource_policy_and_identity_policies_decide(aws: LocalAWS, api: Api) -> None:
    key = api.keys["main"]
    arn = f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api.api_id}/{STAGE}/POST/classify"
    blocked = _call(
        "POST", f"{api.url}/classify", body={}, credentials=_credentials(aws.url, api.roles["blocked"]), api_key=key
    )
    assert blocked.status_code == 403
    assert blocked.headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert _message(blocked) == (
        f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/api-blocked/tester is not authorized to perform: "
        f"execute-api:Invoke on resource: {arn} with an explicit deny in a resource-based policy"
    )
    other = _call(
        "POST", f"{api.url}/classify", body={}, credentials=_credentials(aws.url, api.roles["other"]), api_key=key
    )
    assert other.status_code == 403
    assert _message(other).endswith("because no identity-based policy allows the execute-api:Invoke action")
    # The admin's keys have full access on the identity side, but the resource policy's Deny holds.
    admin = _credentials(aws.url, None)
    assert _call("POST", f"{api.url}/classify", body={}, credentials=admin, api_key=key).status_code == 200
    secret = _call("GET", f"{api.url}/items/secret", credentials=admin)
    assert secret.status_code == 403
    assert "with an explicit deny in a resource-based policy" in _message(secret)


def test_an_iam_users_keys_sign_as_the_user(aws: LocalAWS, api: Api) -> None:
    iam = client("iam", aws.url)
    iam.create_user(UserName="team-a")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="team-a", PolicyName="invoke", PolicyDocument=json.dumps(document))
    keys = iam.create_access_key(UserName="team-a")["AccessKey"]
    credentials = Credentials(keys["AccessKeyId"], keys["SecretAccessKey"])
    response = _call("GET", f"{api.url}/items/7", credentials=credentials)
    assert response.status_code == 200, response.text
    assert response.json()["requestContext"]["identity"]["userArn"] == f"arn:aws:iam::{ACCOUNT_ID}:user/team-a"


# -- API keys, throttling, quotas -----------------------------------------------------------------


def test_a_missing_unknown_disabled_or_planless_key_is_forbidden(api: Api) -> None:
    admin = Credentials("testing", "testing")
    for key in (None, "not-a-key-of-this-emulator", api.keys["disabled"], api.keys["planless"]):
        response = _call("POST", f"{api.url}/classify", body={}, credentials=admin, api_key=key)
        assert response.status_code == 403, key
        assert response.json() == {"message": "Forbidden"}
        assert response.headers["x-amzn-ErrorType"] == "ForbiddenException"


def test_a_used_up_quota_answers_limit_exceeded(api: Api) -> None:
    admin = Credentials("testing", "testing")
    answers = [
        _call("POST", f"{api.url}/classify", body={}, credentials=admin, api_key=api.keys["quota"]).status_code
        for _ in range(3)
    ]
    assert answers == [200, 200, 429]
    refused = _call("POST", f"{api.url}/classify", body={}, credentials=admin, api_key=api.keys["quota"])
    assert refused.json() == {"message": "Limit Exceeded"}
    assert refused.headers["x-amzn-ErrorType"] == "LimitExceededException"


def test_requests_over_the_burst_are_throttled_until_tokens_refill(aws: LocalAWS, api: Api) -> None:
    admin = Credentials("testing", "testing")
    now = [time.time()]
    aws.apigateway.clock = lambda: now[0]
    try:
        answers = [
            _call("POST", f"{api.url}/classify", body={}, credentials=admin, api_key=api.keys["rate"]) for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].json() == {"message": "Too Many Requests"}
        assert answers[2].headers["x-amzn-ErrorType"] == "TooManyRequestsException"
        now[0] += 1.0  # one token at 1 request per second
        refilled = _call("POST", f"{api.url}/classify", body={}, credentials=admin, api_key=api.keys["rate"])
        assert refilled.status_code == 200
    finally:
        aws.apigateway.clock = time.time


def test_the_stages_method_settings_cap_every_caller(aws: LocalAWS, api: Api) -> None:
    apigw = client("apigateway", aws.url)
    deployment = apigw.get_stage(restApiId=api.api_id, stageName=STAGE)["deploymentId"]
    apigw.create_stage(restApiId=api.api_id, stageName="capped", deploymentId=deployment)
    apigw.update_stage(
        restApiId=api.api_id,
        stageName="capped",
        patchOperations=[
            {"op": "replace", "path": "/*/*/throttling/rateLimit", "value": "1"},
            {"op": "replace", "path": "/*/*/throttling/burstLimit", "value": "1"},
        ],
    )
    now = [time.time()]
    aws.apigateway.clock = lambda: now[0]
    try:
        url = api.url.replace(f"/{STAGE}/", "/capped/") + "/open/x"
        assert [_call("GET", url).status_code for _ in range(2)] == [200, 429]
        now[0] += 1.0
        assert _call("GET", url).status_code == 200
    finally:
        aws.apigateway.clock = time.time


@pytest.mark.parametrize(
    ("identity", "resource", "same_account", "allowed"),
    [
        (Decision.ALLOW, None, True, True),
        (Decision.IMPLICIT_DENY, None, True, False),
        (Decision.ALLOW, Decision.IMPLICIT_DENY, True, True),
        (Decision.IMPLICIT_DENY, Decision.ALLOW, True, True),
        (Decision.ALLOW, Decision.EXPLICIT_DENY, True, False),
        (Decision.EXPLICIT_DENY, Decision.ALLOW, True, False),
        (Decision.ALLOW, Decision.IMPLICIT_DENY, False, False),
        (Decision.IMPLICIT_DENY, Decision.ALLOW, False, False),
        (Decision.ALLOW, Decision.ALLOW, False, True),
    ],
)
def test_the_authorization_tables(
    identity: Decision, resource: Decision | None, same_account: bool, allowed: bool
) -> None:
    """Tables A (same account) and B (cross-account) of "How API Gateway resource policies affect
    authorization workflow", IAM authentication rows."""
    assert (denial(identity, resource, same_account=same_account) is None) is allowed


def test_buckets_and_quota_periods_on_the_clock() -> None:
    now = [datetime.datetime(2026, 1, 31, 23, 59, tzinfo=datetime.UTC).timestamp()]
    throttles = Throttles(lambda: now[0])
    limit = Limit(rate=2.0, burst=1)
    assert throttles.take(("k",), limit)
    assert not throttles.take(("k",), limit)
    now[0] += 0.5
    assert throttles.take(("k",), limit)
    # A quota of 3 a month with an offset of 1 in the first month: 2, then 3 in February.
    assert [throttles.count(("q",), 3, "MONTH", offset=1) for _ in range(3)] == [True, True, False]
    now[0] += 120
    assert [throttles.count(("q",), 3, "MONTH", offset=1) for _ in range(4)] == [True, True, True, False]
    assert Limit.of(-1, -1) is None
    assert Limit.of(None, None) is None


# -- validation and integration errors ------------------------------------------------------------


def test_a_body_against_the_model_is_a_bad_request(api: Api) -> None:
    bad = _call("POST", f"{api.url}/validated", body={"picture": 1})
    assert bad.status_code == 400
    assert bad.json() == {"message": "Invalid request body"}
    assert bad.headers["x-amzn-ErrorType"] == "BadRequestException"
    assert _call("POST", f"{api.url}/validated", body={"image": "x"}).status_code == 200


def test_integration_failures_answer_as_api_gateway_does(api: Api) -> None:
    no_permission = _call("GET", f"{api.url}/unwired")
    assert no_permission.status_code == 500
    assert no_permission.json() == {"message": "Internal server error"}
    function_error = _call("GET", f"{api.url}/boom")
    assert function_error.status_code == 502
    assert function_error.json() == {"message": "Internal server error"}
    too_slow = _call("GET", f"{api.url}/slow")
    assert too_slow.status_code == 504
    assert too_slow.json() == {"message": "Endpoint request timed out"}
    unsupported = _call("GET", f"{api.url}/http")
    assert unsupported.status_code == 500
    assert "does not run integration type HTTP_PROXY" in _message(unsupported)


# -- metrics and access logs ----------------------------------------------------------------------


def test_metrics_and_access_log_lines_are_published(aws: LocalAWS, api: Api) -> None:
    ok = _call("GET", f"{api.url}/open/metrics")
    assert ok.status_code == 200
    assert _call("GET", f"{api.url}/nowhere").status_code == 403
    assert _call("GET", f"{api.url}/boom").status_code == 502
    dimensions = {"ApiName": "classifier-api", "Stage": STAGE}
    assert statistics(aws.url, "AWS/ApiGateway", "Count", dimensions)["Sum"] >= 3
    assert statistics(aws.url, "AWS/ApiGateway", "4XXError", dimensions)["Sum"] >= 1
    assert statistics(aws.url, "AWS/ApiGateway", "5XXError", dimensions)["Sum"] >= 1
    latency = statistics(aws.url, "AWS/ApiGateway", "Latency", dimensions)
    assert latency["SampleCount"] >= 3 and latency["Unit"] == "Milliseconds"
    assert statistics(aws.url, "AWS/ApiGateway", "IntegrationLatency", dimensions)["SampleCount"] >= 2
    listed = client("cloudwatch", aws.url).list_metrics(Namespace="AWS/ApiGateway")["Metrics"]
    assert {"Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"} <= {m["MetricName"] for m in listed}

    events = client("logs", aws.url).filter_log_events(logGroupName=LOG_GROUP)["events"]
    lines = {event["message"].split(" ", 1)[0]: event["message"] for event in events}
    request_id = ok.headers["x-amzn-RequestId"]
    assert lines[request_id] == f"{request_id} - - GET /open/{{proxy+}} 200 - -"
    boom = [line for line in lines.values() if " /boom 502 " in line]
    assert boom and boom[0].endswith("502 - Internal server error")


def test_control_plane_routes_still_reach_moto(aws: LocalAWS, api: Api) -> None:
    apigw = client("apigateway", aws.url)
    assert apigw.get_stage(restApiId=api.api_id, stageName=STAGE)["accessLogSettings"]["format"] == LOG_FORMAT
    assert any(r["path"] == "/items/{id}" for r in apigw.get_resources(restApiId=api.api_id)["items"])
