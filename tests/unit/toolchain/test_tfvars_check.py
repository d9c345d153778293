"""The preflight that refuses variable files setting a variable the root no longer declares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scones.toolchain.tfvars_check import hcl_top_level_names, main, undeclared

ROOT_TF = """
variable "region" {
  type = string
}

variable "notification_subscriptions" {
  type = list(object({ protocol = string, endpoint = string }))
}
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "variables.tf").write_text(ROOT_TF)
    return tmp_path


def test_only_top_level_assignments_are_variables() -> None:
    text = """
# threshold = 0.5 is a comment
region = "eu-west-1" // trailing = comment
notification_subscriptions = [
  { protocol = "email", endpoint = "ops@example.com" },
]
tags = {
  Team = "vision"
  note = "a string with = and { and ${upper("x = y")}"
}
policy = <<-EOT
  log_retention_days = 90
  EOT
/* autoscaling = { max_capacity = 4 } */
log_retention_days=90
"""
    assert list(hcl_top_level_names(text)) == [
        "region",
        "notification_subscriptions",
        "tags",
        "policy",
        "log_retention_days",
    ]


def test_a_removed_variable_in_terraform_tfvars_is_named_with_the_upgrade_notes(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (root / "terraform.tfvars").write_text('region = "eu-west-1"\nlog_retention_days = 90\n')
    assert main([str(root)]) == 1
    message = " ".join(capsys.readouterr().err.split())
    assert "terraform.tfvars sets `log_retention_days`" in message
    assert "docs/upgrading.md" in message
    assert "region" not in message.split("sets", 1)[1].split("`")[1]


def test_auto_tfvars_json_and_extra_var_files_are_checked(root: Path) -> None:
    (root / "model.auto.tfvars.json").write_text(json.dumps({"region": "x", "threshold": 0.9}))
    extra = root / "elsewhere.tfvars"
    extra.write_text('name_prefix = "scones-dev"\n')
    found = {(problem.file.name, problem.name) for problem in undeclared(root, [extra])}
    assert found == {("model.auto.tfvars.json", "threshold"), ("elsewhere.tfvars", "name_prefix")}


def test_declared_variables_pass(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (root / "terraform.tfvars").write_text('region = "eu-west-1"\nnotification_subscriptions = []\n')
    (root / "other.tfvars").write_text("not_loaded_by_terraform = 1\n")  # only auto-loaded files count
    assert main([str(root)]) == 0
    assert capsys.readouterr().err == ""
