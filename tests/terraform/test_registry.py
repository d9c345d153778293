"""The model registry in the plan: the group, the release pipeline's policy, and an endpoint that serves a version
of it (issue 19). Two plans of their own (a version deployed; a version given with an artifact, from another
group); the rest reads the roots' shared default plans."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from scones.plan_testing import Plan, PlanRejected
from tests.terraform.conftest import ENV_SETTINGS, terraform_message

pytestmark = pytest.mark.terraform

RELEASE_POLICY = "module.stack.module.registry.aws_iam_policy.release"


def _version_arn(env: str, version: int = 3, group: str | None = None) -> str:
    settings = ENV_SETTINGS[env]
    group = group or f"scones-{env}-models"
    return f"arn:aws:sagemaker:{settings['region']}:{settings['account']}:model-package/{group}/{version}"


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_each_environment_has_its_own_tagged_model_registry(env_plan: Callable[[str], Plan], env: str) -> None:
    plan = env_plan(env)
    group = plan.one("aws_sagemaker_model_package_group")
    assert group["model_package_group_name"] == f"scones-{env}-models"
    assert group["tags_all"] == {"Project": "scones-unlimited", "Environment": f"scones-{env}"}  # provider default_tags
    stack = plan.outputs["stack"]
    assert stack["model_package_group_name"] == f"scones-{env}-models"
    assert stack["model_package_arn"] is None  # the default plans deploy model_data_url
    assert plan.one("aws_sagemaker_model")["primary_container"][0]["model_package_name"] is None


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_the_release_policy_registers_reads_and_approves_versions_of_this_group_only(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    settings = ENV_SETTINGS[env]
    plan = env_plan(env)
    policy = plan.of_type("aws_iam_policy")[RELEASE_POLICY]
    assert policy["name"] == f"scones-{env}-model-registry-release"
    grants = {
        s.sid: (set(s.actions), set(s.resources)) for s in plan.policy_statements() if s.address == RELEASE_POLICY
    }
    arn = f"arn:aws:sagemaker:{settings['region']}:{settings['account']}"
    versions, group = f"{arn}:model-package/scones-{env}-models/*", f"{arn}:model-package-group/scones-{env}-models"
    # Nothing on "*" (assert_least_privilege in test_plans checks every statement against IAM's resource types).
    assert grants == {
        "RegisterVersions": ({"sagemaker:CreateModelPackage"}, {group, versions}),
        "ReadAndApproveVersions": (
            {"sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage"},
            {versions},
        ),
        "ReadGroup": ({"sagemaker:DescribeModelPackageGroup"}, {group}),
    }


def test_the_endpoint_serves_a_registry_version_from_the_package_alone(root_plan: Callable[..., Plan]) -> None:
    arn = _version_arn("local")
    plan = root_plan("local", with_model=False, model_package_arn=arn, model_serving="image-classification")
    (container,) = plan.one("aws_sagemaker_model")["primary_container"]
    # The version brings its image, artifact and environment: CreateModel gets the package and nothing else.
    assert container["model_package_name"] == arn
    assert container["image"] is None and container["model_data_url"] is None and not container["environment"]
    assert plan.one("aws_sagemaker_model")["name"].startswith("scones-local-classifier-")
    assert plan.one("aws_sagemaker_endpoint")["name"] == "scones-local-classifier"
    stack = plan.outputs["stack"]
    assert stack["endpoint_deployed"] is True
    assert (stack["model_package_arn"], stack["model_data_url"], stack["model_image_uri"]) == (arn, None, None)
    # Terraform cannot see the version's image: model_serving says the built-in algorithm serves it.
    (classify,) = [
        f for f in plan.of_type("aws_lambda_function").values() if f["function_name"].endswith("-classify-image")
    ]
    assert classify["environment"][0]["variables"]["ENDPOINT_ACCEPT"] == "application/json"


def test_a_version_with_an_artifact_or_of_another_group_is_refused(root_plan: Callable[..., Plan]) -> None:
    # Both mistakes in one plan (Terraform reports every failed condition): the default artifact and image are set.
    other = _version_arn("local", group="scones-dev-models")
    with pytest.raises(PlanRejected) as refused:
        root_plan("local", model_package_arn=other)
    message = refused.value.terraform_message
    for expected in (
        "model_package_arn excludes model_data_url and model_image_uri",
        f"model_package_arn {other} is not a version of this stack's model registry",
    ):
        assert re.search(terraform_message(expected), message), message
