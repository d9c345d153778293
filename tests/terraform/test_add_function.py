"""Adding a Lambda function is a folder under lambdas/, one entry in the stack's functions map and its
state in the ASL: nothing in any module names a function."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from scones.build_lambdas import build_all
from scones.plan_testing import Plan, assert_least_privilege
from tests.terraform.conftest import ASL, REPO

pytestmark = pytest.mark.terraform

KEY = "tag_image"
PREFIX = "scones-local"
# The one map entry, as a developer would write it into terraform/modules/stack/main.tf.
ENTRY = """    tag_image = {
      timeout     = 5
      environment = { TAG = "bicycle" }
      policy_statements = [
        { sid = "ReadImageTags", actions = ["s3:GetObjectTagging"], resources = ["${local.data_bucket_arn}/data/*"] },
      ]
    }
"""
MARKER = "  functions = {\n"


@pytest.fixture(scope="module")
def fourth_function(tf_tree: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A copy of lambdas/ with one more folder, its zips, a copy of the modules with one more map entry,
    and a copy of the ASL with one more state."""
    work = tmp_path_factory.mktemp("fourth")
    lambdas = work / "lambdas"
    shutil.copytree(REPO / "lambdas", lambdas, ignore=shutil.ignore_patterns("__pycache__"))
    (lambdas / KEY).mkdir()
    (lambdas / KEY / "app.py").write_text('def handler(event, context):\n    return {**event, "tagged": True}\n')
    packages = work / "build"
    # build-lambdas discovers the new folder: nothing lists the functions.
    assert f"{KEY}.zip" in {path.name for path in build_all(lambdas, packages)}

    modules = work / "modules"
    shutil.copytree(tf_tree / "modules", modules)
    stack = modules / "stack" / "main.tf"
    text = stack.read_text()
    # The map is the first `functions = {` of the file, in its locals (the module calls come after).
    assert -1 < text.find(MARKER) < text.index('module "'), "the stack's functions map moved: update MARKER"
    stack.write_text(text.replace(MARKER, MARKER + ENTRY, 1))

    definition = json.loads(ASL.read_text())
    serialize = definition["States"]["SerializeImage"]
    definition["States"]["TagImage"] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": f"${{{KEY}_arn}}", "Payload.$": "$"},
        "OutputPath": "$.Payload",
        "Next": serialize["Next"],
    }
    serialize["Next"] = "TagImage"
    asl = work / "classify_image.asl.json"
    asl.write_text(json.dumps(definition, indent=2))
    return {"modules": modules, "packages": packages, "asl": asl}


def test_a_fourth_function_gets_its_function_role_logs_alarms_and_workflow_state(
    stack_plan: Callable[..., Plan], fourth_function: dict[str, Path]
) -> None:
    plan = stack_plan(
        fourth_function["modules"],
        lambda_package_dir=str(fourth_function["packages"]),
        state_machine_definition=str(fourth_function["asl"]),
    )
    name = f"{PREFIX}-tag-image"
    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"

    function = plan.resources[f'module.stack.module.lambdas.aws_lambda_function.this["{KEY}"]'].values
    assert function["function_name"] == name
    assert (function["timeout"], function["memory_size"]) == (5, 128)  # memory_size left out: the default
    assert function["environment"][0]["variables"] == {"TAG": "bicycle", "LOG_LEVEL": "INFO"}
    # Its zip goes to the data bucket, and the function deploys from there.
    package = plan.resources[f'module.stack.module.lambdas.aws_s3_object.package["{KEY}"]'].values
    assert package["source"] == str(fourth_function["packages"] / f"{KEY}.zip")
    assert (function["s3_bucket"], function["s3_key"]) == (package["bucket"], package["key"])
    assert package["key"] == f"lambda-packages/{KEY}.zip"

    assert plan.resources[f'module.stack.module.iam.aws_iam_role.lambda["{KEY}"]'].values["name"] == name
    grants = {
        statement.sid: statement
        for statement in plan.policy_statements()
        if statement.address.endswith(f'aws_iam_role_policy.lambda["{KEY}"]')
    }
    assert set(grants) == {"WriteOwnLogs", "XRayTraces", "ReadImageTags"}
    assert grants["ReadImageTags"].actions == ("s3:GetObjectTagging",)
    (log_group,) = grants["WriteOwnLogs"].resources
    assert log_group.endswith(f":log-group:/aws/lambda/{name}:*")
    machine_grants = [s for s in plan.policy_statements() if s.address.endswith("aws_iam_role_policy.state_machine")]
    invoke = next(s for s in machine_grants if s.sid == "InvokeWorkflowFunctions")
    assert {arn, f"{arn}:*"} <= set(invoke.resources)
    # The developer's own statement is held to the same standard as the stack's.
    assert_least_privilege(plan)

    group = plan.resources[f'module.stack.module.lambdas.aws_cloudwatch_log_group.this["{KEY}"]'].values
    assert (group["name"], group["retention_in_days"]) == (f"/aws/lambda/{name}", 7)

    alarms = {a["alarm_name"]: a for a in plan.of_type("aws_cloudwatch_metric_alarm").values()}
    for metric in ("errors", "throttles"):
        alarm = alarms[f"{PREFIX}-tag-image-{metric}"]
        assert alarm["dimensions"] == {"FunctionName": name}
    # The drift alarm still watches the judging functions only (the filter and the batch's chunk function),
    # whatever functions there are.
    share = alarms[f"{PREFIX}-low-confidence-share"]["metric_query"]
    assert {q["metric"][0]["dimensions"]["FunctionName"] for q in share if q["metric"]} == {
        f"{PREFIX}-filter-low-confidence",
        f"{PREFIX}-classify-chunk",
    }
    # The dashboard draws its errors and throttles, and its alarms are in the alarm status widget.
    widgets = json.loads(plan.one("aws_cloudwatch_dashboard")["dashboard_body"])["widgets"]
    drawn = [m for w in widgets if w["type"] == "metric" for m in w["properties"]["metrics"]]
    assert ["AWS/Lambda", "Errors", "FunctionName", name, {"label": "Errors"}] in drawn
    assert ["AWS/Lambda", "Throttles", "FunctionName", name, {"label": "Throttles"}] in drawn
    (listed,) = [w["properties"]["alarms"] for w in widgets if w["type"] == "alarm"]
    assert {arn.rsplit(":", 1)[-1] for arn in listed} == set(alarms)

    workflow = plan.of_type("aws_sfn_state_machine")["module.stack.module.workflow.aws_sfn_state_machine.this"]
    states = json.loads(workflow["definition"])["States"]
    assert states["TagImage"]["Parameters"]["FunctionName"] == arn
    assert plan.types()["aws_lambda_function"] == 7  # the six of the stack and this one
