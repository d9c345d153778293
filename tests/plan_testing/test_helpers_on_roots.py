"""The plugin on real plans: each helper fails on a root that violates it and passes the same root fixed;
Terraform's own refusals surface as PlanRejected; plans are deterministic, leave the root as it was, and go to
the plugin's emulator while another runs in the same process."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from scones.local.server import LocalAWS
from scones.plan_testing import (
    Plan,
    PlanAssertionError,
    Planner,
    PlanRejected,
    assert_encrypted,
    assert_least_privilege,
    assert_no_destroy,
    assert_no_replace,
    assert_tagged,
    resources_of,
)
from scones.plan_testing.emulator import PlanEmulator

pytestmark = pytest.mark.terraform

ROOTS = Path(__file__).resolve().parent / "roots"
PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'


def deployed_state(topics: dict[str, str]) -> dict[str, Any]:
    """A state as an earlier apply of the violating root left it: SNS topics by resource name -> topic name."""
    resources = [
        {
            "mode": "managed",
            "type": "aws_sns_topic",
            "name": resource_name,
            "provider": PROVIDER,
            "instances": [
                {
                    "schema_version": 0,
                    "attributes": {
                        "id": f"arn:aws:sns:eu-west-1:111111111111:{topic}",
                        "arn": f"arn:aws:sns:eu-west-1:111111111111:{topic}",
                        "name": topic,
                        "tags": {},
                        "tags_all": {},
                    },
                }
            ],
        }
        for resource_name, topic in topics.items()
    ]
    return {
        "version": 4,
        "terraform_version": "1.10.0",
        "serial": 3,
        "lineage": "5f0c2b1e-9a47-4d3b-8f6e-2c1d0a9b8e7f",
        "outputs": {},
        "resources": resources,
    }


@pytest.fixture(scope="module")
def violating(plan: Callable[..., Plan]) -> Plan:
    return plan(ROOTS / "violating")


@pytest.fixture(scope="module")
def compliant(plan: Callable[..., Plan]) -> Plan:
    return plan(ROOTS / "compliant")


def test_least_privilege_names_the_wildcard_and_the_misspelled_action(violating: Plan) -> None:
    with pytest.raises(PlanAssertionError) as failure:
        assert_least_privilege(violating)
    message = str(failure.value)
    assert "aws_iam_role_policy.worker (policy, Sid Everything): wildcard actions ['s3:*']" in message
    assert "sns:Publsh" in message and "UNKNOWN_ACTION" in message
    # The trust policy (a principal, not a grant) is not what least privilege is about.
    assert "aws_iam_role.worker" not in message


def test_least_privilege_passes_scoped_grants_and_actions_that_only_take_star(compliant: Plan) -> None:
    assert_least_privilege(compliant)
    assert [s.sid for s in compliant.policy_statements()] == ["ReadImages", "Traces"]
    assert [s.kind for s in compliant.policy_statements(None)].count("trust") == 1


def test_encryption_names_the_bucket_without_a_configuration(violating: Plan, compliant: Plan) -> None:
    with pytest.raises(PlanAssertionError, match=r"aws_s3_bucket.images: bucket 'violating-images' has no server-side"):
        assert_encrypted(violating)
    assert_encrypted(compliant)
    key = "arn:aws:kms:eu-west-1:111111111111:key/0d5a8c3e-4f6b-4a7c-9d2e-1f3b5c7d9e0a"
    with pytest.raises(PlanAssertionError) as failure:
        assert_encrypted(compliant, kms_key_arn=key)
    assert "bucket 'compliant-images' encrypts with AES256" in str(failure.value)
    assert "aws_sns_topic.alerts: kms_master_key_id is None" in str(failure.value)


def test_tags_come_from_the_provider_default_tags(violating: Plan, compliant: Plan) -> None:
    assert_tagged(compliant, {"Team": "vision", "CostCenter": None})
    with pytest.raises(PlanAssertionError, match=r'tags \{"Team": "vision"\} differ from \{"Team": "search"\}'):
        assert_tagged(compliant, {"Team": "search"})
    with pytest.raises(PlanAssertionError, match=r"aws_s3_bucket.images: missing tags \['Team'\]"):
        assert_tagged(violating, ["Team"])


def test_a_resource_gone_from_the_configuration_is_a_destroy(plan: Callable[..., Plan]) -> None:
    state = deployed_state({"alerts": "violating-alerts-1", "old": "violating-old-alerts"})
    upgraded = plan(ROOTS / "violating", state=state)
    assert upgraded.actions["aws_sns_topic.old"] == "delete"
    assert upgraded.actions["aws_sns_topic.alerts"] in ("no-op", "update")
    with pytest.raises(PlanAssertionError, match=r"destroys resources \(1\):\n  - aws_sns_topic.old: delete"):
        assert_no_destroy(upgraded)
    assert_no_destroy(upgraded, allow=["aws_sns_topic.old"])
    assert_no_replace(upgraded)


def test_a_renamed_topic_is_a_replacement_and_says_which_attribute_forced_it(plan: Callable[..., Plan]) -> None:
    # capacity 2 renames the topic (violating-alerts-2): SNS cannot rename, so the topic is replaced.
    upgraded = plan(
        ROOTS / "violating", variables={"capacity": 2}, state=deployed_state({"alerts": "violating-alerts-1"})
    )
    assert upgraded.actions["aws_sns_topic.alerts"] == "replace"
    with pytest.raises(PlanAssertionError, match=r"aws_sns_topic.alerts: replace \(forced by name"):
        assert_no_replace(upgraded)
    with pytest.raises(PlanAssertionError, match=r"aws_sns_topic\.alerts: replace"):
        assert_no_destroy(upgraded)
    assert_no_replace(upgraded, allow=["aws_sns_topic.*"])


def test_plans_are_cached_per_arguments_and_a_rejected_plan_is_counted(
    scones_planner: Planner, violating: Plan
) -> None:
    # The session's planner (the `plan` fixture's), which planned the violating root for the fixture.
    plans, inits, hits = (
        len(scones_planner.stats.plans),
        len(scones_planner.stats.inits),
        scones_planner.stats.cache_hits,
    )
    assert scones_planner.plan(ROOTS / "violating", variables={}) is violating
    with pytest.raises(PlanRejected, match="capacity must be between 1 and 4") as rejected:
        scones_planner.plan(ROOTS / "violating", variables={"capacity": 9})
    assert "Invalid value for variable" in rejected.value.terraform_message
    with pytest.raises(PlanRejected, match="undeclared variable"):
        scones_planner.plan(ROOTS / "violating", variables={"capasity": 2})
    # A rejected plan took as long as any other: it is counted and timed; the root was initialised once.
    stats = scones_planner.stats
    assert (len(stats.plans) - plans, len(stats.inits) - inits, stats.cache_hits - hits) == (2, 0, 1)
    assert f"{len(stats.plans)} plans, {stats.cache_hits} served from cache" in stats.summary()


def test_resources_of_a_type_and_the_aliased_provider_is_redirected(compliant: Plan) -> None:
    # The topic belongs to provider aws.east: had the override missed the alias, the plan would have tried AWS.
    assert list(resources_of(compliant, "aws_sns_topic")) == ["aws_sns_topic.alerts"]
    assert compliant.one("aws_s3_bucket")["bucket"] == "compliant-images"
    assert compliant.types()["aws_iam_role_policy"] == 1
    assert set(compliant.actions.values()) == {"create"}


def test_two_plans_of_the_same_inputs_are_equal_and_the_root_is_left_as_it_was(
    scones_emulator: PlanEmulator, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    shutil.copytree(ROOTS / "compliant", root)
    # Child modules: Terraform walks them concurrently, so their order in its JSON varies between runs.
    (root / "modules" / "topic").mkdir(parents=True)
    (root / "modules" / "topic" / "main.tf").write_text(
        'variable "name" {\n  type = string\n}\n\nresource "aws_sns_topic" "this" {\n  name = var.name\n}\n'
    )
    (root / "topics.tf").write_text(
        "".join(f'module "{n}" {{\n  source = "./modules/topic"\n  name   = "{n}"\n}}\n\n' for n in "abcdef")
    )
    before = sorted(p.name for p in root.iterdir())
    # The first plan while another emulator runs in this process (as a team's own tests may start one): the
    # plan goes to the plugin's emulator and leaves the other untouched.
    with LocalAWS() as aws:
        first = Planner(scones_emulator, tmp_path / "a").plan(root, variables={})
        assert scones_emulator.url != aws.url
        s3 = boto3.client(
            "s3", endpoint_url=aws.url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
        )
        assert s3.list_buckets()["Buckets"] == []
    assert first.one("aws_s3_bucket")["bucket"] == "compliant-images"
    # No override, lock file, .terraform or state left behind...
    assert sorted(p.name for p in root.iterdir()) == before
    # ...and a lock file the team committed is put back byte for byte.
    lock = root / ".terraform.lock.hcl"
    lock.write_text("# the team's own lock file\n")
    second = Planner(scones_emulator, tmp_path / "b").plan(root)
    assert lock.read_text() == "# the team's own lock file\n"
    assert sorted(p.name for p in root.iterdir()) == sorted([*before, lock.name])
    assert len(first.raw["planned_values"]["root_module"]["child_modules"]) == 6
    for part in ("resource_changes", "planned_values", "prior_state"):
        assert json.dumps(first.raw.get(part), sort_keys=True) == json.dumps(second.raw.get(part), sort_keys=True)
