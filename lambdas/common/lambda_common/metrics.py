"""CloudWatch embedded metric format (EMF): metrics as a log line, no PutMetricData call.

CloudWatch Logs turns each line whose `_aws` key follows the specification into metric data
points: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
The envelope is built here once; a function only names its metrics.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambda_common.logs import write_line

NAMESPACE = "SconesUnlimited"
# The units the specification accepts (a subset: the ones a function here may need).
UNITS = {"None", "Count", "Percent", "Seconds", "Milliseconds", "Microseconds", "Bytes"}


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str = "None"

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"metric {self.name}: unit {self.unit!r} is not one of {sorted(UNITS)}")
        if not math.isfinite(self.value):
            # CloudWatch rejects NaN and infinities; a silently dropped line would hide the bug.
            raise ValueError(f"metric {self.name}: value {self.value!r} is not finite")


def envelope(
    metrics: list[Metric],
    dimensions: Mapping[str, str],
    *,
    namespace: str = NAMESPACE,
    properties: Mapping[str, Any] | None = None,
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """One EMF object: the metrics under one dimension set, plus searchable properties."""
    clashes = set(dimensions) & {m.name for m in metrics}
    if clashes or (properties and set(properties) & (set(dimensions) | {m.name for m in metrics} | {"_aws"})):
        raise ValueError(f"a metric, dimension and property may not share a name: {sorted(clashes)}")
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000) if timestamp_ms is None else timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [sorted(dimensions)],
                    "Metrics": [{"Name": m.name, "Unit": m.unit} for m in metrics],
                }
            ],
        },
        **dimensions,
        **{m.name: m.value for m in metrics},
        **(properties or {}),
    }


def emit(metrics: list[Metric], dimensions: Mapping[str, str], **properties: Any) -> None:
    """Write one EMF line to stdout (always: metrics are not filtered by LOG_LEVEL)."""
    write_line(envelope(metrics, dimensions, properties=properties))
