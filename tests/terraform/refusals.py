"""Every bad input of the stack module the plan tests check, with the message Terraform refuses it with.

They are planned together: one root calls the stack once per case (`stack_refusal` in conftest.py), and
Terraform reports every failing rule of a phase at once, so one rejected plan shows each rule refusing its
value, for one plan instead of one per value (a plan costs ~8 s of CPU, most of it the AWS provider
starting). One plan per phase, because Terraform checks in phases and a failure in one stops it before the
next: the validation rules of the stack's own variables, then those of its modules' variables, then, while
planning, the preconditions of resources and outputs (so each phase's cases must pass the phases before).

test_plans.py checks every message (the deployment's, the batch's and the ingestion's included); a case's key
names its module call in the refused plan.
"""

from __future__ import annotations

from typing import Any

# case -> (the stack's inputs, the messages that must refuse them)
Cases = dict[str, tuple[dict[str, Any], list[str]]]

# The stack's own variables: Terraform checks those of every call of the stack first, and a failure there
# stops it before the rules of the stack's modules.
STACK_VARIABLES: Cases = {
    "threshold": ({"threshold": 1.5}, ["threshold must be in (0, 1]"]),
    "batch": (
        {"batch_max_items": 0, "batch_max_concurrency": 2.5, "batch_tolerated_failure_percentage": 101},
        [
            "batch_max_items must be a whole number from 1 to 100000000.",
            "batch_max_concurrency must be a whole number from 1 to 10000, or null.",
            "batch_tolerated_failure_percentage must be from 0 to 100.",
        ],
    ),
    # A wildcard would make the rule's prefix pattern match more than the prefix.
    "ingestion_prefix": ({"ingestion": {"prefix": "incoming/*/"}}, ["ingestion.prefix must be 1-200 characters"]),
}

# The variables of its modules.
MODULE_VARIABLES: Cases = {
    "module_variables": (
        {
            "capture_sampling_percentage": 101,
            "autoscaling": {"min_capacity": 3, "max_capacity": 2},
            "endpoint_instance_type": "m5.large",
            "model_data_url": "https://example.com/model.tar.gz",
            "alarm_thresholds": {"low_confidence_share": 1.5, "out_of_distribution_share": 1},
            "log_levels": {"classify_image": "LOUD"},
            "batch_items_per_chunk": 26,
            "api": {
                "consumers": {"Team A": {"rate_limit": 0, "burst_limit": 1.5, "quota_per_day": 0}},
                "allowed_principals": ["arn:aws:iam::123456789012:group/ops"],
                "stage_throttle": {"rate_limit": 0},
                "alarm_thresholds": {"server_error_rate": 2},
            },
        },
        [
            "sampling_percentage must be a whole number from 0 to 100",
            "1 <= min_capacity <= max_capacity",
            "instance_type must be a SageMaker instance type",
            "model_data_url must be an s3://",
            "low_confidence_share must be in (0, 1]",
            "out_of_distribution_share must be in (0, 1)",
            "log_level must be DEBUG, INFO, WARNING or ERROR",
            "items_per_chunk must be a whole number from 1 to 25.",
            "consumers: team names are lowercase letters, digits and hyphens",
            "allowed_principals: each entry is a 12-digit account ID or an IAM role/user/root ARN.",
            "stage_throttle: rate_limit > 0 and burst_limit a whole number >= 1.",
            "alarm_thresholds: error rates in (0, 1], latency_p95_ms > 0.",
        ],
    ),
    # SageMaker's deployment guardrails (BlueGreenUpdatePolicy, TrafficRoutingConfig ranges).
    "deployment_without_step": (
        {
            "endpoint_deployment": {
                "traffic_routing": "CANARY",
                "wait_interval_seconds": 3601,
                "maximum_execution_timeout_seconds": 300,
            },
            "autoscaling": {"min_capacity": 2},
        },
        [
            "deployment.step (the canary size or the linear step) is required for CANARY and LINEAR",
            "deployment.wait_interval_seconds must be whole seconds from 0 to 3600.",
            "deployment.maximum_execution_timeout_seconds must be whole seconds from 600 to 28800.",
            # The timeout must outlast both of a canary's baking periods.
            "must be larger than the baking periods",
        ],
    ),
    "deployment_of_unknown_routing": (
        {
            "endpoint_deployment": {
                "traffic_routing": "BLUE",
                "step": {"type": "CAPACITY_PERCENT", "value": 60},
                "termination_wait_seconds": 3601,
            },
            "autoscaling": {"min_capacity": 2},
        },
        [
            "deployment.traffic_routing must be ALL_AT_ONCE, CANARY or LINEAR.",
            "A CAPACITY_PERCENT step is at most 50 (a canary) or 10 to 50 (a linear step).",
            "deployment.termination_wait_seconds must be whole seconds from 0 to 3600.",
        ],
    ),
    "linear_step_too_small": (
        {
            "endpoint_deployment": {"traffic_routing": "LINEAR", "step": {"type": "CAPACITY_PERCENT", "value": 5}},
            "autoscaling": {"min_capacity": 2},
        },
        ["A CAPACITY_PERCENT step is at most 50 (a canary) or 10 to 50 (a linear step)."],
    ),
}

LOCAL_KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0d5a8c3e-4f6b-4a7c-9d2e-1f3b5c7d9e0a"
CANARY_OF_ONE = {"traffic_routing": "CANARY", "step": {"type": "INSTANCE_COUNT", "value": 1}}

PRECONDITION: Cases = {
    # The chunked batch sends the project's batch content type, which the built-in algorithm does not answer.
    "chunked_batch_on_the_builtin_algorithm": (
        {
            "model_image_uri": "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
            "batch_items_per_chunk": 10,
        },
        ["batch_items_per_chunk above 1 needs the project's serving code"],
    ),
    # An output's precondition.
    "misspelled_log_level_function": (
        {"log_levels": {"clasify_image": "DEBUG"}},
        ["log_levels names a function the stack does not have: clasify_image"],
    ),
    # A key to create and a key given.
    "two_kms_keys": (
        {"create_kms_key": True, "kms_key_arn": LOCAL_KMS_KEY},
        ["create_kms_key and kms_key_arn are mutually exclusive"],
    ),
    # One instance has no half: a canary needs two.
    "canary_of_one_instance": (
        {"endpoint_deployment": CANARY_OF_ONE},
        ["deployment.traffic_routing CANARY needs autoscaling.min_capacity >= 2"],
    ),
    "canary_over_half": (
        {
            "endpoint_deployment": {"traffic_routing": "CANARY", "step": {"type": "INSTANCE_COUNT", "value": 2}},
            "autoscaling": {"min_capacity": 3, "max_capacity": 4},
        },
        ["An INSTANCE_COUNT step must be at most half of autoscaling.min_capacity (3)"],
    ),
}

PHASES = {"stack_variables": STACK_VARIABLES, "module_variables": MODULE_VARIABLES, "precondition": PRECONDITION}


def messages(phase: str) -> list[tuple[str, str]]:
    """(case, message) for every message of a phase: the parameters of a test that checks them all."""
    return [(case, message) for case, (_, expected) in PHASES[phase].items() for message in expected]
