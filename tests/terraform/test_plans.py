"""Plan every root against the emulator and assert on what would be built."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import tftest

from tests.terraform.conftest import ENV_SETTINGS, base_vars
from tests.terraform.plan_summary import RESOURCE_STAR_ALLOWED, as_list, policy_statements, summarize

pytestmark = pytest.mark.terraform

CUSTOM = {
    "threshold": 0.8,
    "capture_sampling_percentage": 37,
    "autoscaling": {"min_capacity": 2, "max_capacity": 5},
    "alarm_thresholds": {"low_confidence_share": 0.25, "model_latency_p95_ms": 250},
    "capture_expiration_days": 3,
}


def names(env: str) -> dict[str, str]:
    settings = ENV_SETTINGS[env]
    prefix = f"scones-{env}"
    return {
        "prefix": prefix,
        "data_bucket": f"{prefix}-data-{settings['account']}-{settings['region']}",
        "capture_bucket": f"{prefix}-capture-{settings['account']}-{settings['region']}",
        "endpoint": f"{prefix}-classifier",
        "topic_arn": f"arn:aws:sns:{settings['region']}:{settings['account']}:{prefix}-notifications",
        "function_prefix": f"arn:aws:lambda:{settings['region']}:{settings['account']}:function:{prefix}-",
    }


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_bucket_is_encrypted_private_versioned_and_tls_only(plan_json: Callable[..., Any], env: str) -> None:
    plan = summarize(plan_json(env))
    expected = {names(env)["data_bucket"], names(env)["capture_bucket"]}
    assert {b["bucket"] for b in plan.of_type("aws_s3_bucket").values()} == expected
    assert {b["force_destroy"] for b in plan.of_type("aws_s3_bucket").values()} == {env == "local"}

    blocks = {b["bucket"]: b for b in plan.of_type("aws_s3_bucket_public_access_block").values()}
    assert set(blocks) == expected
    for block in blocks.values():
        assert block["block_public_acls"] and block["block_public_policy"]
        assert block["ignore_public_acls"] and block["restrict_public_buckets"]

    encryption = {e["bucket"]: e for e in plan.of_type("aws_s3_bucket_server_side_encryption_configuration").values()}
    assert set(encryption) == expected
    for config in encryption.values():
        assert config["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "AES256"

    versioning = {
        v["bucket"]: v["versioning_configuration"][0]["status"]
        for v in plan.of_type("aws_s3_bucket_versioning").values()
    }
    assert versioning == dict.fromkeys(expected, "Enabled")

    for policy in plan.of_type("aws_s3_bucket_policy").values():
        statement = json.loads(policy["policy"])["Statement"][0]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert plan.counts["aws_s3_bucket_policy"] == 2


def test_capture_expiry_follows_its_variable(plan_json: Callable[..., Any]) -> None:
    plan = summarize(plan_json("local", **CUSTOM))
    capture = names("local")["capture_bucket"]
    rules = [r for r in plan.of_type("aws_s3_bucket_lifecycle_configuration").values() if r["bucket"] == capture]
    assert rules[0]["rule"][0]["expiration"][0]["days"] == 3


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_iam_statement_names_specific_actions_and_resources(plan_json: Callable[..., Any], env: str) -> None:
    plan = summarize(plan_json(env))
    statements = policy_statements(plan)
    assert len(plan.of_type("aws_iam_role_policy")) == 5  # sagemaker, three lambdas, state machine
    for address, statement in statements:
        actions = as_list(statement["Action"])
        assert all("*" not in action for action in actions), (address, actions)
        if "*" in as_list(statement["Resource"]):
            assert set(actions) <= RESOURCE_STAR_ALLOWED, (address, actions)
        else:
            assert all(r.startswith("arn:aws:") for r in as_list(statement["Resource"])), (address, statement)


def test_roles_grant_exactly_what_each_consumer_needs(plan_json: Callable[..., Any]) -> None:
    n = names("local")
    statements = policy_statements(summarize(plan_json("local")))
    by_role: dict[str, dict[str, list[str]]] = {}
    for address, statement in statements:
        role = address.split('"')[1] if '"' in address else address.rsplit(".", 1)[-1]
        for action in as_list(statement["Action"]):
            by_role.setdefault(role, {})[action] = as_list(statement["Resource"])
    assert by_role["serialize_image"]["s3:GetObject"] == [f"arn:aws:s3:::{n['data_bucket']}/data/*"]
    assert by_role["classify_image"]["sagemaker:InvokeEndpoint"] == [
        f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{n['endpoint']}"
    ]
    assert {a for a in by_role["filter_low_confidence"] if not a.startswith(("logs:", "xray:"))} == set()
    machine = by_role["state_machine"]
    assert machine["sns:Publish"] == [n["topic_arn"]]
    invoked = {arn.removesuffix(":*") for arn in machine["lambda:InvokeFunction"]}
    assert invoked == {
        f"{n['function_prefix']}{f}" for f in ("serialize-image", "classify-image", "filter-low-confidence")
    }
    assert "s3:PutObject" in by_role["sagemaker"]


def test_lambdas_carry_endpoint_name_threshold_and_tracing(plan_json: Callable[..., Any]) -> None:
    n = names("local")
    functions = {
        f["function_name"]: f for f in summarize(plan_json("local", **CUSTOM)).of_type("aws_lambda_function").values()
    }
    assert set(functions) == {
        f"{n['prefix']}-{f}" for f in ("serialize-image", "classify-image", "filter-low-confidence")
    }
    classify = functions[f"{n['prefix']}-classify-image"]["environment"][0]["variables"]
    assert classify["ENDPOINT_NAME"] == n["endpoint"]
    assert functions[f"{n['prefix']}-filter-low-confidence"]["environment"][0]["variables"]["THRESHOLD"] == "0.8"
    for function in functions.values():
        assert function["runtime"] == "python3.12"
        assert function["handler"] == "app.handler"
        assert function["tracing_config"][0]["mode"] == "Active"
        assert function["source_code_hash"]


def test_default_threshold_is_the_contracts_0_93(plan_json: Callable[..., Any]) -> None:
    functions = summarize(plan_json("local")).of_type("aws_lambda_function").values()
    filters = [f for f in functions if f["function_name"].endswith("filter-low-confidence")]
    assert filters[0]["environment"][0]["variables"]["THRESHOLD"] == "0.93"


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_state_machine_references_exactly_the_three_functions_and_the_topic(
    plan_json: Callable[..., Any], env: str
) -> None:
    n = names(env)
    machine = summarize(plan_json(env)).one("aws_sfn_state_machine")
    definition = json.loads(machine["definition"])
    states = definition["States"].values()
    functions = {
        s["Parameters"]["FunctionName"] for s in states if s.get("Resource") == "arn:aws:states:::lambda:invoke"
    }
    topics = {s["Parameters"]["TopicArn"] for s in states if s.get("Resource") == "arn:aws:states:::sns:publish"}
    assert functions == {
        f"{n['function_prefix']}{f}" for f in ("serialize-image", "classify-image", "filter-low-confidence")
    }
    assert topics == {n["topic_arn"]}
    assert machine["type"] == "STANDARD"
    assert machine["tracing_configuration"][0]["enabled"] is True
    assert machine["logging_configuration"][0]["level"] == "ALL"


def test_data_capture_and_autoscaling_follow_the_variables(plan_json: Callable[..., Any]) -> None:
    n = names("local")
    plan = summarize(plan_json("local", **CUSTOM))
    config = plan.one("aws_sagemaker_endpoint_configuration")
    capture = config["data_capture_config"][0]
    assert capture["enable_capture"] is True
    assert capture["initial_sampling_percentage"] == 37
    assert {o["capture_mode"] for o in capture["capture_options"]} == {"Input", "Output"}
    assert capture["destination_s3_uri"].startswith(f"s3://{n['capture_bucket']}/")
    assert config["production_variants"][0]["initial_instance_count"] == 2
    target = plan.one("aws_appautoscaling_target")
    assert (target["min_capacity"], target["max_capacity"]) == (2, 5)
    assert target["resource_id"] == f"endpoint/{n['endpoint']}/variant/AllTraffic"
    policy = plan.one("aws_appautoscaling_policy")["target_tracking_scaling_policy_configuration"][0]
    assert (
        policy["predefined_metric_specification"][0]["predefined_metric_type"]
        == "SageMakerVariantInvocationsPerInstance"
    )
    assert plan.one("aws_sagemaker_endpoint")["name"] == n["endpoint"]


def test_without_a_model_nothing_of_sagemaker_is_planned(plan_json: Callable[..., Any]) -> None:
    plan = summarize(plan_json("local", with_model=False))
    # The SageMaker role stays: training needs it before any model exists.
    assert not plan.of_type("aws_sagemaker_model") and not plan.of_type("aws_sagemaker_endpoint_configuration")
    assert not plan.of_type("aws_sagemaker_endpoint") and not plan.of_type("aws_appautoscaling_target")
    assert not plan.of_type("aws_appautoscaling_policy")
    assert plan.outputs["endpoint_name"] == names("local")["endpoint"]
    assert plan.outputs["endpoint_deployed"] is False
    assert plan.counts["aws_lambda_function"] == 3
    assert plan.counts["aws_sfn_state_machine"] == 1
    assert plan.counts["aws_cloudwatch_metric_alarm"] == 9  # no endpoint alarms yet


def _alarms(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        a["alarm_name"].removeprefix("scones-local-"): a
        for a in summarize(plan).of_type("aws_cloudwatch_metric_alarm").values()
    }


def test_alarm_defaults_notify_the_topic(plan_json: Callable[..., Any]) -> None:
    alarms = _alarms(plan_json("local"))
    topic = names("local")["topic_arn"]
    assert set(alarms) == {
        "workflow-failures",
        "workflow-timeouts",
        "low-confidence-share",
        "endpoint-5xx",
        "endpoint-latency-p95",
        *(
            f"{f}-{m}"
            for f in ("serialize-image", "classify-image", "filter-low-confidence")
            for m in ("errors", "throttles")
        ),
    }
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == [topic] and alarm["ok_actions"] == [topic]
    share = alarms["low-confidence-share"]
    assert share["threshold"] == 0.3
    queries = {q["id"]: q for q in share["metric_query"]}
    low = queries["low_confidence"]["metric"][0]
    assert (low["namespace"], low["metric_name"], low["stat"]) == ("SconesUnlimited", "LowConfidence", "Average")
    assert low["dimensions"] == {"FunctionName": "scones-local-filter-low-confidence"}
    assert "predictions >= 20" in queries["share"]["expression"]
    assert alarms["endpoint-latency-p95"]["extended_statistic"] == "p95"
    assert alarms["endpoint-latency-p95"]["threshold"] == 500_000  # 500 ms in microseconds
    assert alarms["endpoint-5xx"]["metric_name"] == "Invocation5XXErrors"
    assert alarms["workflow-timeouts"]["metric_name"] == "ExecutionsTimedOut"
    failed = {q["id"]: q for q in alarms["workflow-failures"]["metric_query"]}
    assert failed["failed"]["metric"][0]["metric_name"] == "ExecutionsFailed"
    assert alarms["classify-image-throttles"]["metric_name"] == "Throttles"
    assert all(
        alarms[f"{f}-errors"]["threshold"] == 0 for f in ("serialize-image", "classify-image", "filter-low-confidence")
    )


def test_alarm_thresholds_follow_the_variables(plan_json: Callable[..., Any]) -> None:
    alarms = _alarms(plan_json("local", **CUSTOM))
    assert alarms["low-confidence-share"]["threshold"] == 0.25
    assert alarms["endpoint-latency-p95"]["threshold"] == 250_000


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"threshold": 1.5}, "threshold must be in (0, 1]"),
        ({"capture_sampling_percentage": 101}, "sampling_percentage must be a whole number from 0 to 100"),
        ({"autoscaling": {"min_capacity": 3, "max_capacity": 2}}, "1 <= min_capacity <= max_capacity"),
        ({"endpoint_instance_type": "m5.large"}, "instance_type must be a SageMaker instance type"),
        ({"model_data_url": "https://example.com/model.tar.gz"}, "model_data_url must be an s3://"),
        ({"alarm_thresholds": {"low_confidence_share": 1.5}}, "low_confidence_share must be in (0, 1]"),
    ],
)
def test_bad_values_are_rejected_before_anything_is_planned(
    tf_root: Callable[[str], tftest.TerraformTest], emulator: Any, override: dict[str, Any], message: str
) -> None:
    tf_vars = base_vars("local", emulator.url, with_model=True) | override
    with pytest.raises(tftest.TerraformTestError) as error:
        tf_root("local").plan(tf_vars=tf_vars)
    assert message in " ".join(str(error.value).split())
