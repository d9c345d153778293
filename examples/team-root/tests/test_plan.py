"""What the acme vision team checks in CI before its production root is applied.

Every test reads the offline plan of the root one directory up (`plan` is the scones[plan-testing] fixture;
the plan is made once and shared). The values below are what CI passes for the production account.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from scones.plan_testing import (
    Plan,
    PlanRejected,
    assert_encrypted,
    assert_least_privilege,
    assert_no_destroy,
    assert_tagged,
    resources_of,
)

pytestmark = pytest.mark.terraform

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"
REGION = "eu-central-1"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VARIABLES = {
    "account_id": ACCOUNT,
    "region": REGION,
    "kms_key_arn": KMS_KEY,
    "model_data_url": f"s3://acme-vision-prod-data-{ACCOUNT}-{REGION}/models/job-1/output/model.tar.gz",
    "model_image_uri": f"763104351884.dkr.ecr.{REGION}.amazonaws.com/pytorch-inference:2.5-cpu-py311",
}
TOPIC = "acme-vision-prod-notifications"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{TOPIC}"
ONCALL = "vision-oncall@acme.example"
COST_TAGS = {"Team": "vision-platform", "CostCenter": "cc-4711", "Environment": "prod"}

# What production holds today. A plan cannot produce the state it would leave behind (ids and ARNs are only
# known after apply), so this is a real state, captured once: this root's storage and notifications modules
# (the buckets, the topic and the on-call subscription: what must survive an upgrade) applied with
# `-target` to the scones local emulator at scones 0.1.0 (commit 5891a7e). A team's own CI would use
# `terraform state pull` of its production state instead.
DEPLOYED = Path(__file__).resolve().parent / "deployed.tfstate"
STATEFUL = [
    'module.stack.module.storage.aws_s3_bucket.this["data"]',
    'module.stack.module.storage.aws_s3_bucket.this["capture"]',
    "module.stack.module.notifications.aws_sns_topic.this",
    f'module.stack.module.notifications.aws_sns_topic_subscription.this["email:{ONCALL}"]',
]


@pytest.fixture
def prod(plan: Callable[..., Plan]) -> Plan:
    return plan(ROOT, variables=VARIABLES)


def only(resources: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any]:
    assert len(resources) == 1, f"expected one resource, found {sorted(resources)}"
    return next(iter(resources.values()))


def test_endpoint_never_scales_below_two_instances(prod: Plan) -> None:
    target = only(resources_of(prod, "aws_appautoscaling_target"))
    assert target["min_capacity"] >= 2
    config = only(resources_of(prod, "aws_sagemaker_endpoint_configuration"))
    counts = [variant["initial_instance_count"] for variant in config["production_variants"]]
    assert counts and min(counts) >= 2, f"initial instance counts {counts}"


def test_endpoint_runs_on_the_budgeted_instance_type(prod: Plan) -> None:
    config = only(resources_of(prod, "aws_sagemaker_endpoint_configuration"))
    assert [variant["instance_type"] for variant in config["production_variants"]] == ["ml.c5.xlarge"]


def test_every_request_and_response_is_captured(prod: Plan) -> None:
    config = only(resources_of(prod, "aws_sagemaker_endpoint_configuration"))
    (capture,) = config["data_capture_config"]
    assert capture["enable_capture"] is True
    assert capture["initial_sampling_percentage"] == 100
    assert {option["capture_mode"] for option in capture["capture_options"]} == {"Input", "Output"}
    assert capture["destination_s3_uri"].startswith(f"s3://acme-vision-prod-capture-{ACCOUNT}-{REGION}/")


def test_every_alarm_notifies_the_team_topic(prod: Plan) -> None:
    alarms = resources_of(prod, "aws_cloudwatch_metric_alarm")
    assert alarms, "no alarms planned"
    silent = sorted(address for address, alarm in alarms.items() if TOPIC_ARN not in (alarm["alarm_actions"] or []))
    assert silent == [], f"alarms that do not notify {TOPIC_ARN}"


def test_oncall_email_subscribes_to_the_team_topic(prod: Plan) -> None:
    subscriptions = resources_of(prod, "aws_sns_topic_subscription")
    assert [(s["protocol"], s["endpoint"]) for s in subscriptions.values()] == [("email", ONCALL)]
    # The subscription's topic_arn is only known after apply: it must sit beside the topic the alarms notify.
    topics = [address for address, topic in resources_of(prod, "aws_sns_topic").items() if topic["name"] == TOPIC]
    assert len(topics) == 1, f"expected one topic named {TOPIC}, found {topics}"
    (subscription,) = subscriptions
    assert prod.resources[subscription].module_address == prod.resources[topics[0]].module_address


def test_roles_grant_least_privilege(prod: Plan) -> None:
    assert_least_privilege(prod)


def test_data_at_rest_is_encrypted_with_the_account_key(prod: Plan) -> None:
    assert_encrypted(prod, kms_key_arn=KMS_KEY)


def test_every_resource_carries_the_cost_tags(prod: Plan) -> None:
    assert_tagged(prod, COST_TAGS)


def test_logs_are_kept_for_a_year(prod: Plan) -> None:
    groups = resources_of(prod, "aws_cloudwatch_log_group")
    assert groups, "no log groups planned"
    short = {
        address: group["retention_in_days"] for address, group in groups.items() if group["retention_in_days"] < 365
    }
    assert short == {}


def test_applications_find_the_endpoint_by_its_name(prod: Plan) -> None:
    assert prod.outputs["endpoint_name"] == "acme-vision-prod-classifier"


def test_upgrading_production_destroys_nothing_deployed(plan: Callable[..., Plan]) -> None:
    upgrade = plan(ROOT, variables=VARIABLES, state=DEPLOYED)
    assert_no_destroy(upgrade)
    # And the plan did read the state: what it holds is kept, not created a second time.
    assert set(STATEFUL) <= set(upgrade.with_action("no-op", "update"))


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        ({"model_data_url": "s3://acme-models/job-7/model.zip"}, "model_data_url must be an s3://bucket/key.tar.gz"),
        ({"model_image_uri": None}, "model_image_uri is required when model_data_url is set"),
        ({"account_id": "12345678901"}, "account_id must be 12 digits"),
    ],
    ids=["model-not-a-tarball", "model-without-image", "account-id-of-11-digits"],
)
def test_a_bad_value_from_the_pipeline_stops_the_plan(
    plan: Callable[..., Plan], changed: dict[str, Any], message: str
) -> None:
    with pytest.raises(PlanRejected, match=re.escape(message)):
        plan(ROOT, variables=VARIABLES | changed)
