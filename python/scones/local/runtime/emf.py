"""Embedded metric format (EMF): the metric datapoints CloudWatch Logs extracts from a log event.

Rules from "Specification: Embedded metric format"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
the event is one JSON object whose `_aws` member holds a `Timestamp` (ms since the epoch) and
`CloudWatchMetrics`, a list of directives; each directive names a `Namespace`, its `Dimensions`
(a list of dimension sets, each a list of root members whose values are strings) and its `Metrics`
(`Name` of a root member holding a number or a list of numbers, optional `Unit`). Every dimension
set makes its own metric. An event that breaks the specification stays a log line and makes no
metric, as in CloudWatch Logs (which counts it in `AWS/Logs` EMFValidationErrors).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from scones.local.runtime.cloudwatch_metrics import Datum, InvalidDatumError

_MAX_DIMENSIONS_PER_SET = 30
_MAX_VALUES_PER_METRIC = 100


class _Invalid(Exception):
    """The event is not valid EMF."""


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _values(root: dict[str, Any], name: str) -> list[float]:
    value = root.get(name)
    values = value if isinstance(value, list) else [value]
    if not values or len(values) > _MAX_VALUES_PER_METRIC or not all(_number(v) for v in values):
        raise _Invalid(f"metric {name} has no number value")
    return [float(v) for v in values]


def _dimension_sets(root: dict[str, Any], directive: dict[str, Any]) -> list[dict[str, str]]:
    sets = directive.get("Dimensions")
    if not isinstance(sets, list):
        raise _Invalid("Dimensions is not a list")
    resolved: list[dict[str, str]] = []
    for names in sets or [[]]:
        if not isinstance(names, list) or len(names) > _MAX_DIMENSIONS_PER_SET:
            raise _Invalid("a dimension set is not a list of at most 30 names")
        values = {name: root.get(name) for name in names}
        if not all(isinstance(name, str) and isinstance(value, str) for name, value in values.items()):
            raise _Invalid("a dimension's value is missing or not a string")
        resolved.append(values)  # type: ignore[arg-type]
    return resolved


def _directive_data(root: dict[str, Any], directive: Any, when: datetime) -> list[tuple[str, Datum]]:
    if not isinstance(directive, dict):
        raise _Invalid("a metric directive is not an object")
    namespace = directive.get("Namespace")
    metrics = directive.get("Metrics")
    if not isinstance(namespace, str) or not namespace or not isinstance(metrics, list):
        raise _Invalid("a metric directive has no Namespace or Metrics")
    dimension_sets = _dimension_sets(root, directive)
    data: list[tuple[str, Datum]] = []
    for metric in metrics:
        if not isinstance(metric, dict) or not isinstance(metric.get("Name"), str):
            raise _Invalid("a metric definition has no Name")
        unit = metric.get("Unit", "None")
        for value in _values(root, metric["Name"]):
            for dimensions in dimension_sets:
                try:
                    datum = Datum(metric["Name"], value, unit, dimensions, when)
                except InvalidDatumError as exc:
                    raise _Invalid(str(exc)) from exc
                data.append((namespace, datum))
    return data


def extract(message: str) -> list[tuple[str, Datum]]:
    """(namespace, datapoint) for every metric value an EMF log event carries; [] for any other line."""
    if not message.lstrip().startswith("{") or '"_aws"' not in message:
        return []
    try:
        root = json.loads(message)
    except ValueError:
        return []
    metadata = root.get("_aws") if isinstance(root, dict) else None
    if not isinstance(metadata, dict):
        return []
    timestamp = metadata.get("Timestamp")
    directives = metadata.get("CloudWatchMetrics")
    if not _number(timestamp) or not isinstance(directives, list):
        return []
    when = datetime.fromtimestamp(timestamp / 1000, tz=UTC)
    try:
        return [item for directive in directives for item in _directive_data(root, directive, when)]
    except _Invalid:
        return []
