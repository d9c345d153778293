"""Put metric datapoints into the emulator's CloudWatch (moto's in-process backend), as PutMetricData does.

The one place the emulator publishes metrics: what AWS services publish on their own (`AWS/Lambda`,
`AWS/States`, `AWS/SageMaker`) and what CloudWatch Logs extracts from embedded-metric-format lines.
Datapoints go through moto's own `put_metric_data`, so `GetMetricStatistics`, `GetMetricData` and
`ListMetrics` return them exactly as if a client had called PutMetricData.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends

# CloudWatch's StandardUnit values ("MetricDatum", CloudWatch API Reference:
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDatum.html).
STANDARD_UNITS = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)

# moto's backend appends to plain lists; the Lambda sandboxes, the model server and Step Functions
# executions publish from their own threads.
_lock = threading.Lock()


class InvalidDatumError(ValueError):
    """A datapoint CloudWatch would refuse (unknown unit, non-finite value)."""


@dataclass(frozen=True)
class Datum:
    """One datapoint of one metric: what a MetricDatum of PutMetricData carries."""

    name: str
    value: float
    unit: str = "None"
    dimensions: Mapping[str, str] = field(default_factory=dict)
    timestamp: datetime | None = None  # aware; None means now

    def __post_init__(self) -> None:
        if self.unit not in STANDARD_UNITS:
            raise InvalidDatumError(f"metric {self.name}: unit {self.unit!r} is not a CloudWatch StandardUnit")
        if not math.isfinite(self.value):
            raise InvalidDatumError(f"metric {self.name}: value {self.value!r} is not finite")

    def as_metric_datum(self) -> dict[str, Any]:
        """The MetricDatum moto's put_metric_data takes (moto keeps timestamps as naive UTC)."""
        when = self.timestamp or datetime.now(tz=UTC)
        return {
            "MetricName": self.name,
            "Value": float(self.value),
            "Unit": self.unit,
            "Dimensions": [{"Name": name, "Value": value} for name, value in self.dimensions.items()],
            "Timestamp": when.astimezone(UTC).replace(tzinfo=None),
        }


def publish(account_id: str, region: str, namespace: str, data: Iterable[Datum]) -> None:
    """Put `data` into `namespace` of the account's CloudWatch in `region`."""
    metric_data = [datum.as_metric_datum() for datum in data]
    if not metric_data:
        return
    with _lock:
        cloudwatch_backends[account_id][region].put_metric_data(namespace, metric_data)
