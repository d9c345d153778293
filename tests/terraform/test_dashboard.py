"""The stack's CloudWatch dashboard in the plan (module dashboard): one per environment root, its body valid
JSON in the documented form, every function's errors and throttles drawn, every alarm the plan creates in its
alarm status widget, and the drift signal's annotation at its alarm's threshold. Reads the roots' shared
default plans."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from scones.plan_testing import Plan
from tests.terraform.conftest import ENV_SETTINGS

pytestmark = pytest.mark.terraform

ENVS = ["local", "dev", "prod"]
FUNCTIONS = (
    "serialize-image",
    "classify-image",
    "filter-low-confidence",
    "start-classification",
    "classify-api",
    "classify-chunk",
)


def _body(plan: Plan) -> dict[str, Any]:
    dashboard = plan.one("aws_cloudwatch_dashboard")
    body: dict[str, Any] = json.loads(dashboard["dashboard_body"])
    return body


def _graph(body: dict[str, Any], title_start: str) -> dict[str, Any]:
    (found,) = [w["properties"] for w in body["widgets"] if w["properties"].get("title", "").startswith(title_start)]
    return found


def _metrics(properties: dict[str, Any]) -> list[tuple[str, str, frozenset[tuple[str, str]]]]:
    """(namespace, name, dimensions) of each metric of a widget; math expressions left out."""
    found = []
    for entry in properties["metrics"]:
        fields = [f for f in entry if not isinstance(f, dict)]
        if fields:
            found.append((fields[0], fields[1], frozenset(zip(fields[2::2], fields[3::2], strict=True))))
    return found


@pytest.mark.parametrize("env", ENVS)
def test_each_environment_has_a_dashboard_named_after_it_with_its_console_url(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    plan, region = env_plan(env), ENV_SETTINGS[env]["region"]
    assert plan.one("aws_cloudwatch_dashboard")["dashboard_name"] == f"scones-{env}"
    assert plan.outputs["dashboard_url"] == (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards:name=scones-{env}"
    )


@pytest.mark.parametrize("env", ENVS)
def test_every_metric_widget_names_its_region_and_metrics_in_the_documented_form(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    body = _body(env_plan(env))
    graphs = [w for w in body["widgets"] if w["type"] == "metric"]
    assert {w["type"] for w in body["widgets"]} == {"metric", "alarm"}
    for widget in graphs:
        properties = widget["properties"]
        assert properties["region"] == ENV_SETTINGS[env]["region"], properties["title"]
        assert properties["title"] and properties["period"] in (60, 300, 900, 3600) and properties["stat"]
        for entry in properties["metrics"]:
            options = entry[-1] if isinstance(entry[-1], dict) else {}
            if "expression" in options:
                assert len(entry) == 1 and options["id"]
            else:
                # namespace, name, then dimension name/value pairs
                names = [f for f in entry if not isinstance(f, dict)]
                assert len(names) >= 2 and len(names) % 2 == 0, entry
        # Every id an expression reads is a metric of the same widget.
        ids = {e[-1]["id"] for e in properties["metrics"] if isinstance(e[-1], dict) and "id" in e[-1]}
        for entry in properties["metrics"]:
            expression = entry[-1].get("expression", "") if isinstance(entry[-1], dict) else ""
            for token in expression.replace("(", " ").replace(")", " ").replace(",", " ").split():
                assert not token.isidentifier() or token in ids or token in ("FILL", "IF"), (token, expression)
        # Widgets lie on the 24-column grid without overlapping.
    cells = set()
    for widget in body["widgets"]:
        assert widget["x"] + widget["width"] <= 24
        cell = {
            (x, y)
            for x in range(widget["x"], widget["x"] + widget["width"])
            for y in range(widget["y"], widget["y"] + widget["height"])
        }
        assert not cells & cell, widget["properties"].get("title")
        cells |= cell


@pytest.mark.parametrize("env", ENVS)
def test_every_function_of_the_stack_has_its_errors_and_throttles_drawn(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    plan = env_plan(env)
    functions = {f["function_name"] for f in plan.of_type("aws_lambda_function").values()}
    assert functions == {f"scones-{env}-{name}" for name in FUNCTIONS}
    drawn = {m for w in _body(plan)["widgets"] if w["type"] == "metric" for m in _metrics(w["properties"])}
    lambda_metrics = {(name, dict(dims)["FunctionName"]) for ns, name, dims in drawn if ns == "AWS/Lambda"}
    assert lambda_metrics == {(metric, fn) for fn in functions for metric in ("Errors", "Throttles")}


@pytest.mark.parametrize("env", ENVS)
def test_the_alarm_widget_lists_every_alarm_the_plan_creates(env_plan: Callable[[str], Plan], env: str) -> None:
    plan, settings = env_plan(env), ENV_SETTINGS[env]
    names = {a["alarm_name"] for a in plan.of_type("aws_cloudwatch_metric_alarm").values()}
    assert f"scones-{env}-workflow-failures" in names and f"scones-{env}-endpoint-5xx" in names
    (alarms,) = [w["properties"]["alarms"] for w in _body(plan)["widgets"] if w["type"] == "alarm"]
    prefix = f"arn:aws:cloudwatch:{settings['region']}:{settings['account']}:alarm:"
    assert sorted(alarms) == sorted(prefix + name for name in names)


@pytest.mark.parametrize("env", ENVS)
def test_the_low_confidence_share_is_drawn_against_its_alarms_threshold(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    plan = env_plan(env)
    (alarm,) = [
        a
        for a in plan.of_type("aws_cloudwatch_metric_alarm").values()
        if a["alarm_name"].endswith("-low-confidence-share")
    ]
    fetched = {q["id"]: q["metric"][0] for q in alarm["metric_query"] if q["metric"]}
    (expression,) = [q["expression"] for q in alarm["metric_query"] if q["return_data"]]
    share = _graph(_body(plan), "Low-confidence share")
    assert share["annotations"]["horizontal"][0]["value"] == alarm["threshold"]
    assert f"alarm above {alarm['threshold'] * 100:.4g}% " in share["title"]
    # The widget draws what the alarm evaluates: its queries (every judging function's, hidden), its expression.
    assert {m["period"] for m in fetched.values()} == {share["period"]}
    assert {m["stat"] for m in fetched.values()} == {share["stat"]} == {"Sum"}
    hidden = {entry[-1]["id"]: entry[:-1] for entry in share["metrics"] if isinstance(entry[0], str)}
    assert hidden == {
        id_: [m["namespace"], m["metric_name"], "FunctionName", m["dimensions"]["FunctionName"]]
        for id_, m in fetched.items()
    }
    assert all(entry[-1]["visible"] is False for entry in share["metrics"] if isinstance(entry[0], str))
    drawn = {entry[0]["id"]: entry[0]["expression"] for entry in share["metrics"] if isinstance(entry[0], dict)}
    assert drawn["share"] == expression
    assert drawn["predictions"] == expression.split(" >= ")[0].removeprefix("IF((").removesuffix(")")


@pytest.mark.parametrize("env", ENVS)
def test_executions_are_drawn_by_outcome_with_the_rejections_the_failures_alarm_subtracts(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    plan = env_plan(env)
    (alarm,) = [
        a
        for a in plan.of_type("aws_cloudwatch_metric_alarm").values()
        if a["alarm_name"].endswith("-workflow-failures")
    ]
    alarm_metrics = {
        (q["metric"][0]["namespace"], q["metric"][0]["metric_name"], frozenset(q["metric"][0]["dimensions"].items()))
        for q in alarm["metric_query"]
        if q["metric"]
    }
    executions = _graph(_body(plan), "Workflow executions by outcome")
    drawn = set(_metrics(executions))
    assert alarm_metrics <= drawn
    outcomes = {name for ns, name, _ in drawn if ns == "AWS/States"}
    assert outcomes == {"ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"}
    (expression,) = [e[0]["expression"] for e in executions["metrics"] if "expression" in e[0]]
    (alarm_expression,) = [q["expression"] for q in alarm["metric_query"] if q["expression"]]
    assert expression == alarm_expression


@pytest.mark.parametrize("env", ENVS)
def test_the_endpoint_and_the_api_are_drawn(env_plan: Callable[[str], Plan], env: str) -> None:
    body = _body(env_plan(env))
    drawn = {m[:2] for w in body["widgets"] if w["type"] == "metric" for m in _metrics(w["properties"])}
    assert {name for ns, name in drawn if ns == "AWS/SageMaker"} == {
        "Invocations",
        "ModelLatency",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
    }
    latency = _graph(body, f"Endpoint scones-{env}-classifier: model latency")
    assert sorted(m[-1]["stat"] for m in latency["metrics"]) == ["p50", "p95"]
    assert "microseconds" in latency["title"].lower()
    # The classification API by the dimensions API Gateway publishes under (ApiName, Stage).
    metrics = [m for w in body["widgets"] if w["type"] == "metric" for m in _metrics(w["properties"])]
    dimensions = frozenset({("ApiName", f"scones-{env}-api"), ("Stage", "v1")})
    api = {(name, dims) for ns, name, dims in metrics if ns == "AWS/ApiGateway"}
    assert api == {(name, dimensions) for name in ("Count", "4XXError", "5XXError", "Latency")}
