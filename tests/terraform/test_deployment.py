"""The endpoint's safe rollout: each root's blue/green deployment configuration and its rollback alarms. The
SageMaker deployment-guardrails rules the endpoint module enforces (ranges, a step at most half of the
instances) are refused values in refusals.py, planned with the stack's other bad inputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from scones.plan_testing import Plan
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
