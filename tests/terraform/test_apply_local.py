"""Apply envs/local to the emulator, release a model registry version to it (served), plan again (no drift),
destroy (nothing left).

Applying is not planning: this test drives terraform itself against the in-process emulator (the `emulator`
fixture, LocalAWS), with its own state. The plan tests' emulator is the plan-testing plugin's own process on
another port, so both run in one session.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
import tftest

from scones.aws import make_session
from scones.local.server import LocalAWS
from scones.release import registry
from tests.support.local_fixtures import model_artifact, png
from tests.terraform.conftest import MODEL_IMAGE, PARALLELISM, base_vars, copy_terraform, terraform_binary

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
    # First the stack without a model (what a fresh environment applies before its first release), then a
    # release: a version of the stack's registry, which the endpoint is created from. (Deploying an artifact by
    # model_data_url is applied by every e2e stack, tests/support/e2e_stacks.py.)
    tf.apply(tf_vars=base_vars("local", aws.url, with_model=False), parallelism=PARALLELISM)
    version = _register_version(aws.url, tf.output()["stack"])
    tf_vars = base_vars("local", aws.url, with_model=False) | {"model_package_arn": version}
    tf.apply(tf_vars=tf_vars, parallelism=PARALLELISM)

    outputs = tf.output()
    assert outputs["endpoint_deployed"] is True and outputs["stack"]["model_package_arn"] == version
    assert set(outputs["lambda_function_arns"]) == {"serialize_image", "classify_image", "filter_low_confidence"}
    # The stack derives these ARNs (IAM policies, the state machine definition, the alarms' dimensions use
    # them at plan time): they must be the ARNs the resources really got.
    assert outputs["sns_topic_arn"] == f"arn:aws:sns:us-east-1:123456789012:{PREFIX}-notifications"
    assert outputs["state_machine_arn"] == f"arn:aws:states:us-east-1:123456789012:stateMachine:{PREFIX}-classify-image"
    made = _leftovers(aws.url)
    assert made["endpoints"] == [f"{PREFIX}-classifier"] and len(made["alarms"]) == 12
    logs = boto3.client("logs", endpoint_url=aws.url, region_name="us-east-1")
    endpoint_logs = logs.describe_log_groups(logGroupNamePrefix="/aws/sagemaker/Endpoints/")["logGroups"]
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in endpoint_logs] == [
        (f"/aws/sagemaker/Endpoints/{PREFIX}-classifier", 7)
    ]

    answer = boto3.client("sagemaker-runtime", endpoint_url=aws.url, region_name="us-east-1").invoke_endpoint(
        EndpointName=f"{PREFIX}-classifier", ContentType="image/png", Body=png((0, 0, 255))
    )
    probabilities = json.loads(answer["Body"].read())
    assert probabilities[1] > probabilities[0]  # the version's model: blue is a motorcycle

    # No drift: the provider reads the model back as it was created, from the package.
    _assert_no_drift(root, tf_env, tf_vars)
    # SageMaker deletes no group that has versions: a stack's destroy follows the deletion of its versions.
    boto3.client("sagemaker", endpoint_url=aws.url, region_name="us-east-1").delete_model_package(
        ModelPackageName=version
    )

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


def _assert_no_drift(root: Path, tf_env: dict[str, str], tf_vars: dict[str, Any]) -> None:
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


def _register_version(url: str, stack: dict[str, Any]) -> str:
    """An approved version of the stack's registry: the tiny model, registered as a release registers it."""
    bucket = stack["data_bucket_name"]
    key = f"{stack['models_prefix']}/registry/model.tar.gz"
    boto3.client("s3", endpoint_url=url, region_name="us-east-1").put_object(
        Bucket=bucket, Key=key, Body=model_artifact()
    )
    version, _ = registry.register(
        make_session(endpoint_url=url, region="us-east-1"),
        group=stack["model_package_group_name"],
        model_data_url=f"s3://{bucket}/{key}",
        image_uri=MODEL_IMAGE.format(region="us-east-1"),
        environment={},
        metrics={},
        source="test_apply_local",
        approval=registry.APPROVED,
    )
    return version.arn
