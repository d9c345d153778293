"""CloudWatch PutDashboard validates the body as CloudWatch does; moto only checks that it is JSON.

"Dashboard Body Structure and Syntax"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html):
a JSON object with a `widgets` array (0-500 widgets); a widget has a `type` and `properties`, and `width`
at most 24 columns; a metric widget names its `region` and its `metrics` array holds, per metric, the
namespace, the metric name and dimension name/value pairs, then an optional object of rendering options,
or one object with an `expression` and an `id`; an alarm status widget lists 1-100 alarm ARNs. A body
that breaks a rule is refused with DashboardInvalidInputError (code InvalidParameterInput) and what
PutDashboard calls its validation messages, each a data path and a message
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutDashboard.html); the message
lists them as CloudWatch does ("The dashboard body is invalid, there are N validation errors: [...]").
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudwatch.exceptions import DashboardInvalidInputError
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

WIDGET_TYPES = frozenset({"metric", "text", "log", "alarm", "explorer", "custom"})
MAX_WIDGETS = 500
MAX_ALARMS = 100

_original_put_dashboard = CloudWatchResponse.put_dashboard


def validation_errors(body: Any) -> list[dict[str, str]]:
    """What is wrong with a parsed dashboard body: a list of {dataPath, message}, empty when it is valid."""
    if not isinstance(body, dict):
        return [{"dataPath": "", "message": "Should be object"}]
    widgets = body.get("widgets")
    if not isinstance(widgets, list):
        return [{"dataPath": "", "message": "Should have required property 'widgets' (an array)"}]
    if len(widgets) > MAX_WIDGETS:
        return [{"dataPath": "/widgets", "message": f"Should NOT have more than {MAX_WIDGETS} items"}]
    errors: list[dict[str, str]] = []
    for index, widget in enumerate(widgets):
        errors.extend(_widget_errors(f"/widgets/{index}", widget))
    return errors


def _widget_errors(path: str, widget: Any) -> list[dict[str, str]]:
    if not isinstance(widget, dict):
        return [{"dataPath": path, "message": "Should be object"}]
    kind = widget.get("type")
    if kind not in WIDGET_TYPES:
        return [
            {
                "dataPath": f"{path}/type",
                "message": f"Should be equal to one of the allowed values {sorted(WIDGET_TYPES)}",
            }
        ]
    errors = [
        {"dataPath": f"{path}/{field}", "message": "Should be integer"}
        for field in ("x", "y", "width", "height")
        if field in widget and not (isinstance(widget[field], int) and widget[field] >= 0)
    ]
    if isinstance(widget.get("width"), int) and not 1 <= widget["width"] <= 24:
        errors.append({"dataPath": f"{path}/width", "message": "Should be between 1 and 24"})
    properties = widget.get("properties")
    if not isinstance(properties, dict):
        return [*errors, {"dataPath": f"{path}/properties", "message": "Should have required property 'properties'"}]
    if kind == "metric":
        errors.extend(_metric_widget_errors(f"{path}/properties", properties))
    elif kind == "alarm":
        alarms = properties.get("alarms")
        if not (isinstance(alarms, list) and 1 <= len(alarms) <= MAX_ALARMS):
            errors.append(
                {"dataPath": f"{path}/properties/alarms", "message": f"Should be an array of 1-{MAX_ALARMS} alarm ARNs"}
            )
        else:
            errors.extend(
                {"dataPath": f"{path}/properties/alarms/{i}", "message": "Should be an alarm ARN"}
                for i, arn in enumerate(alarms)
                if not (isinstance(arn, str) and arn.startswith("arn:") and ":cloudwatch:" in arn and ":alarm:" in arn)
            )
    elif kind == "text" and not isinstance(properties.get("markdown"), str):
        errors.append({"dataPath": f"{path}/properties", "message": "Should have required property 'markdown'"})
    return errors


def _metric_widget_errors(path: str, properties: dict[str, Any]) -> list[dict[str, str]]:
    errors = []
    if not isinstance(properties.get("region"), str) or not properties["region"]:
        errors.append({"dataPath": path, "message": "Should have required property 'region'"})
    metrics = properties.get("metrics")
    if metrics is None:
        # A graph of one alarm names it in annotations instead of metrics.
        if not (properties.get("annotations") or {}).get("alarms"):
            errors.append({"dataPath": path, "message": "Should have required property 'metrics'"})
        return errors
    if not isinstance(metrics, list):
        return [*errors, {"dataPath": f"{path}/metrics", "message": "Should be array"}]
    for index, entry in enumerate(metrics):
        errors.extend(_metric_errors(f"{path}/metrics/{index}", entry))
    return errors


def _metric_errors(path: str, entry: Any) -> list[dict[str, str]]:
    if not isinstance(entry, list) or not entry:
        return [{"dataPath": path, "message": "Should be a non-empty array"}]
    options = entry[-1] if isinstance(entry[-1], dict) else None
    fields = entry[:-1] if options is not None else entry
    if options is not None and "expression" in options:
        if fields or not isinstance(options["expression"], str) or not isinstance(options.get("id"), str):
            return [{"dataPath": path, "message": "An expression is one object with 'expression' and 'id'"}]
        return []
    if not all(isinstance(field, str) for field in fields):
        return [{"dataPath": path, "message": "Namespace, metric name and dimensions should be strings"}]
    # "." repeats the previous metric's field; fields after the name come in name/value pairs.
    if len(fields) < 2 or len(fields) % 2:
        return [
            {"dataPath": path, "message": "Should be [namespace, metric name, dimension name, dimension value, ...]"}
        ]
    return []


def _put_dashboard(self: CloudWatchResponse) -> ActionResult:
    body = self._get_param("DashboardBody")
    try:
        parsed = json.loads(body)
    except (TypeError, ValueError):
        return _original_put_dashboard(self)  # moto's own answer to a body that is not JSON
    errors = validation_errors(parsed)
    if errors:
        listed = json.dumps(errors)
        raise DashboardInvalidInputError(
            f"The dashboard body is invalid, there are {len(errors)} validation errors: {listed}"
        )
    return _original_put_dashboard(self)


def install() -> None:
    CloudWatchResponse.put_dashboard = _put_dashboard  # type: ignore[method-assign]
