"""The planner's setup paths on real terraform: a module source swapped for a checkout, a root that does not
init. (A plan while an emulator runs in process beside the plugin's own is test_helpers_on_roots.py's, on a
plan that test makes anyway.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from scones.plan_testing import InitFailed, Plan, Planner
from scones.plan_testing.emulator import PlanEmulator

pytestmark = pytest.mark.terraform


def test_a_git_pinned_module_is_planned_from_a_local_checkout(plan: Callable[..., Plan], tmp_path: Path) -> None:
    root = tmp_path / "team"
    root.mkdir()
    (root / "main.tf").write_text(
        'provider "aws" {\n  region = "eu-west-1"\n}\n\n'
        'module "alerts" {\n  source = "git::https://github.com/acme/infra.git//modules/alerts?ref=v2.1.0"\n'
        '  name   = "team-alerts"\n}\n'
    )
    checkout = tmp_path / "infra" / "modules" / "alerts"
    checkout.mkdir(parents=True)
    (checkout / "main.tf").write_text(
        'variable "name" {\n  type = string\n}\n\nresource "aws_sns_topic" "this" {\n  name = var.name\n}\n'
    )
    planned = plan(root, module_sources={"alerts": checkout})
    assert planned.one("aws_sns_topic")["name"] == "team-alerts"
    assert list(planned.resources) == ["module.alerts.aws_sns_topic.this"]
    assert sorted(p.name for p in root.iterdir()) == ["main.tf"]


def test_a_root_that_does_not_init_names_terraforms_reason(scones_emulator: PlanEmulator, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n'
        '    nothing = { source = "scones-test/nothing" }\n  }\n}\n'
    )
    with pytest.raises(InitFailed, match=r"terraform init failed in .*/root: Error: .*scones-test/nothing") as failed:
        Planner(scones_emulator, tmp_path / "planner").plan(root)
    assert "\n" not in str(failed.value)


def test_variables_of_every_type_reach_the_root_as_given(plan: Callable[..., Plan], tmp_path: Path) -> None:
    given = {
        "text": "null",
        "number": 2.5,
        "flag": False,
        "subscriptions": [{"protocol": "email", "endpoint": "ops@example.com"}],
        "labels": {"team": "vision"},
        "nothing": None,
    }
    types = {
        "text": "string",
        "number": "number",
        "flag": "bool",
        "subscriptions": "list(object({ protocol = string, endpoint = string }))",
        "labels": "map(string)",
        "nothing": "string",
    }
    defaults = {"nothing": '"unset"'}
    (tmp_path / "main.tf").write_text(
        "".join(
            f'variable "{name}" {{\n  type    = {kind}\n  default = {defaults.get(name, "null")}\n}}\n\n'
            f'output "{name}" {{\n  value = var.{name}\n}}\n\n'
            for name, kind in types.items()
        )
    )
    # The text "null" stays text; None is null, over a default (a -var cannot say null).
    assert plan(tmp_path, variables=given).outputs == given
