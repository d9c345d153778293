"""The endpoint's safe rollout: each root's blue/green deployment configuration, its rollback alarms, and the
SageMaker deployment-guardrails rules the endpoint module enforces before anything is planned."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from scones.plan_testing import Plan, PlanRejected
from tests.terraform.conftest import terraform_message
from tests.terraform.test_plans import CUSTOM

pytestmark = pytest.mark.terraform


def _policy(plan: Plan) -> tuple[Mapping[str, Any], Mapping[str, Any], set[str]]:
    """The endpoint's blue/green policy, its traffic routing and the names of its rollback alarms."""
    config = plan.one("aws_sagemaker_endpoint")["deployment_config"][0]
    policy = config["blue_green_update_policy"][0]
    rollback = config["auto_rollback_configuration"]
    alarms = {alarm["alarm_name"] for alarm in rollback[0]["alarms"]} if rollback else set()
    return policy, policy["traffic_routing_configuration"][0], alarms


def _endpoint_alarms(plan: Plan) -> set[str]:
    return {
        alarm["alarm_name"]
        for alarm in plan.of_type("aws_cloudwatch_metric_alarm").values()
        if alarm["namespace"] == "AWS/SageMaker"
    }


@pytest.mark.parametrize(
    ("env", "routing", "step", "wait", "timeout", "instances"),
    [
        # One emulated instance: all at once, no baking period (an apply waits for nothing).
        ("local", "ALL_AT_ONCE", None, 0, 600, 1),
        ("dev", "ALL_AT_ONCE", None, 300, 1800, 1),
        # A canary of one instance of two, baked 10 minutes before and after the rest of the traffic moves.
        ("prod", "CANARY", {"type": "INSTANCE_COUNT", "value": 1}, 600, 3600, 2),
    ],
)
def test_each_root_rolls_out_blue_green_and_rolls_back_on_the_endpoint_alarms(
    env_plan: Callable[[str], Plan],
    env: str,
    routing: str,
    step: dict[str, Any] | None,
    wait: int,
    timeout: int,
    instances: int,
) -> None:
    plan = env_plan(env)
    policy, traffic, alarms = _policy(plan)
    assert traffic["type"] == routing
    assert (traffic["canary_size"][0] if traffic["canary_size"] else None) == step
    assert traffic["linear_step_size"] == []
    assert traffic["wait_interval_in_seconds"] == wait
    assert policy["maximum_execution_timeout_in_seconds"] == timeout
    assert policy["termination_wait_in_seconds"] == 0
    # Exactly the endpoint's own alarms (5XX, p95 latency), by the names the alarms module gives them.
    assert alarms == _endpoint_alarms(plan) == {f"scones-{env}-endpoint-5xx", f"scones-{env}-endpoint-latency-p95"}
    # A canary is at most half of the instances the new fleet starts with.
    variant = plan.one("aws_sagemaker_endpoint_configuration")["production_variants"][0]
    assert variant["initial_instance_count"] == instances
    assert plan.one("aws_appautoscaling_target")["min_capacity"] == instances


def test_a_linear_rollout_follows_the_variables(stack_plan: Callable[..., Plan]) -> None:
    policy, traffic, alarms = _policy(stack_plan(**CUSTOM))
    assert traffic["type"] == "LINEAR"
    assert traffic["linear_step_size"] == [{"type": "CAPACITY_PERCENT", "value": 50}]
    assert traffic["canary_size"] == []
    assert traffic["wait_interval_in_seconds"] == 120
    assert policy["maximum_execution_timeout_in_seconds"] == 900
    assert policy["termination_wait_in_seconds"] == 60
    assert alarms == {"scones-local-endpoint-5xx", "scones-local-endpoint-latency-p95"}


CANARY_OF_ONE = {"traffic_routing": "CANARY", "step": {"type": "INSTANCE_COUNT", "value": 1}}


# Terraform reports every failing validation rule of a plan at once, so one plan checks several rules.
@pytest.mark.parametrize(
    ("deployment", "messages"),
    [
        (
            {"traffic_routing": "CANARY", "wait_interval_seconds": 3601, "maximum_execution_timeout_seconds": 300},
            [
                "deployment.step (the canary size or the linear step) is required for CANARY and LINEAR",
                # BlueGreenUpdatePolicy and TrafficRoutingConfig's ranges.
                "deployment.wait_interval_seconds must be whole seconds from 0 to 3600.",
                "deployment.maximum_execution_timeout_seconds must be whole seconds from 600 to 28800.",
                # The timeout must outlast both of a canary's baking periods.
                "must be larger than the baking periods",
            ],
        ),
        (
            {
                "traffic_routing": "BLUE",
                "step": {"type": "CAPACITY_PERCENT", "value": 60},
                "termination_wait_seconds": 3601,
            },
            [
                "deployment.traffic_routing must be ALL_AT_ONCE, CANARY or LINEAR.",
                "A CAPACITY_PERCENT step is at most 50 (a canary) or 10 to 50 (a linear step).",
                "deployment.termination_wait_seconds must be whole seconds from 0 to 3600.",
            ],
        ),
        (
            {"traffic_routing": "LINEAR", "step": {"type": "CAPACITY_PERCENT", "value": 5}},
            ["A CAPACITY_PERCENT step is at most 50 (a canary) or 10 to 50 (a linear step)."],
        ),
    ],
)
def test_deployment_guardrails_ranges_are_refused_before_anything_is_planned(
    stack_plan: Callable[..., Plan], deployment: dict[str, Any], messages: list[str]
) -> None:
    with pytest.raises(PlanRejected) as rejected:
        stack_plan(endpoint_deployment=deployment, autoscaling={"min_capacity": 2})
    for message in messages:
        assert re.search(terraform_message(message), str(rejected.value)), message


@pytest.mark.parametrize(
    ("deployment", "autoscaling", "message"),
    [
        # One instance has no half: a canary needs two.
        (CANARY_OF_ONE, {}, "deployment.traffic_routing CANARY needs autoscaling.min_capacity >= 2"),
        (
            {"traffic_routing": "CANARY", "step": {"type": "INSTANCE_COUNT", "value": 2}},
            {"min_capacity": 3, "max_capacity": 4},
            "An INSTANCE_COUNT step must be at most half of autoscaling.min_capacity (3)",
        ),
    ],
)
def test_a_step_larger_than_half_of_the_instances_is_refused(
    stack_plan: Callable[..., Plan], deployment: dict[str, Any], autoscaling: dict[str, Any], message: str
) -> None:
    with pytest.raises(PlanRejected, match=terraform_message(message)):
        stack_plan(endpoint_deployment=deployment, autoscaling=autoscaling)
