"""The README's running costs count what dev and prod actually deploy: the endpoint's instance type and
autoscaling minimum, and the alarm metrics CloudWatch bills (one for a plain alarm, one per metric of a
metric-math alarm: https://aws.amazon.com/cloudwatch/pricing/). tests/unit/test_readme_costs.py checks the
arithmetic. Reads the roots' shared default plans."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from scones.plan_testing import Plan

pytestmark = pytest.mark.terraform

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
COSTS = README[README.index("### What it costs\n") : README.index("### Tear it down\n")]


def _row(env: str, label_start: str) -> str:
    """The label of the row of env's daily table that starts with label_start."""
    table = COSTS[COSTS.index(f"| {env} | arithmetic | per day |") :].split("\n\n")[0]
    (row,) = [line for line in table.splitlines() if line.startswith(f"| {label_start}")]
    return row.split("|")[1]


def alarm_metrics(plan: Plan) -> int:
    """What CloudWatch bills alarms by: one per metric an alarm watches, math expressions free."""
    count = 0
    for alarm in plan.of_type("aws_cloudwatch_metric_alarm").values():
        if alarm.get("metric_name"):
            count += 1
        else:
            count += sum(1 for query in alarm["metric_query"] if query.get("metric"))
    return count


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_endpoint_row_counts_the_planned_instances(env_plan: Callable[[str], Plan], env: str) -> None:
    plan = env_plan(env)
    (variant,) = plan.one("aws_sagemaker_endpoint_configuration")["production_variants"]
    minimum = plan.one("aws_appautoscaling_target")["min_capacity"]
    label = _row(env, "endpoint:")
    assert re.search(rf"\b{minimum} × {re.escape(variant['instance_type'])}\b", label), label
    assert variant["initial_instance_count"] == minimum


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_alarms_row_counts_the_planned_alarm_metrics(env_plan: Callable[[str], Plan], env: str) -> None:
    label = _row(env, "CloudWatch alarms:")
    assert f" {alarm_metrics(env_plan(env))} alarm metrics " in label, label


def test_alarm_metrics_count_each_metric_of_a_math_alarm(env_plan: Callable[[str], Plan]) -> None:
    plan = env_plan("dev")
    alarms = plan.of_type("aws_cloudwatch_metric_alarm")
    math = [a for a in alarms.values() if not a.get("metric_name")]
    assert math, "the workflow-failures and share alarms are metric math"
    assert alarm_metrics(plan) > len(alarms)
