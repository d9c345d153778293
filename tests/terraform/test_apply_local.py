"""Apply envs/local to the emulator, plan again (no drift), destroy (nothing left: the model registry's group
too, which has no versions here).

A stack serving a registry version is applied, re-planned (no changes) and served by the release tests
(tests/e2e/test_release.py: the first release deploys a version, the second plans no changes).

Applying is not planning: this test drives terraform itself against the in-process emulator (the `emulator`
fixture, LocalAWS), with its own state. The plan tests' emulator is the plan-testing plugin's own process on
another port, so both run in one session.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
import tftest

from scones.local.server import LocalAWS
from tests.terraform.conftest import PARALLELISM, base_vars, copy_terraform, terraform_binary

pytestmark = pytest.mark.terraform

PREFIX = "scones-local"


def _leftovers(url: str) -> dict[str, list[str]]:
    """Everything named after this stack that the emulator still holds."""

    def client(service: str) -> Any:
        return boto3.client(service, endpoint_url=url, region_name="us-east-1")

    sagemaker = client("sagemaker")
    return {
        "buckets": [b["Name"] for b in client("s3").list_buckets()["Buckets"] if b["Name"].startswith(PREFIX)],
        "roles": [r["RoleName"] for r in client("iam").list_roles()["Roles"] if r["RoleName"].startswith(PREFIX)],
        "functions": [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]],
        "state_machines": [m["name"] for m in client("stepfunctions").list_state_machines()["stateMachines"]],
        "topics": [t["TopicArn"] for t in client("sns").list_topics()["Topics"]],
        "queues": client("sqs").list_queues().get("QueueUrls", []),
        "alarms": [a["AlarmName"] for a in client("cloudwatch").describe_alarms()["MetricAlarms"]],
        "log_groups": [g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]],
        "models": [m["ModelName"] for m in sagemaker.list_models()["Models"]],
        "endpoint_configs": [c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]],
        "endpoints": [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]],
        "model_package_groups": [
            g["ModelPackageGroupName"] for g in sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
        ],
        "scalable_targets": [
            t["ResourceId"]
            for t in client("application-autoscaling").describe_scalable_targets(ServiceNamespace="sagemaker")[
                "ScalableTargets"
            ]
        ],
    }


def test_apply_then_plan_shows_no_changes_then_destroy_leaves_nothing(
    tf_tree: Path, tf_env: dict[str, str], emulator: LocalAWS, tmp_path: Path
) -> None:
    # Its own copy of the root, so the plan tests (which keep no state) never see this state.
    root = copy_terraform(tf_tree, tmp_path)
    aws = emulator
    tf = tftest.TerraformTest(str(root / "envs" / "local"), binary=terraform_binary(), env=tf_env)
    tf.setup(cleanup_on_exit=False)
    tf_vars = base_vars("local", aws.url, with_model=True)
    tf.apply(tf_vars=tf_vars, parallelism=PARALLELISM)

    outputs = tf.output()
    assert outputs["endpoint_deployed"] is True
    assert set(outputs["lambda_function_arns"]) == {
        "serialize_image", "classify_image", "filter_low_confidence", "start_classification", "classify_api"
    }  # fmt: skip
    # The stack derives these ARNs (IAM policies, the state machine definition, the alarms' dimensions use
    # them at plan time): they must be the ARNs the resources really got.
    assert outputs["sns_topic_arn"] == f"arn:aws:sns:us-east-1:123456789012:{PREFIX}-notifications"
    assert outputs["state_machine_arn"] == f"arn:aws:states:us-east-1:123456789012:stateMachine:{PREFIX}-classify-image"
    batch_name = outputs["stack"]["batch_state_machine_arn"].rsplit(":", 1)[-1]
    assert outputs["stack"]["batch_state_machine_arn"].startswith("arn:aws:states:us-east-1:123456789012:stateMachine:")
    assert batch_name == f"{PREFIX}-classify-batch"
    made = _leftovers(aws.url)
    assert sorted(made["state_machines"]) == [f"{PREFIX}-classify-api", batch_name, f"{PREFIX}-classify-image"]
    # 12, the starter's two, the API function's two and the API's three (4xx rate, 5xx rate, p95 latency)
    assert made["endpoints"] == [f"{PREFIX}-classifier"] and len(made["alarms"]) == 19
    logs = boto3.client("logs", endpoint_url=aws.url, region_name="us-east-1")
    endpoint_logs = logs.describe_log_groups(logGroupNamePrefix="/aws/sagemaker/Endpoints/")["logGroups"]
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in endpoint_logs] == [
        (f"/aws/sagemaker/Endpoints/{PREFIX}-classifier", 7)
    ]

    args = [f"-var={k}={v}" for k, v in tf_vars.items()]
    replan = subprocess.run(
        [
            terraform_binary(),
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            f"-parallelism={PARALLELISM}",
            *args,
        ],
        cwd=root / "envs" / "local",
        env=tf_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert replan.returncode == 0, f"drift after apply (exit {replan.returncode}):\n{replan.stdout}\n{replan.stderr}"

    tf.destroy(tf_vars=tf_vars, parallelism=PARALLELISM)
    assert not subprocess.run(
        [terraform_binary(), "state", "list"],
        cwd=root / "envs" / "local",
        env=tf_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert {kind: names for kind, names in _leftovers(aws.url).items() if names} == {}
