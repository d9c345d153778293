"""The Plan model and each assertion helper on hand-written `terraform show -json` documents."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scones.plan_testing import (
    Plan,
    PlanAssertionError,
    assert_encrypted,
    assert_least_privilege,
    assert_no_destroy,
    assert_no_replace,
    assert_tagged,
    resources_of,
)

KEY = "arn:aws:kms:eu-west-1:111111111111:key/0d5a8c3e-4f6b-4a7c-9d2e-1f3b5c7d9e0a"


def change(address: str, actions: list[str], after: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    resource_type, name = address.split(".")[-2:]
    top = {"previous_address": extra.pop("previous_address")} if "previous_address" in extra else {}
    body = {"actions": actions, "before": extra.pop("before", None), "after": after, "after_unknown": {}} | extra
    return {"address": address, "mode": "managed", "type": resource_type, "name": name, "change": body} | top


def plan_of(*changes: dict[str, Any], outputs: dict[str, Any] | None = None) -> Plan:
    return Plan(root="team-root", raw={"resource_changes": list(changes), "output_changes": outputs or {}})


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def role_policy(*statements: dict[str, Any], address: str = "aws_iam_role_policy.worker") -> dict[str, Any]:
    return change(address, ["create"], {"policy": policy(*statements)})


def test_actions_name_replacements_and_moves() -> None:
    plan = plan_of(
        change("aws_sns_topic.a", ["create"], {"name": "a"}),
        change("aws_sns_topic.b", ["delete", "create"], {"name": "b"}, replace_paths=[["name"]]),
        change("aws_sns_topic.c", ["create", "delete"], {"name": "c"}),
        change("aws_sns_topic.d", ["delete"], None, before={"name": "d"}),
        change("aws_sns_topic.e", ["no-op"], {"name": "e"}, previous_address="aws_sns_topic.old_e"),
        change("aws_sns_topic.f", ["update"], {"name": "f"}),
    )
    assert plan.actions == {
        "aws_sns_topic.a": "create",
        "aws_sns_topic.b": "replace",
        "aws_sns_topic.c": "replace",
        "aws_sns_topic.d": "delete",
        "aws_sns_topic.e": "no-op",
        "aws_sns_topic.f": "update",
    }
    assert plan.moves == {"aws_sns_topic.old_e": "aws_sns_topic.e"}
    # A deleted resource does not exist after apply.
    assert "aws_sns_topic.d" not in resources_of(plan, "aws_sns_topic")
    assert plan.with_action("replace") == ["aws_sns_topic.b", "aws_sns_topic.c"]


def test_outputs_and_the_ones_known_only_after_apply() -> None:
    plan = plan_of(outputs={"bucket": {"after": "b"}, "arn": {"after": None, "after_unknown": True}})
    assert plan.outputs == {"bucket": "b", "arn": None}
    assert plan.unknown_outputs == {"arn"}


def test_one_says_how_many_it_found() -> None:
    plan = plan_of(change("aws_sns_topic.a", ["create"], {}), change("aws_sns_topic.b", ["create"], {}))
    with pytest.raises(AssertionError, match="expected one aws_sns_topic in the plan of team-root, found 2"):
        plan.one("aws_sns_topic")


def test_no_destroy_lists_deletes_and_replacements_with_the_attribute_that_forced_them() -> None:
    plan = plan_of(
        change("aws_sns_topic.kept", ["update"], {}),
        change("aws_sns_topic.renamed", ["delete", "create"], {}, replace_paths=[["name"]]),
        change("aws_s3_bucket.gone", ["delete"], None, before={}),
    )
    with pytest.raises(PlanAssertionError) as failure:
        assert_no_destroy(plan)
    assert failure.value.problems == ["aws_sns_topic.renamed: replace (forced by name)", "aws_s3_bucket.gone: delete"]
    assert str(failure.value).startswith("the plan of team-root destroys resources (2):\n  - aws_sns_topic.renamed")
    assert_no_destroy(plan, allow=["aws_sns_topic.*", "aws_s3_bucket.gone"])
    with pytest.raises(PlanAssertionError, match="renamed: replace"):
        assert_no_replace(plan)
    assert_no_replace(plan, allow=["aws_sns_topic.renamed"])


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, "wildcard actions ['*']"),
        ({"Effect": "Allow", "Action": ["s3:Get*"], "Resource": "arn:aws:s3:::b/*"}, "wildcard actions ['s3:Get*']"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "NotAction ['iam:*'] allows every other action"),
        (
            {"Effect": "Allow", "Action": ["s3:GetObject", "xray:PutTraceSegments"], "Resource": "*"},
            '"Resource": "*" for [\'s3:GetObject\'], which take resource ARNs',
        ),
        ({"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::b/*"}, "UNKNOWN_ACTION"),
        # A resource that fits none of the action's resource types: a topic ARN for an S3 action.
        (
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:sns:eu-west-1:111111111111:t"},
            "RESOURCE_MISMATCH",
        ),
    ],
)
def test_least_privilege_refuses(statement: dict[str, Any], expected: str) -> None:
    with pytest.raises(PlanAssertionError) as failure:
        assert_least_privilege(plan_of(role_policy(statement)))
    assert expected in str(failure.value)
    assert "aws_iam_role_policy.worker (policy)" in str(failure.value)


def test_least_privilege_accepts_named_actions_on_their_arns_and_star_only_actions() -> None:
    plan = plan_of(
        role_policy(
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Action": ["cloudwatch:PutMetricData", "xray:PutTraceSegments"], "Resource": "*"},
            # A Deny never grants: wildcards there narrow, not widen.
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
        ),
        # Trust and resource policies name principals; least privilege is about what a principal may do.
        change("aws_iam_role.worker", ["create"], {"assume_role_policy": policy({"Effect": "Allow", "Action": "*"})}),
        change("aws_s3_bucket_policy.b", ["create"], {"policy": policy({"Effect": "Deny", "Action": "s3:*"})}),
    )
    assert_least_privilege(plan)
    assert [p.kind for p in plan.policies] == ["identity", "trust", "resource"]


def test_an_inline_policy_of_a_role_is_checked_too() -> None:
    inline = [{"name": "x", "policy": policy({"Effect": "Allow", "Action": "sqs:*", "Resource": "*"})}]
    plan = plan_of(change("aws_iam_role.worker", ["create"], {"assume_role_policy": policy(), "inline_policy": inline}))
    with pytest.raises(PlanAssertionError, match=r"aws_iam_role.worker \(inline_policy\[0\]\): wildcard actions"):
        assert_least_privilege(plan)


def test_a_policy_unknown_until_apply_cannot_pass_unless_allowed() -> None:
    unknown = change("aws_iam_role_policy.worker", ["create"], {}, after_unknown={"policy": True})
    with pytest.raises(PlanAssertionError, match="unknown until apply, so it cannot be checked"):
        assert_least_privilege(plan_of(unknown))
    assert_least_privilege(plan_of(unknown), allow_unknown=True)


def encryption(bucket: str, algorithm: str, key: str | None = None) -> dict[str, Any]:
    rule = {"apply_server_side_encryption_by_default": [{"sse_algorithm": algorithm, "kms_master_key_id": key}]}
    address = f"aws_s3_bucket_server_side_encryption_configuration.{bucket}"
    return change(address, ["create"], {"bucket": bucket, "rule": [rule]})


def test_every_bucket_needs_an_encryption_configuration() -> None:
    plan = plan_of(
        change("aws_s3_bucket.a", ["create"], {"bucket": "a"}),
        change("aws_s3_bucket.b", ["create"], {"bucket": "b"}),
        encryption("a", "AES256"),
    )
    with pytest.raises(PlanAssertionError) as failure:
        assert_encrypted(plan)
    assert failure.value.problems == ["aws_s3_bucket.b: bucket 'b' has no server-side encryption configuration"]


def test_with_a_customer_key_buckets_topics_and_endpoints_must_use_it() -> None:
    capture = [{"kms_key_id": None}]
    plan = plan_of(
        change("aws_s3_bucket.a", ["create"], {"bucket": "a"}),
        encryption("a", "aws:kms", KEY),
        change("aws_sns_topic.t", ["create"], {"kms_master_key_id": None}),
        change(
            "aws_sagemaker_endpoint_configuration.e", ["create"], {"kms_key_arn": KEY, "data_capture_config": capture}
        ),
        change("aws_cloudwatch_log_group.l", ["create"], {"kms_key_id": None}),
    )
    with pytest.raises(PlanAssertionError) as failure:
        assert_encrypted(plan, kms_key_arn=KEY)
    assert failure.value.problems == [
        f"aws_sns_topic.t: kms_master_key_id is None, not {KEY}",
        f"aws_sagemaker_endpoint_configuration.e: data capture kms_key_id is None, not {KEY}",
    ]
    # Log groups are held to a key only when one is named for them.
    with pytest.raises(PlanAssertionError, match=r"aws_cloudwatch_log_group.l: kms_key_id is None"):
        assert_encrypted(plan, logs_kms_key_arn=KEY)


def test_tags_are_read_from_tags_all_with_values_checked_where_given() -> None:
    plan = plan_of(
        change("aws_sns_topic.a", ["create"], {"tags": None, "tags_all": {"Team": "vision", "Env": "prod"}}),
        change("aws_sns_topic.b", ["create"], {"tags": {"Team": "search"}, "tags_all": {"Team": "search"}}),
        change("aws_sns_topic.c", ["create"], {"tags": None}, after_unknown={"tags_all": True}),
        change("aws_iam_role_policy.p", ["create"], {"policy": policy()}),  # not taggable
    )
    with pytest.raises(PlanAssertionError) as failure:
        assert_tagged(plan, {"Team": "vision", "Env": None})
    assert failure.value.problems == [
        "aws_sns_topic.b: missing tags ['Env']",
        'aws_sns_topic.b: tags {"Team": "search"} differ from {"Team": "vision"}',
        "aws_sns_topic.c: missing tags ['Team', 'Env'] (tags_all unknown until apply; its own tags lack them)",
    ]
