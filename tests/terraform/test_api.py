"""The classification API in the plan (issue 21): a REGIONAL REST API whose POST /classify needs SigV4 and an API
key, validates its body, proxies to the thin function, which may only run the EXPRESS variant of the workflow (the
same ASL) and stage images under api/; a resource policy of the listed principals; stage-wide throttling and a
usage plan per team; access logs with retention; alarms on the 4xx/5xx rates and p95 latency. All from the
environment roots' shared default plans (dev's sets principals and two teams, tests/terraform/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scones.plan_testing import Plan
from tests.terraform.conftest import DEV_API_CONSUMERS, DEV_API_PRINCIPALS, ENV_SETTINGS

pytestmark = pytest.mark.terraform

API = "module.stack.module.api"
ASL = Path(__file__).resolve().parents[2] / "asl" / "classify_image.asl.json"
ENVS = ["local", "dev", "prod"]


def _one(plan: Plan, resource_type: str, name: str) -> dict[str, Any]:
    return dict(plan.of_type(resource_type)[f"{API}.{resource_type}.{name}"])


@pytest.mark.parametrize("env", ENVS)
def test_post_classify_needs_sigv4_and_an_api_key_and_a_valid_body(env_plan: Callable[[str], Plan], env: str) -> None:
    plan = env_plan(env)
    api = _one(plan, "aws_api_gateway_rest_api", "this")
    assert api["name"] == f"scones-{env}-api"
    assert api["endpoint_configuration"][0]["types"] == ["REGIONAL"]
    method = _one(plan, "aws_api_gateway_method", "classify")
    assert (method["http_method"], method["authorization"], method["api_key_required"]) == ("POST", "AWS_IAM", True)
    assert method["request_models"] == {"application/json": "ClassifyRequest"}
    validator = _one(plan, "aws_api_gateway_request_validator", "body")
    assert validator["validate_request_body"] is True
    schema = json.loads(_one(plan, "aws_api_gateway_model", "request")["schema"])
    assert [set(choice["required"]) for choice in schema["oneOf"]] == [{"image"}, {"s3_uri"}]
    # 150 KiB of image (lambda_common.images.MAX_IMAGE_BYTES) in base64.
    assert schema["oneOf"][0]["properties"]["image"]["maxLength"] == 4 * (150 * 1024) // 3
    integration = _one(plan, "aws_api_gateway_integration", "classify")
    assert integration["type"] == "AWS_PROXY"
    assert _one(plan, "aws_api_gateway_stage", "this")["stage_name"] == "v1"


@pytest.mark.parametrize("env", ENVS)
def test_the_thin_function_may_only_run_the_express_workflow_and_stage_images(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    plan = env_plan(env)
    settings = ENV_SETTINGS[env]
    express = f"arn:aws:states:{settings['region']}:{settings['account']}:stateMachine:scones-{env}-classify-api"
    machine = plan.of_type("aws_sfn_state_machine")[f"{API}.module.express.aws_sfn_state_machine.this"]
    assert machine["type"] == "EXPRESS"
    # The same ASL as the workflow, placeholders filled alike: nothing copied.
    standard = plan.of_type("aws_sfn_state_machine")["module.stack.module.workflow.aws_sfn_state_machine.this"]
    assert machine["definition"] == standard["definition"]
    assert json.loads(machine["definition"])["States"].keys() == json.loads(ASL.read_text())["States"].keys()
    # It runs with the workflow's role (known after apply in both), whose grants test_plans.py checks.
    express_change = plan.resources[f"{API}.module.express.aws_sfn_state_machine.this"]
    assert express_change.is_unknown("role_arn") and machine["logging_configuration"][0]["level"]

    functions = plan.of_type("aws_lambda_function")
    thin = next(f for f in functions.values() if f["function_name"] == f"scones-{env}-classify-api")
    assert thin["environment"][0]["variables"]["STATE_MACHINE_ARN"] == express
    bucket = plan.outputs["stack"]["data_bucket_name"]
    grants = {
        s.sid: (set(s.actions), set(s.resources))
        for s in plan.policy_statements()
        if s.sid in {"RunExpressWorkflow", "StageRequestImages", "EncryptRequestImages"}
    }
    assert grants["RunExpressWorkflow"] == ({"states:StartSyncExecution"}, {express})
    assert grants["StageRequestImages"] == ({"s3:PutObject", "s3:DeleteObject"}, {f"arn:aws:s3:::{bucket}/api/*"})
    assert ("EncryptRequestImages" in grants) == (env == "dev")  # dev's plan has a KMS key
    # API Gateway may invoke it for this method only.
    permission = _one(plan, "aws_lambda_permission", "api")
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert permission["function_name"] == f"scones-{env}-classify-api"
    # SerializeImage reads the staged images.
    reads = next(s for s in plan.policy_statements() if s.sid == "ReadImages")
    assert f"arn:aws:s3:::{bucket}/api/*" in reads.resources


def _resource_policy_principals(plan: Plan) -> list[str]:
    """The principals of the resource policy's document (read at apply: it names the API's ARN)."""
    address = f"{API}.data.aws_iam_policy_document.resource"
    change = next(c for c in plan.raw["resource_changes"] if c["address"] == address)
    (statement,) = change["change"]["after"]["statement"]
    assert statement["actions"] == ["execute-api:Invoke"]
    (principals,) = statement["principals"]
    assert principals["type"] == "AWS"
    return sorted(principals["identifiers"])


@pytest.mark.parametrize("env", ENVS)
def test_the_resource_policy_admits_the_listed_principals_or_this_account(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    plan = env_plan(env)
    expected = DEV_API_PRINCIPALS if env == "dev" else [ENV_SETTINGS[env]["account"]]
    assert _resource_policy_principals(plan) == sorted(expected)
    assert f"{API}.aws_api_gateway_rest_api_policy.this" in plan.resources


@pytest.mark.parametrize("env", ENVS)
def test_stage_throttling_caps_all_and_each_team_has_a_key_a_throttle_and_a_quota(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    plan = env_plan(env)
    settings = _one(plan, "aws_api_gateway_method_settings", "all")
    assert settings["method_path"] == "*/*"
    (stage_settings,) = settings["settings"]
    assert stage_settings["metrics_enabled"] is True
    assert stage_settings["throttling_rate_limit"] > 0 and stage_settings["throttling_burst_limit"] > 0
    plans = {
        address.split('"')[1]: values
        for address, values in plan.of_type("aws_api_gateway_usage_plan").items()
        if address.startswith(API)
    }
    teams = {"dev": DEV_API_CONSUMERS, "local": {"local": None}, "prod": {}}[env]
    assert set(plans) == set(teams)
    assert set(plans) == {a.split('"')[1] for a in plan.of_type("aws_api_gateway_api_key")}
    assert set(plans) == {a.split('"')[1] for a in plan.of_type("aws_api_gateway_usage_plan_key")}
    for team, limits in teams.items():
        throttle, quota = plans[team]["throttle_settings"][0], plans[team]["quota_settings"][0]
        assert quota["period"] == "DAY"
        if limits is not None:
            assert (throttle["rate_limit"], throttle["burst_limit"]) == (limits["rate_limit"], limits["burst_limit"])
            assert quota["limit"] == limits["quota_per_day"]


@pytest.mark.parametrize("env", ENVS)
def test_access_logs_go_to_a_log_group_with_retention(env_plan: Callable[[str], Plan], env: str) -> None:
    plan = env_plan(env)
    group = _one(plan, "aws_cloudwatch_log_group", "access")
    assert group["name"] == f"/aws/apigateway/scones-{env}-api/v1"
    workflow_logs = plan.of_type("aws_cloudwatch_log_group")[
        "module.stack.module.workflow.aws_cloudwatch_log_group.this"
    ]
    assert group["retention_in_days"] == workflow_logs["retention_in_days"] > 0  # the stack's log_retention_days
    stage = _one(plan, "aws_api_gateway_stage", "this")
    assert set(json.loads(stage["access_log_settings"][0]["format"])) >= {"requestId", "status", "caller", "apiKeyId"}
    # The account's CloudWatch role is set by the stack only where the root asks (every root here does).
    assert f"{API}.aws_api_gateway_account.this[0]" in plan.resources


@pytest.mark.parametrize("env", ENVS)
def test_alarms_watch_the_error_rates_and_p95_latency(env_plan: Callable[[str], Plan], env: str) -> None:
    plan = env_plan(env)
    alarms = {
        a["alarm_name"]: a
        for address, a in plan.of_type("aws_cloudwatch_metric_alarm").items()
        if address.startswith(API)
    }
    assert set(alarms) == {f"scones-{env}-api-4xx-rate", f"scones-{env}-api-5xx-rate", f"scones-{env}-api-latency-p95"}
    for alarm in alarms.values():
        assert alarm["namespace"] == "AWS/ApiGateway"
        assert alarm["dimensions"] == {"ApiName": f"scones-{env}-api", "Stage": "v1"}
    assert alarms[f"scones-{env}-api-4xx-rate"]["metric_name"] == "4XXError"
    assert alarms[f"scones-{env}-api-5xx-rate"]["statistic"] == "Average"
    assert alarms[f"scones-{env}-api-latency-p95"]["extended_statistic"] == "p95"
