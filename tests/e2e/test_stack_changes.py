"""End to end on the local emulator, for what changes a stack: redeploying another model, changing the
endpoint's instance type, both on a scaled-out endpoint, and switching the workflow to an EXPRESS state
machine (the local root's `state_machine_type`). The module brings up one stack of its own (the real
Terraform and Lambdas with the tiny red/blue model, no training), so the shared stack of test_workflow.py
never changes. Only the redeploy changes the model, the instance-type test compares the answers before and
after its own change, the workflow client runs either type, and each test counts only the notifications it
causes, so any order gives the same results. Stopping the emulator is checked when the stack ends
(tests/support/e2e_stacks.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scones.cli import main as scones_main
from scones.local import control
from scones.local.notifications import sent_bodies, sent_notifications
from scones.workflow import Outcome, run_executions
from tests.support.e2e_stacks import (
    MODEL_IMAGE_URI,
    Stack,
    local_env_copy,
    stack_leftovers,
    tiny_stack,
    upload_artifact,
)
from tests.support.local_fixtures import model_artifact, png

pytestmark = pytest.mark.e2e
pytest.importorskip("torch")
RED_BICYCLE = "data/test/bicycle/red.png"  # the tiny model: red is a bicycle, surely
PURPLE_MOTORCYCLE = "data/test/motorcycle/purple.png"  # equal red and blue: 50/50, below the threshold


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    out = tmp_path_factory.mktemp("stack-changes")
    env_dir = local_env_copy(out / "checkout")
    with tiny_stack(out / "stack", model_artifact(), env_dir=env_dir) as deployed:
        deployed.client("s3").put_object(Bucket=deployed.bucket, Key=RED_BICYCLE, Body=png((250, 10, 10)))
        yield deployed


def _endpoint_answer(stack: Stack, body: bytes) -> list[float]:
    answer = stack.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=stack.deployment.outputs["endpoint_name"], ContentType="image/png", Body=body
    )
    return [float(p) for p in json.loads(answer["Body"].read())]


def _scale_out(stack: Stack, count: int) -> None:
    """What the target-tracking policy does when invocations per instance pass its target."""
    stack.client("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=stack.deployment.outputs["endpoint_name"],
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": count}],
    )
    assert _variant(stack)["DesiredInstanceCount"] == count


def _variant(stack: Stack) -> dict[str, Any]:
    endpoint = stack.client("sagemaker").describe_endpoint(EndpointName=stack.deployment.outputs["endpoint_name"])
    (variant,) = endpoint["ProductionVariants"]
    return dict(variant)


def _autoscaling(stack: Stack) -> tuple[list[dict[str, Any]], list[str]]:
    """The variant's scalable targets and the names of their scaling policies."""
    autoscaling = stack.client("application-autoscaling")
    resource = f"endpoint/{stack.deployment.outputs['endpoint_name']}/variant/AllTraffic"
    targets = autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker", ResourceIds=[resource])
    policies = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=resource)
    return targets["ScalableTargets"], [policy["PolicyName"] for policy in policies["ScalingPolicies"]]


def test_redeploying_another_artifact_serves_it_without_retraining(stack: Stack) -> None:
    """`scones tfvars` with another artifact's URI, then apply: the new model behind the same endpoint."""
    red = png((250, 10, 10))
    before = _endpoint_answer(stack, red)
    assert before[0] > 0.99  # the tiny model: red means bicycle
    ((result, _),) = stack.run(RED_BICYCLE)
    assert result.outcome is Outcome.SUCCEEDED and result.predicted_class == "bicycle"

    old_url = stack.deployment.trained["model_data_url"]
    new_url = upload_artifact(stack.deployment.session(), "swapped/model.tar.gz", model_artifact(swapped=True))
    config = stack.deployment.config
    args = [
        "tfvars", "--env", "local", "--tfvars-dir", str(config.tfvars_dir),
        "--model-data-url", new_url, "--model-image-uri", MODEL_IMAGE_URI,
    ]  # fmt: skip
    tfvars = CliRunner().invoke(scones_main, args)
    assert tfvars.exit_code == 0, tfvars.output
    assert f'model_data_url: "{old_url}" -> "{new_url}"' in tfvars.output
    _scale_out(stack, 2)
    targets, policies = _autoscaling(stack)
    stack.deployment.terraform.apply("terraform apply (redeploy)")
    # A model-only update is allowed with the target registered, and the provider's UpdateEndpoint does
    # not retain variant properties: the scaled-out variant restarts at the config's count, min_capacity
    # (terraform/modules/endpoint/README.md, "Updates of an autoscaled endpoint").
    assert _autoscaling(stack) == (targets, policies)
    assert (_variant(stack)["CurrentInstanceCount"], _variant(stack)["DesiredInstanceCount"]) == (1, 1)

    sagemaker = stack.client("sagemaker")
    endpoint = stack.deployment.outputs["endpoint_name"]
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    # The redeploy was local's blue/green deployment (all at once, no bake), watched by the endpoint's alarms,
    # and it completed: no rollback (docs/emulator.md, "SageMaker endpoint deployments").
    deployment = described["LastDeploymentConfig"]
    assert deployment["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"
    assert {a["AlarmName"] for a in deployment["AutoRollbackConfiguration"]["Alarms"]} == {
        "scones-local-endpoint-5xx",
        "scones-local-endpoint-latency-p95",
    }
    assert described["EndpointStatus"] == "InService" and "FailureReason" not in described
    config_name = described["EndpointConfigName"]
    variant = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"][0]
    assert sagemaker.describe_model(ModelName=variant["ModelName"])["PrimaryContainer"]["ModelDataUrl"] == new_url
    # The swapped model's answer, not the old one's: red now means motorcycle.
    assert _endpoint_answer(stack, red) == pytest.approx(before[::-1], abs=1e-6)
    ((result, _),) = stack.run(RED_BICYCLE)
    assert result.outcome is Outcome.SUCCEEDED and result.predicted_class == "motorcycle"
    assert result.probabilities == pytest.approx(before[::-1], abs=1e-6)
    # The Lambda sandboxes and both models' servers run now; the stack's end stops them all.
    assert [pid for pid in control.processes_in_group(stack.daemon_pid) if pid != stack.daemon_pid]


def test_changing_the_instance_type_of_a_scaled_out_endpoint_succeeds_in_one_apply(stack: Stack) -> None:
    """SageMaker refuses the update while the variant is a scalable target; the module deregisters it
    (policy first), updates the endpoint and registers it again, in one apply."""
    red = _endpoint_answer(stack, png((250, 10, 10)))
    _scale_out(stack, 2)
    (target,), policies = _autoscaling(stack)
    assert policies
    (stack.deployment.config.env_dir / "instance_type_override.tf").write_text(
        'module "stack" {\n  endpoint_instance_type = "ml.m5.xlarge"\n}\n'
    )
    stack.deployment.terraform.apply("terraform apply (instance type)")

    sagemaker = stack.client("sagemaker")
    config_name = sagemaker.describe_endpoint(EndpointName=stack.deployment.outputs["endpoint_name"])[
        "EndpointConfigName"
    ]
    (variant,) = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
    assert variant["InstanceType"] == "ml.m5.xlarge"
    (again,), policies_again = _autoscaling(stack)
    assert (again["MinCapacity"], again["MaxCapacity"]) == (target["MinCapacity"], target["MaxCapacity"])
    assert again["ScalableTargetARN"] != target["ScalableTargetARN"]  # registered anew
    assert policies_again == policies
    assert _variant(stack)["DesiredInstanceCount"] == 1  # the new config's InitialInstanceCount
    assert _endpoint_answer(stack, png((250, 10, 10))) == pytest.approx(red, abs=1e-6)  # the same model serves


def test_an_express_workflow_classifies_and_rejects_through_the_workflow_client_and_invoke(
    stack: Stack, tmp_path: Path
) -> None:
    """Step Functions does not describe Express executions, so `scones invoke` and the workflow client run
    them with StartSyncExecution. (The STANDARD type is what test_workflow.py's stack runs.)"""
    stack.deployment.config.extra_vars["state_machine_type"] = "EXPRESS"  # and in every later apply
    stack.deployment.terraform.apply("terraform apply (EXPRESS)")
    outputs = stack.deployment.outputs
    sfn = stack.client("stepfunctions")
    machine = outputs["state_machine_arn"]
    assert sfn.describe_state_machine(stateMachineArn=machine)["type"] == "EXPRESS"
    stack.client("s3").put_object(Bucket=stack.bucket, Key=PURPLE_MOTORCYCLE, Body=png((128, 0, 128)))
    topic = outputs["sns_topic_arn"]
    before = len(sent_notifications(stack.deployment.url, topic))

    keys = [RED_BICYCLE, PURPLE_MOTORCYCLE]
    confident, unsure = run_executions(sfn, machine, stack.bucket, keys, timeout_seconds=120)
    assert confident.outcome is Outcome.SUCCEEDED and confident.duration_ms is not None
    assert ":express:" in confident.execution_arn
    assert unsure.outcome is Outcome.LOW_CONFIDENCE and unsure.error == "ThresholdConfidenceNotMetError"
    assert unsure.details is not None and unsure.details.s3_key == PURPLE_MOTORCYCLE
    notified = sent_bodies(stack.deployment.url, topic, since=before)
    assert [(n["event"], n["s3_key"]) for n in notified] == [("low_confidence", PURPLE_MOTORCYCLE)]
    with pytest.raises(sfn.exceptions.InvalidArn):  # why the client cannot poll an Express execution
        sfn.describe_execution(executionArn=confident.execution_arn)

    summary = tmp_path / "invoke.json"
    args = [
        "invoke", "--count", "2", "--seed", "1", "--state-machine-arn", machine, "--bucket", stack.bucket,
        "--endpoint-url", stack.deployment.config.url, "--json", str(summary), "--strict",
    ]  # fmt: skip
    invoked = CliRunner().invoke(scones_main, args)
    assert invoked.exit_code == 0, invoked.output
    counts = json.loads(summary.read_text())
    assert (counts["succeeded"], counts["low_confidence"], counts["failed"], counts["timed_out"]) == (1, 1, 0, 0)


def test_the_outputs_name_what_was_made_and_destroy_leaves_nothing(stack: Stack) -> None:
    """Last in this module: it destroys the stack. The stack derives its ARNs (IAM policies, the state machine
    definition and the alarms' dimensions use them at plan time); they must be the ones the resources got."""
    outputs, session = stack.deployment.outputs, stack.deployment.session()
    region_account = "us-east-1:123456789012"
    assert outputs["sns_topic_arn"] == f"arn:aws:sns:{region_account}:scones-local-notifications"
    assert outputs["state_machine_arn"] == f"arn:aws:states:{region_account}:stateMachine:scones-local-classify-image"
    assert outputs["stack"]["batch_state_machine_arn"].endswith(":stateMachine:scones-local-classify-batch")
    made = stack_leftovers(session)
    assert sorted(made["state_machines"]) == [
        "scones-local-classify-api", "scones-local-classify-batch", "scones-local-classify-image"
    ]  # fmt: skip
    assert made["rest_apis"] == ["scones-local-api"] and made["usage_plans"] == ["scones-local-api-local"]
    assert made["endpoints"] == ["scones-local-classifier"]
    functions = {f"scones-local-{name.replace('_', '-')}" for name in outputs["lambda_function_arns"]}
    assert set(made["functions"]) == functions
    endpoint_logs = session.client("logs").describe_log_groups(logGroupNamePrefix="/aws/sagemaker/Endpoints/")
    assert [(g["logGroupName"], g.get("retentionInDays")) for g in endpoint_logs["logGroups"]] == [
        ("/aws/sagemaker/Endpoints/scones-local-classifier", 7)
    ]

    stack.deployment.terraform.destroy("terraform destroy")
    assert stack.deployment.terraform.resources() == []
    # The registry's group too (it has no versions here), and the versioned buckets with their objects.
    assert {kind: names for kind, names in stack_leftovers(session).items() if names} == {}
