"""lambda_common.metrics: the embedded-metric-format envelope every function uses."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from lambda_common.metrics import Metric, emit, envelope


def test_envelope_follows_the_embedded_metric_format() -> None:
    line = envelope(
        [Metric("Predictions", 1, "Count"), Metric("Confidence", 0.97)],
        {"FunctionName": "f"},
        properties={"s3_key": "data/test/bicycle/x.png"},
        timestamp_ms=1_700_000_000_000,
    )
    assert line == {
        "_aws": {
            "Timestamp": 1_700_000_000_000,
            "CloudWatchMetrics": [
                {
                    "Namespace": "SconesUnlimited",
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [{"Name": "Predictions", "Unit": "Count"}, {"Name": "Confidence", "Unit": "None"}],
                }
            ],
        },
        "FunctionName": "f",
        "Predictions": 1,
        "Confidence": 0.97,
        "s3_key": "data/test/bicycle/x.png",
    }


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (lambda: Metric("Latency", 1.0, "ms"), "unit 'ms'"),
        (lambda: Metric("Confidence", float("nan")), "not finite"),
    ],
)
def test_invalid_metrics_are_refused(metric: Callable[[], Metric], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        metric()


def test_names_may_not_clash() -> None:
    with pytest.raises(ValueError, match="may not share a name"):
        envelope([Metric("FunctionName", 1, "Count")], {"FunctionName": "f"})
    with pytest.raises(ValueError, match="may not share a name"):
        envelope([Metric("Predictions", 1, "Count")], {"FunctionName": "f"}, properties={"Predictions": 2})


def test_emit_writes_one_line_whatever_the_log_level(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    emit([Metric("Predictions", 1, "Count")], {"FunctionName": "f"})
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["Predictions"] == 1
