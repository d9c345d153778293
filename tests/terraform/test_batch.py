"""The batch entry point in the plan (issue 20): a Distributed Map over a prefix of the data bucket whose items run
the classification workflow's three task states, its settings from the stack's variables, and a role that may do
exactly what the Map needs. The defaults come from the roots' shared default plans; one plan of its own turns every
knob, and one holds every bad value (Terraform reports each refused variable)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scones.plan_testing import Plan
from tests.terraform.conftest import DEV_KMS_KEY, ENV_SETTINGS
from tests.terraform.test_plans import CUSTOM

pytestmark = pytest.mark.terraform

ASL = Path(__file__).resolve().parents[2] / "asl" / "classify_image.asl.json"
BATCH = "module.stack.module.batch"
TASKS = ("SerializeImage", "ClassifyImage", "FilterLowConfidence")


def _definition(plan: Plan) -> dict[str, Any]:
    machines = plan.of_type("aws_sfn_state_machine")
    return json.loads(machines[f"{BATCH}.aws_sfn_state_machine.this"]["definition"])


def _function_arn(env: str, key: str) -> str:
    settings = ENV_SETTINGS[env]
    return f"arn:aws:lambda:{settings['region']}:{settings['account']}:function:scones-{env}-{key.replace('_', '-')}"


def _map(plan: Plan) -> dict[str, Any]:
    return _definition(plan)["States"]["ClassifyPrefix"]


def _chunked(plan: Plan) -> bool:
    return "ItemBatcher" in _map(plan)


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_each_environment_has_a_batch_machine_whose_items_run_the_workflows_task_states(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    plan = env_plan(env)
    machine = plan.of_type("aws_sfn_state_machine")[f"{BATCH}.aws_sfn_state_machine.this"]
    assert machine["name"] == f"scones-{env}-classify-batch" and machine["type"] == "STANDARD"
    log_group = plan.of_type("aws_cloudwatch_log_group")[f"{BATCH}.aws_cloudwatch_log_group.this"]
    assert log_group["name"] == f"/aws/vendedlogs/states/scones-{env}-classify-batch"
    assert log_group["retention_in_days"] > 0
    stack = plan.outputs["stack"]
    assert stack["batch_state_machine_arn"].endswith(f":stateMachine:scones-{env}-classify-batch")

    step = _map(plan)
    bucket = stack["data_bucket_name"]
    assert step["ItemReader"]["Resource"] == "arn:aws:states:::s3:listObjectsV2"
    assert step["ItemReader"]["Parameters"] == {"Bucket": bucket, "Prefix.$": "$.prefix"}
    assert step["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    assert step["ResultWriter"]["Parameters"] == {"Bucket": bucket, "Prefix": "batch-results"}
    # Defaults: 10,000 items, 10 % failures tolerated, 20 children per instance of autoscaling's max capacity.
    assert step["ItemReader"]["ReaderConfig"] == {"MaxItems": 10000}
    assert step["ToleratedFailurePercentage"] == 10
    assert step["MaxConcurrency"] == 20 * plan.one("aws_appautoscaling_target")["max_capacity"]

    # Every root runs the chunked variant (the batch module's default); CUSTOM plans the per-item design.
    _assert_chunked(env, plan, step, step["ItemProcessor"]["States"], json.loads(ASL.read_text())["States"])


def test_one_image_per_child_runs_the_workflows_three_task_states(stack_plan: Callable[..., Plan]) -> None:
    plan, env = stack_plan(**CUSTOM), "local"  # CUSTOM: batch_items_per_chunk 1
    assert not _chunked(plan)
    step = _map(plan)
    bucket = step["ItemReader"]["Parameters"]["Bucket"]
    classification = json.loads(ASL.read_text())["States"]
    items = step["ItemProcessor"]["States"]
    assert step["ItemProcessor"]["StartAt"] == "SerializeImage"
    assert "ItemBatcher" not in step
    assert step["ItemSelector"] == {"s3_bucket": bucket, "s3_key.$": "$$.Map.Item.Value.Key", "image_data": ""}
    # Each task state as the classification ASL has it (resource, timeout, retries), only the function ARN filled in.
    for name in TASKS:
        ours, theirs = items[name], classification[name]
        assert ours["Retry"] == theirs["Retry"] and ours["TimeoutSeconds"] == theirs["TimeoutSeconds"]
        assert ours["Resource"] == theirs["Resource"] and ours["OutputPath"] == theirs["OutputPath"]
        key = re.fullmatch(r"\$\{(\w+)_arn\}", theirs["Parameters"]["FunctionName"])[1]  # type: ignore[index]
        assert ours["Parameters"]["FunctionName"] == _function_arn(env, key)
    # A rejection is a result; any other error fails the item with its own name (no catch-all, no notification).
    catches = {error for c in items["FilterLowConfidence"]["Catch"] for error in c["ErrorEquals"]}
    assert catches == {"ThresholdConfidenceNotMetError", "OutOfDistributionError"}
    assert "Catch" not in items["SerializeImage"] and "Catch" not in items["ClassifyImage"]
    assert not any(
        state["Resource"].startswith("arn:aws:states:::sns") for state in items.values() if "Resource" in state
    )


def _assert_chunked(
    env: str, plan: Plan, step: dict[str, Any], items: dict[str, Any], classification: dict[str, Any]
) -> None:
    """The chunked variant: the ItemBatcher hands each child a chunk of keys with the bucket once, in BatchInput,
    and the child is one task, classify_chunk, with ClassifyImage's resource and retries and its own timeout."""
    bucket = plan.outputs["stack"]["data_bucket_name"]
    size = int(plan.outputs["stack"]["batch_items_per_chunk"])
    assert step["ItemBatcher"] == {"MaxItemsPerBatch": size, "BatchInput": {"s3_bucket": bucket}}
    assert step["ItemSelector"] == {"s3_key.$": "$$.Map.Item.Value.Key"}
    assert step["ItemProcessor"]["StartAt"] == "ClassifyChunk" and list(items) == ["ClassifyChunk"]
    chunk = items["ClassifyChunk"]
    assert chunk["Resource"] == classification["ClassifyImage"]["Resource"]
    assert chunk["Retry"] == classification["ClassifyImage"]["Retry"]
    assert chunk["Parameters"] == {"FunctionName": _function_arn(env, "classify_chunk"), "Payload.$": "$"}
    assert chunk["OutputPath"] == "$.Payload" and chunk["End"] is True
    # No catch: a chunk's failure (the endpoint's, a misconfigured function's) fails each of its items by name.
    assert "Catch" not in chunk
    functions = {f["function_name"]: f for f in plan.of_type("aws_lambda_function").values()}
    assert chunk["TimeoutSeconds"] == functions[f"scones-{env}-classify-chunk"]["timeout"]


def test_the_chunked_variant_is_every_root_s_and_one_image_per_child_a_setting(
    env_plan: Callable[[str], Plan], stack_plan: Callable[..., Plan]
) -> None:
    """The chunked variant measured faster (docs/batch.md): every root runs it, 10 images per chunk (the
    batch module's default); batch_items_per_chunk 1 is the per-item design (the end-to-end test runs both)."""
    assert {int(env_plan(env).outputs["stack"]["batch_items_per_chunk"]) for env in ("local", "dev", "prod")} == {10}
    assert not _chunked(stack_plan(**CUSTOM))


def test_the_chunk_function_reads_only_the_batch_input_prefix_and_calls_only_the_endpoint(
    env_plan: Callable[[str], Plan],
) -> None:
    plan = env_plan("dev")  # with a customer-managed key
    stack = plan.outputs["stack"]
    bucket = f"arn:aws:s3:::{stack['data_bucket_name']}"
    functions = plan.of_type("aws_lambda_function")
    variables = {
        key: functions[f'module.stack.module.lambdas.aws_lambda_function.this["{key}"]']["environment"][0]["variables"]
        for key in ("classify_chunk", "classify_image", "filter_low_confidence")
    }
    # The same endpoint as ClassifyImage and the same threshold as FilterLowConfidence.
    assert variables["classify_chunk"] == {
        "ENDPOINT_NAME": variables["classify_image"]["ENDPOINT_NAME"],
        "THRESHOLD": variables["filter_low_confidence"]["THRESHOLD"],
    } | {k: v for k, v in variables["classify_chunk"].items() if k not in ("ENDPOINT_NAME", "THRESHOLD")}
    endpoint_name = variables["classify_image"]["ENDPOINT_NAME"]
    statements = {
        s.sid: (set(s.actions), set(s.resources))
        for s in plan.policy_statements()
        if s.address == 'module.stack.module.iam.aws_iam_role_policy.lambda["classify_chunk"]'
    }
    statements.pop("WriteOwnLogs")
    statements.pop("XRayTraces")
    endpoint = f"arn:aws:sagemaker:eu-west-1:111111111111:endpoint/{endpoint_name}"
    assert statements == {
        "ReadBatchImages": ({"s3:GetObject"}, {f"{bucket}/data/*"}),
        "InvokeEndpoint": ({"sagemaker:InvokeEndpoint"}, {endpoint}),
        "DecryptImages": ({"kms:Decrypt"}, {DEV_KMS_KEY}),
    }


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_the_batch_role_may_do_exactly_what_the_distributed_map_needs(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    settings = ENV_SETTINGS[env]
    plan = env_plan(env)
    arn = f"arn:aws:states:{settings['region']}:{settings['account']}"
    machine = f"scones-{env}-classify-batch"
    bucket = f"arn:aws:s3:::{plan.outputs['stack']['data_bucket_name']}"
    # The design's functions only: classify_chunk for the chunked variant, else the three.
    keys = ("classify_chunk",) if _chunked(plan) else ("serialize_image", "classify_image", "filter_low_confidence")
    functions = [_function_arn(env, key) for key in keys]
    address = f"{BATCH}.aws_iam_role_policy.this"
    statements = {s.sid: s for s in plan.policy_statements() if s.address == address}
    grants = {sid: (set(s.actions), set(s.resources)) for sid, s in statements.items()}
    logs_and_traces = {sid: grants.pop(sid) for sid in ("DeliverExecutionLogs", "XRayTraces")}
    assert all(resources == {"*"} for _, resources in logs_and_traces.values())  # no resource-level permissions
    grants.pop("EncryptResults", None)  # only with a customer-managed key (prod)
    assert grants == {
        "StartChildWorkflows": ({"states:StartExecution"}, {f"{arn}:stateMachine:{machine}"}),
        "ManageChildWorkflows": (
            {"states:DescribeExecution", "states:StopExecution"},
            {f"{arn}:execution:{machine}/*", f"{arn}:express:{machine}/*"},
        ),
        "ListInputPrefix": ({"s3:ListBucket"}, {bucket}),
        "WriteResults": ({"s3:PutObject"}, {f"{bucket}/batch-results/*"}),
        "InvokeClassificationFunctions": ({"lambda:InvokeFunction"}, {*functions, *(f"{f}:*" for f in functions)}),
    }
    # Listing only under the data prefix, where SerializeImage may read.
    assert statements["ListInputPrefix"].condition == {"StringLike": {"s3:prefix": "data/*"}}
    role = plan.of_type("aws_iam_role")[f"{BATCH}.aws_iam_role.this"]
    assert role["name"] == machine
    assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "states.amazonaws.com"}


def test_the_batch_settings_come_from_the_stacks_variables(stack_plan: Callable[..., Plan]) -> None:
    plan = stack_plan(**CUSTOM)  # CUSTOM sets every batch setting
    step = _map(plan)
    assert step["ItemReader"]["ReaderConfig"] == {"MaxItems": 250}
    assert step["ToleratedFailurePercentage"] == 0
    assert step["MaxConcurrency"] == 7
    assert step["ResultWriter"]["Parameters"]["Prefix"] == "reports/batches"
    writes = [s for s in plan.policy_statements() if s.sid == "WriteResults"]
    assert [s.resources for s in writes] == [
        (f"arn:aws:s3:::{step['ResultWriter']['Parameters']['Bucket']}/reports/batches/*",)
    ]
    # One image per child: the role invokes the workflow's three functions, not classify_chunk.
    (invoke,) = [s for s in plan.policy_statements() if s.sid == "InvokeClassificationFunctions"]
    functions = [_function_arn("local", key) for key in ("serialize_image", "classify_image", "filter_low_confidence")]
    assert set(invoke.resources) == {*functions, *(f"{f}:*" for f in functions)}


def test_the_batch_concurrency_follows_the_endpoints_max_capacity_when_not_given(
    env_plan: Callable[[str], Plan],
) -> None:
    # prod's endpoint scales to 4 instances: 20 children each.
    assert _map(env_plan("prod"))["MaxConcurrency"] == 80


def test_the_built_in_algorithm_runs_one_image_per_child_unless_told_otherwise(
    stack_plan: Callable[..., Plan],
) -> None:
    """It does not answer the chunk's batch requests: unset, its batch runs the per-item design; a chunk size given
    for it is refused (refusals.py, chunked_batch_on_the_builtin_algorithm)."""
    image = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"  # as test_plans.py plans it
    step = _map(stack_plan(model_image_uri=image))
    assert "ItemBatcher" not in step and step["ItemProcessor"]["StartAt"] == "SerializeImage"
