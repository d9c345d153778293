"""CloudWatch dashboards on the emulator: PutDashboard refuses a body CloudWatch refuses, with its validation
messages, and stores a valid one for GetDashboard/ListDashboards
(python/scones/local/services/cloudwatch_dashboards.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scones.local.server import LocalAWS
from tests.support.local_fixtures import client

GRAPH = {
    "type": "metric",
    "x": 0,
    "y": 0,
    "width": 12,
    "height": 6,
    "properties": {
        "region": "us-east-1",
        "title": "Errors",
        "metrics": [
            ["AWS/Lambda", "Errors", "FunctionName", "f", {"id": "errors"}],
            ["AWS/Lambda", "Throttles", "FunctionName", "f"],
            [{"expression": "errors * 2", "id": "doubled", "label": "Twice"}],
        ],
    },
}
ALARMS = {"type": "alarm", "properties": {"alarms": ["arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"]}}


@pytest.fixture(scope="module")
def cw() -> Iterator[Any]:
    with LocalAWS() as aws:
        yield client("cloudwatch", aws.url)


def _refusal(cw: Any, body: Any) -> list[dict[str, str]]:
    with pytest.raises(ClientError) as raised:
        cw.put_dashboard(DashboardName="bad", DashboardBody=json.dumps(body))
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterInput"
    assert error["Message"].startswith("The dashboard body is invalid, there are ")
    messages: list[dict[str, str]] = json.loads(error["Message"].split("validation errors: ", 1)[1])
    return messages


def test_a_valid_body_is_stored_and_read_back(cw: Any) -> None:
    body = json.dumps({"widgets": [GRAPH, ALARMS]})
    assert cw.put_dashboard(DashboardName="ops", DashboardBody=body)["DashboardValidationMessages"] == []
    assert json.loads(cw.get_dashboard(DashboardName="ops")["DashboardBody"]) == json.loads(body)
    assert [d["DashboardName"] for d in cw.list_dashboards(DashboardNamePrefix="op")["DashboardEntries"]] == ["ops"]
    assert cw.put_dashboard(DashboardName="empty", DashboardBody='{"widgets": []}')["DashboardValidationMessages"] == []


def test_a_body_without_a_widgets_array_is_refused(cw: Any) -> None:
    assert _refusal(cw, {"start": "-PT6H"})[0]["message"].startswith("Should have required property 'widgets'")
    assert _refusal(cw, [GRAPH])[0]["message"] == "Should be object"


def test_each_broken_widget_is_named_by_its_data_path(cw: Any) -> None:
    no_region = {**GRAPH, "properties": {k: v for k, v in GRAPH["properties"].items() if k != "region"}}
    bad_metric = {**GRAPH, "properties": {**GRAPH["properties"], "metrics": [["AWS/Lambda", "Errors", "FunctionName"]]}}
    messages = _refusal(
        cw,
        {
            "widgets": [
                GRAPH,
                no_region,
                bad_metric,
                {"type": "chart", "properties": {}},
                {"type": "alarm", "properties": {"alarms": []}},
                {**GRAPH, "width": 30},
            ]
        },
    )
    assert [m["dataPath"] for m in messages] == [
        "/widgets/1/properties",
        "/widgets/2/properties/metrics/0",
        "/widgets/3/type",
        "/widgets/4/properties/alarms",
        "/widgets/5/width",
    ]
    assert messages[0]["message"] == "Should have required property 'region'"
    with pytest.raises(ClientError):
        cw.get_dashboard(DashboardName="bad")  # nothing stored


def test_a_body_that_is_not_json_gets_motos_answer(cw: Any) -> None:
    with pytest.raises(ClientError, match="invalid JSON"):
        cw.put_dashboard(DashboardName="bad", DashboardBody="{")
