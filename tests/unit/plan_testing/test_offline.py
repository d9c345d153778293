"""Which roots can be planned offline, and the override that redirects the ones that can."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.plan_testing import RootNotPlannable
from scones.plan_testing.offline import check_plannable, inspect_root, render_override

AWS = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
"""


def write(directory: Path, text: str, name: str = "main.tf") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text)
    return directory


def refusal(root: Path, **kwargs: object) -> str:
    with pytest.raises(RootNotPlannable) as refused:
        check_plannable(root, inspect_root(root, **kwargs))  # type: ignore[arg-type]
    return str(refused.value)


def test_a_remote_module_source_is_refused_unless_mapped_to_a_checkout(tmp_path: Path) -> None:
    source = "git::https://github.com/acme/scones.git//terraform/modules/stack?ref=v1.2.0"
    root = write(tmp_path / "root", AWS + f'module "stack" {{\n  source = "{source}"\n}}\n')
    assert f"remote module source module.stack: {source} (pass module_sources=" in refusal(root)
    checkout = write(tmp_path / "checkout" / "stack", 'resource "aws_sns_topic" "t" {}\n')
    config = inspect_root(root, {"stack": str(checkout)})
    check_plannable(root, config)
    override = render_override(root, config, "http://127.0.0.1:1", tmp_path / "state", {"stack": str(checkout)})
    assert override["module"] == {"stack": {"source": "../checkout/stack"}}


def test_a_registry_module_with_a_version_cannot_take_a_local_checkout(tmp_path: Path) -> None:
    root = write(tmp_path / "root", AWS + 'module "stack" {\n  source  = "acme/stack/aws"\n  version = "0.1.0"\n}\n')
    checkout = write(tmp_path / "stack", 'resource "aws_sns_topic" "t" {}\n')
    refused = refusal(root, module_sources={"stack": str(checkout)})
    assert "module.stack is a registry module with a `version`" in refused
    assert "remote module source module.stack: acme/stack/aws" in refusal(root)


def test_a_registry_module_inside_a_local_module_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "modules" / "app", 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n')
    root = write(tmp_path / "root", AWS + 'module "app" {\n  source = "../modules/app"\n}\n')
    assert "remote module source module.app.module.vpc: terraform-aws-modules/vpc/aws" in refusal(root)


def test_a_provider_configured_in_a_child_module_cannot_be_redirected(tmp_path: Path) -> None:
    write(tmp_path / "modules" / "legacy", 'provider "aws" {\n  region = "us-east-1"\n}\n')
    root = write(tmp_path / "root", AWS + 'module "legacy" {\n  source = "../modules/legacy"\n}\n')
    assert "module.legacy" in refusal(root) and "provider 'aws' cannot be redirected" in refusal(root)


def test_resources_of_a_provider_that_calls_out_are_refused(tmp_path: Path) -> None:
    root = write(tmp_path / "root", AWS + 'resource "github_repository" "r" {}\nresource "random_id" "i" {}\n')
    assert "resources of providers ['github']" in refusal(root)


def test_a_local_module_that_is_missing_is_named(tmp_path: Path) -> None:
    root = write(tmp_path / "root", 'module "stack" {\n  source = "../nowhere"\n}\n')
    with pytest.raises(RootNotPlannable, match=r"module.stack: module source '../nowhere' is not a directory"):
        inspect_root(root)


def test_every_aws_provider_configuration_is_redirected_and_unpinned(tmp_path: Path) -> None:
    root = write(
        tmp_path / "root",
        AWS
        + 'provider "aws" {\n  region = "eu-west-1"\n  allowed_account_ids = ["111111111111"]\n}\n'
        + 'provider "aws" {\n  alias  = "east"\n  region = "us-east-1"\n}\n',
    )
    config = inspect_root(root)
    assert config.aws_aliases == {"", "east"}
    override = render_override(root, config, "http://127.0.0.1:4999", tmp_path / "s.tfstate", {})
    assert override["terraform"] == {"backend": {"local": {"path": str(tmp_path / "s.tfstate")}}}
    default, east = override["provider"]["aws"]
    assert "alias" not in default and east["alias"] == "east"
    for provider in (default, east):
        assert provider["allowed_account_ids"] is None
        assert set(provider["endpoints"][0].values()) == {"http://127.0.0.1:4999"}
        assert {"iam", "s3", "sts", "sagemaker"} <= set(provider["endpoints"][0])


def test_json_configuration_is_read_too(tmp_path: Path) -> None:
    root = write(tmp_path / "root", '{"provider": {"aws": [{"alias": "west", "region": "us-west-2"}]}}', "main.tf.json")
    assert inspect_root(root).aws_aliases == {"west"}


def test_a_file_terraform_cannot_parse_is_named(tmp_path: Path) -> None:
    root = write(tmp_path / "root", 'resource "aws_sns_topic" "t" {\n')
    with pytest.raises(RootNotPlannable, match=r"main.tf: cannot be parsed"):
        inspect_root(root)
