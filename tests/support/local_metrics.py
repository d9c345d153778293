"""Reading the emulator's CloudWatch metrics the way a user would: GetMetricStatistics, GetMetricData."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

from tests.support.local_fixtures import client

WINDOW = datetime.timedelta(minutes=30)


def statistics(url: str, namespace: str, name: str, dimensions: dict[str, str]) -> dict[str, Any]:
    """Sum, SampleCount, Minimum, Maximum and Unit of one metric over the last half hour (one period)."""
    now = datetime.datetime.now(tz=datetime.UTC)
    datapoints = client("cloudwatch", url).get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=now - WINDOW,
        EndTime=now + datetime.timedelta(minutes=1),
        Period=int(WINDOW.total_seconds()) * 2,
        Statistics=["Sum", "SampleCount", "Minimum", "Maximum"],
    )["Datapoints"]
    if not datapoints:
        return {"Sum": 0.0, "SampleCount": 0.0}
    assert len(datapoints) == 1, datapoints
    return dict(datapoints[0])


def metric_data_sum(url: str, namespace: str, name: str, dimensions: dict[str, str]) -> float:
    """The Sum of one metric over the last half hour, through GetMetricData (exact dimensions)."""
    now = datetime.datetime.now(tz=datetime.UTC)
    results = client("cloudwatch", url).get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=now - WINDOW,
        EndTime=now + datetime.timedelta(minutes=1),
    )["MetricDataResults"]
    return float(sum(results[0]["Values"]))


def eventually(check: Callable[[], Any], timeout_seconds: float = 10.0) -> Any:
    """`check()` once it is truthy (metrics of a finished execution are published by its worker thread)."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)
