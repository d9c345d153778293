"""CloudWatch alarms on the emulator are evaluated as CloudWatch evaluates them, at a chosen time.

Alarms are put as the project's Terraform puts them (terraform/modules/alarms/main.tf), metric
data with PutMetricData, and the state is read back with DescribeAlarms/DescribeAlarmHistory
and from an SQS queue subscribed to the alarm topic, as a user would see it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from scones.local import control, metric_math
from scones.local.alarms import AlarmEvaluation, evaluate_alarms, evaluate_remote, in_alarm
from scones.local.cli import local_group
from scones.local.emulator_api import EVALUATE_ALARMS_PATH, EmulatorApiError, call
from scones.local.server import LocalAWS
from tests.support.local_fixtures import client, free_port

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # the start of a minute
MINUTE = timedelta(minutes=1)
NAMESPACE = "Scones/Test"
_names = itertools.count()


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as server:
        yield server


@pytest.fixture(scope="module")
def cw(aws: LocalAWS) -> Any:
    return client("cloudwatch", aws.url)


@pytest.fixture(scope="module")
def topic(aws: LocalAWS) -> tuple[str, str]:
    """The alarm topic and the URL of an SQS queue subscribed to it (raw delivery off, as email)."""
    sns, sqs = client("sns", aws.url), client("sqs", aws.url)
    topic_arn = sns.create_topic(Name="alarms")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="alarm-mail")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, queue_url


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


def put(cw: Any, metric: str, values: list[float], at: datetime, dimensions: dict[str, str] | None = None) -> None:
    dims = [{"Name": k, "Value": v} for k, v in (dimensions or {}).items()]
    cw.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[{"MetricName": metric, "Dimensions": dims, "Value": v, "Timestamp": at} for v in values],
    )


def statistic_alarm(cw: Any, name: str, metric: str, **overrides: Any) -> None:
    """An alarm shaped like the module's statistic alarms (Sum > 0 per minute, notBreaching)."""
    settings: dict[str, Any] = {
        "AlarmName": name,
        "Namespace": NAMESPACE,
        "MetricName": metric,
        "Dimensions": [{"Name": "FunctionName", "Value": "fn"}],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }
    settings.update(overrides)
    if "ExtendedStatistic" in overrides:
        settings.pop("Statistic")
    cw.put_metric_alarm(**settings)


def math_alarm(cw: Any, name: str, expression: str, metrics: dict[str, tuple[str, str]], **overrides: Any) -> None:
    """A metric-math alarm: `metrics` maps query id to (metric name, stat), all per minute."""
    queries: list[dict[str, Any]] = [{"Id": "result", "Expression": expression, "ReturnData": True}]
    for query_id, (metric, stat) in metrics.items():
        queries.append(
            {
                "Id": query_id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": metric,
                        "Dimensions": [{"Name": "FunctionName", "Value": "fn"}],
                    },
                    "Period": 60,
                    "Stat": stat,
                },
                "ReturnData": False,
            }
        )
    settings: dict[str, Any] = {
        "AlarmName": name,
        "Metrics": queries,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }
    settings.update(overrides)
    cw.put_metric_alarm(**settings)


def evaluate(name: str, at: datetime) -> AlarmEvaluation:
    return next(e for e in evaluate_alarms(now=at) if e.name == name)


def described(cw: Any, name: str) -> dict[str, Any]:
    return dict(cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0])


def recent_value(cw: Any, name: str) -> list[float]:
    return list(json.loads(described(cw, name)["StateReasonData"])["recentDatapoints"])


def received(aws: LocalAWS, queue_url: str, name: str) -> list[dict[str, Any]]:
    """The notifications about alarm `name` delivered to the queue (SNS envelopes); every
    alarm of the module is evaluated each time, so others' are dropped."""
    sqs = client("sqs", aws.url)
    envelopes: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            envelopes.append(json.loads(message["Body"]))
    return [e for e in envelopes if json.loads(e["Message"])["AlarmName"] == name]


# -- lifecycle and notifications ---------------------------------------------------------------


def test_a_new_alarm_has_insufficient_data_and_an_update_keeps_its_state(cw: Any) -> None:
    name, metric = unique("lifecycle"), unique("Errors")
    statistic_alarm(cw, name, metric)
    assert described(cw, name)["StateValue"] == "INSUFFICIENT_DATA"
    put(cw, metric, [1], T0, {"FunctionName": "fn"})
    assert evaluate(name, T0 + timedelta(seconds=30)).new_state == "ALARM"
    statistic_alarm(cw, name, metric, Threshold=5.0)  # terraform apply changes the threshold
    alarm = described(cw, name)
    assert alarm["StateValue"] == "ALARM" and alarm["Threshold"] == 5.0


def test_transitions_set_the_state_and_notify_the_topic_once(aws: LocalAWS, cw: Any, topic: tuple[str, str]) -> None:
    topic_arn, queue_url = topic
    name, metric = unique("workflow-timeouts"), unique("ExecutionsTimedOut")
    statistic_alarm(
        cw, name, metric, AlarmDescription="Executions timed out.", AlarmActions=[topic_arn], OKActions=[topic_arn]
    )

    quiet = evaluate(name, T0 + timedelta(seconds=30))
    assert (quiet.old_state, quiet.new_state) == ("INSUFFICIENT_DATA", "OK")
    assert quiet.reason == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as "
        "[NonBreaching]."
    )
    assert [json.loads(n["Message"])["NewStateValue"] for n in received(aws, queue_url, name)] == ["OK"]

    put(cw, metric, [2], T0 + MINUTE + timedelta(seconds=5), {"FunctionName": "fn"})
    fired = evaluate(name, T0 + MINUTE + timedelta(seconds=30))
    assert (fired.old_state, fired.new_state, fired.notified) == ("OK", "ALARM", (topic_arn,))
    alarm = described(cw, name)
    assert alarm["StateValue"] == "ALARM" and alarm["StateReason"] == fired.reason
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [2.0")
    assert alarm["StateUpdatedTimestamp"] == T0 + MINUTE + timedelta(seconds=30)
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [2.0]

    [envelope] = received(aws, queue_url, name)
    assert envelope["Subject"] == f'ALARM: "{name}" in US East (N. Virginia)'
    message = json.loads(envelope["Message"])
    assert message["AlarmName"] == name and message["AlarmDescription"] == "Executions timed out."
    assert (message["OldStateValue"], message["NewStateValue"]) == ("OK", "ALARM")
    assert message["AWSAccountId"] == "123456789012" and message["Region"] == "US East (N. Virginia)"
    assert message["AlarmArn"] == alarm["AlarmArn"] and message["NewStateReason"] == fired.reason
    assert message["StateChangeTime"] == "2026-01-01T12:01:30.000+0000"
    assert message["Trigger"]["MetricName"] == metric and message["Trigger"]["Statistic"] == "SUM"
    assert message["Trigger"]["Dimensions"] == [{"value": "fn", "name": "FunctionName"}]

    # Still breaching a little later: no transition, no second mail.
    again = evaluate(name, T0 + MINUTE + timedelta(seconds=50))
    assert not again.changed and again.notified == ()
    assert received(aws, queue_url, name) == []

    # The breaching datapoint is re-evaluated until it leaves the evaluation range (1 + 2 periods).
    assert evaluate(name, T0 + 3 * MINUTE + timedelta(seconds=30)).new_state == "ALARM"
    back = evaluate(name, T0 + 4 * MINUTE + timedelta(seconds=30))
    assert (back.old_state, back.new_state) == ("ALARM", "OK")
    assert [json.loads(n["Message"])["NewStateValue"] for n in received(aws, queue_url, name)] == ["OK"]

    history = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK",
    ]
    actions = cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action")["AlarmHistoryItems"]
    assert len(actions) == 3 and all(topic_arn in a["HistorySummary"] for a in actions)


def test_disabled_actions_change_the_state_but_send_nothing(aws: LocalAWS, cw: Any, topic: tuple[str, str]) -> None:
    topic_arn, queue_url = topic
    name, metric = unique("quiet"), unique("Errors")
    statistic_alarm(cw, name, metric, AlarmActions=[topic_arn], ActionsEnabled=False)
    put(cw, metric, [1], T0, {"FunctionName": "fn"})
    result = evaluate(name, T0 + timedelta(seconds=30))
    assert result.new_state == "ALARM" and result.notified == ()
    assert received(aws, queue_url, name) == []


def test_set_alarm_state_lasts_until_the_next_evaluation(cw: Any) -> None:
    name, metric = unique("manual"), unique("Errors")
    statistic_alarm(cw, name, metric)
    cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing the pager")
    assert described(cw, name)["StateValue"] == "ALARM"
    # SetAlarmState is stamped with the real clock; evaluate after it.
    assert evaluate(name, datetime.now(UTC) + MINUTE).new_state == "OK"
    history = cw.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from ALARM to OK",
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
    ]


def test_in_alarm_lists_the_alarms_in_alarm(cw: Any) -> None:
    firing, calm = unique("firing"), unique("calm")
    metric = unique("Errors")
    statistic_alarm(cw, firing, metric)
    statistic_alarm(cw, calm, metric, Threshold=10.0)
    put(cw, metric, [3], T0, {"FunctionName": "fn"})
    evaluations = evaluate_alarms(now=T0 + timedelta(seconds=30))
    names = in_alarm(evaluations)
    assert firing in names and calm not in names


# -- statistics, percentiles and operators -----------------------------------------------------


@pytest.mark.parametrize(
    ("statistic", "expected"),
    [("SampleCount", 4.0), ("Sum", 16.0), ("Average", 4.0), ("Minimum", 1.0), ("Maximum", 10.0)],
)
def test_each_statistic(cw: Any, statistic: str, expected: float) -> None:
    name, metric = unique(f"stat-{statistic}"), unique("Duration")
    statistic_alarm(cw, name, metric, Statistic=statistic)
    put(cw, metric, [1, 2, 3, 10], T0 + timedelta(seconds=10), {"FunctionName": "fn"})
    evaluate(name, T0 + timedelta(seconds=30))
    assert recent_value(cw, name) == [expected]


def test_percentile_alarm_like_the_endpoint_latency_alarm(cw: Any) -> None:
    name, metric = unique("latency-p95"), unique("ModelLatency")
    # p95 of 1..100 is 95 (nearest rank); threshold 90 ms in microseconds.
    statistic_alarm(cw, name, metric, ExtendedStatistic="p95", Threshold=90.0)
    put(cw, metric, [float(v) for v in range(1, 101)], T0 + timedelta(seconds=10), {"FunctionName": "fn"})
    result = evaluate(name, T0 + timedelta(seconds=30))
    assert result.new_state == "ALARM" and recent_value(cw, name) == [95.0]

    fast = unique("latency-p50")
    statistic_alarm(cw, fast, metric, ExtendedStatistic="p50", Threshold=90.0)
    assert evaluate(fast, T0 + timedelta(seconds=30)).new_state == "OK"
    assert recent_value(cw, fast) == [50.0]


@pytest.mark.parametrize(
    ("low_samples", "samples", "expected"),
    [("ignore", 99, "INSUFFICIENT_DATA"), ("ignore", 100, "ALARM"), ("evaluate", 10, "ALARM"), (None, 10, "ALARM")],
)
def test_low_sample_count_percentiles(cw: Any, low_samples: str | None, samples: int, expected: str) -> None:
    # p90 needs 10 / (1 - 0.9) = 100 samples before `ignore` lets it change state.
    name, metric = unique("p90-low-samples"), unique("ModelLatency")
    extra = {"EvaluateLowSampleCountPercentile": low_samples} if low_samples else {}
    statistic_alarm(cw, name, metric, ExtendedStatistic="p90", Threshold=5.0, **extra)
    put(cw, metric, [10.0] * samples, T0 + timedelta(seconds=10), {"FunctionName": "fn"})
    assert evaluate(name, T0 + timedelta(seconds=30)).new_state == expected


def test_a_percentile_of_statistic_sets_only_has_no_value(cw: Any) -> None:
    name, metric = unique("p99-sets"), unique("ModelLatency")
    statistic_alarm(cw, name, metric, ExtendedStatistic="p99", TreatMissingData="missing")
    cw.put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": "fn"}],
                "StatisticValues": {"SampleCount": 3, "Sum": 6, "Minimum": 1, "Maximum": 3},
                "Timestamp": T0,
            }
        ],
    )
    assert evaluate(name, T0 + timedelta(seconds=30)).new_state == "INSUFFICIENT_DATA"


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("GreaterThanThreshold", "OK"),
        ("GreaterThanOrEqualToThreshold", "ALARM"),
        ("LessThanThreshold", "OK"),
        ("LessThanOrEqualToThreshold", "ALARM"),
    ],
)
def test_each_comparison_operator_at_the_threshold(cw: Any, operator: str, expected: str) -> None:
    name, metric = unique(f"op-{operator}"), unique("Value")
    statistic_alarm(cw, name, metric, ComparisonOperator=operator, Threshold=5.0)
    put(cw, metric, [5], T0, {"FunctionName": "fn"})
    assert evaluate(name, T0 + timedelta(seconds=30)).new_state == expected


def test_only_the_alarms_metric_counts(cw: Any) -> None:
    name, metric = unique("dims"), unique("Errors")
    statistic_alarm(cw, name, metric)
    put(cw, metric, [9], T0, {"FunctionName": "other"})
    put(cw, metric, [9], T0, {"FunctionName": "fn", "Version": "2"})  # another dimension set
    put(cw, metric, [9], T0 + timedelta(minutes=5), {"FunctionName": "fn"})  # after `now`
    assert evaluate(name, T0 + timedelta(seconds=30)).new_state == "OK"


# -- evaluation periods, M of N and missing data ----------------------------------------------


def put_pattern(cw: Any, metric: str, pattern: str, start: datetime = T0) -> datetime:
    """One datapoint per minute from `start`: X breaching (1), 0 not breaching (0), - missing.
    Returns the evaluation time: within the minute of the last character."""
    for index, mark in enumerate(pattern.split()):
        if mark != "-":
            at = start + index * MINUTE + timedelta(seconds=5)
            put(cw, metric, [1.0 if mark == "X" else 0.0], at, {"FunctionName": "fn"})
    return start + (len(pattern.split()) - 1) * MINUTE + timedelta(seconds=30)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("0 X 0", "OK"), ("0 X X", "ALARM"), ("X 0 X", "ALARM"), ("X 0 0", "OK"), ("X X X 0 0", "OK")],
)
def test_m_of_n(cw: Any, pattern: str, expected: str) -> None:
    name, metric = unique("m-of-n"), unique("Errors")
    statistic_alarm(cw, name, metric, EvaluationPeriods=3, DatapointsToAlarm=2)
    assert evaluate(name, put_pattern(cw, metric, pattern)).new_state == expected


# The two tables of "Configuring how CloudWatch alarms treat missing data", row by row
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html):
# data points oldest first, then the state for missing, ignore, breaching, notBreaching.
RETAIN = "retain"
MISSING_DATA_TABLES = {
    # Datapoints to alarm 3 of 3 evaluation periods.
    3: [
        ("0 - X - X", ("OK", "OK", "OK", "OK")),
        ("0 - - - -", ("OK", "OK", "OK", "OK")),
        ("- - - - -", ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
        ("0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
        ("- - - - X", ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
        ("X - - - -", ("ALARM", RETAIN, "ALARM", "OK")),
    ],
    # Datapoints to alarm 2 of 3 evaluation periods.
    2: [
        ("0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
        ("0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
        ("0 - X - -", ("OK", "OK", "ALARM", "OK")),
        ("- - - - 0", ("OK", "OK", "ALARM", "OK")),
        ("- - - - X", ("INSUFFICIENT_DATA", RETAIN, "ALARM", "OK")),
    ],
}
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")


@pytest.mark.parametrize(
    ("datapoints_to_alarm", "pattern", "treatment", "expected"),
    [
        (m, pattern, treatment, states[i])
        for m, rows in MISSING_DATA_TABLES.items()
        for pattern, states in rows
        for i, treatment in enumerate(TREATMENTS)
    ],
)
def test_missing_data_as_the_aws_tables_say(
    cw: Any, datapoints_to_alarm: int, pattern: str, treatment: str, expected: str
) -> None:
    # A state the expected outcome is not, so that "kept" and "set" differ.
    priors = ("OK", "ALARM") if expected == RETAIN else ("ALARM" if expected != "ALARM" else "OK",)
    for prior in priors:
        name, metric = unique("missing-data"), unique("Errors")
        statistic_alarm(
            cw,
            name,
            metric,
            EvaluationPeriods=3,
            DatapointsToAlarm=datapoints_to_alarm,
            TreatMissingData=treatment,
        )
        cw.set_alarm_state(AlarmName=name, StateValue=prior, StateReason="before the test")
        result = evaluate(name, put_pattern(cw, metric, pattern))
        assert result.new_state == (prior if expected == RETAIN else expected), (prior, result.reason)


# -- metric math --------------------------------------------------------------------------------


def test_errors_minus_rejections_like_the_filter_errors_alarm(cw: Any) -> None:
    name, errors, rejected = unique("filter-errors"), unique("Errors"), unique("LowConfidence")
    math_alarm(
        cw, name, "FILL(errors, 0) - FILL(rejected, 0)", {"errors": (errors, "Sum"), "rejected": (rejected, "Sum")}
    )
    # Every error is a rejection: the alarm stays OK.
    put(cw, errors, [1, 1, 1], T0, {"FunctionName": "fn"})
    put(cw, rejected, [1, 1, 1], T0, {"FunctionName": "fn"})
    result = evaluate(name, T0 + timedelta(seconds=30))
    assert result.new_state == "OK" and recent_value(cw, name) == [0.0]
    # One error that is not a rejection.
    put(cw, errors, [1, 1], T0 + MINUTE, {"FunctionName": "fn"})
    put(cw, rejected, [1], T0 + MINUTE, {"FunctionName": "fn"})
    assert evaluate(name, T0 + MINUTE + timedelta(seconds=30)).new_state == "ALARM"
    assert recent_value(cw, name) == [1.0]
    # Errors with no rejections at all that minute: FILL makes the missing rejections 0.
    put(cw, errors, [1], T0 + 2 * MINUTE, {"FunctionName": "fn"})
    evaluate(name, T0 + 2 * MINUTE + timedelta(seconds=30))
    assert described(cw, name)["StateValue"] == "ALARM"


def test_failed_minus_rejections_has_no_value_without_failures(cw: Any) -> None:
    # The workflow alarm's `failed - FILL(rejected, 0)`: no failed datapoint, no result datapoint.
    name, failed, rejected = unique("workflow-failures"), unique("ExecutionsFailed"), unique("LowConfidence")
    math_alarm(
        cw,
        name,
        "failed - FILL(rejected, 0)",
        {"failed": (failed, "Sum"), "rejected": (rejected, "Sum")},
        TreatMissingData="missing",
    )
    put(cw, rejected, [1], T0, {"FunctionName": "fn"})
    assert evaluate(name, T0 + timedelta(seconds=30)).new_state == "INSUFFICIENT_DATA"
    put(cw, failed, [2], T0 + MINUTE, {"FunctionName": "fn"})
    assert evaluate(name, T0 + MINUTE + timedelta(seconds=30)).new_state == "ALARM"
    assert recent_value(cw, name) == [2.0]


def test_if_like_the_low_confidence_share_alarm(cw: Any) -> None:
    name, low, predictions = unique("low-confidence-share"), unique("LowConfidence"), unique("Predictions")
    math_alarm(
        cw,
        name,
        "IF(predictions >= 5, low_confidence, 0)",
        {"low_confidence": (low, "Average"), "predictions": (predictions, "Sum")},
        Threshold=0.3,
    )
    # Three predictions, all low confidence: too few to judge.
    put(cw, low, [1, 1, 1], T0, {"FunctionName": "fn"})
    put(cw, predictions, [1, 1, 1], T0, {"FunctionName": "fn"})
    assert evaluate(name, T0 + timedelta(seconds=30)).new_state == "OK"
    assert recent_value(cw, name) == [0.0]
    # Ten predictions, half of them low confidence.
    put(cw, low, [1, 1, 1, 1, 1, 0, 0, 0, 0, 0], T0 + MINUTE, {"FunctionName": "fn"})
    put(cw, predictions, [1] * 10, T0 + MINUTE, {"FunctionName": "fn"})
    assert evaluate(name, T0 + MINUTE + timedelta(seconds=30)).new_state == "ALARM"
    assert recent_value(cw, name) == [0.5]


def test_a_math_alarm_notification_names_its_queries(aws: LocalAWS, cw: Any, topic: tuple[str, str]) -> None:
    topic_arn, queue_url = topic
    name, errors, rejected = unique("math-mail"), unique("Errors"), unique("LowConfidence")
    math_alarm(
        cw,
        name,
        "FILL(errors, 0) - FILL(rejected, 0)",
        {"errors": (errors, "Sum"), "rejected": (rejected, "Sum")},
        AlarmActions=[topic_arn],
    )
    put(cw, errors, [2], T0, {"FunctionName": "fn"})
    assert evaluate(name, T0 + timedelta(seconds=30)).notified == (topic_arn,)
    [envelope] = received(aws, queue_url, name)
    trigger = json.loads(envelope["Message"])["Trigger"]
    assert [q["Id"] for q in trigger["Metrics"]] == ["result", "errors", "rejected"]
    assert trigger["Metrics"][0] == {
        "Id": "result",
        "Expression": "FILL(errors, 0) - FILL(rejected, 0)",
        "ReturnData": True,
    }
    assert trigger["Metrics"][1]["MetricStat"]["Metric"]["MetricName"] == errors


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("a + b", [9.0]),
        ("a - b", [3.0]),
        ("a * b", [18.0]),
        ("a / b", [2.0]),
        ("a / (b - 3)", []),  # division by zero: no datapoint
        ("a ^ 2", [36.0]),
        ("-a + 1", [-5.0]),
        ("(a + b) * 2", [18.0]),
        ("ABS(b - a)", [3.0]),
        ("a > b", [1.0]),
        ("a >= 6", [1.0]),
        ("a < b", [0.0]),
        ("a <= b", [0.0]),
        ("a == 6", [1.0]),
        ("a != 6", [0.0]),
        ("a > 1 AND b > 5", [0.0]),
        ("a > 1 && b > 1", [1.0]),
        ("a > 7 OR b > 1", [1.0]),
        ("a > 7 || b > 5", [0.0]),
        ("NOT a > b", [0.0]),
        ("!(a < b)", [1.0]),
        ("IF(a > b, a, b)", [6.0]),
        ("IF(a < b, a, b)", [3.0]),
        ("IF(a < b, a)", []),  # false without a false value: no datapoint
        ("FILL(c, 7)", [7.0]),
        ("FILL(a, 7)", [6.0]),
        ("a + c", []),  # c has no data: no datapoint
        ("a * 2 + b / 3", [13.0]),
    ],
)
def test_each_math_operation(cw: Any, expression: str, expected: list[float]) -> None:
    name, a, b, c = unique("math"), unique("A"), unique("B"), unique("C")
    math_alarm(
        cw,
        name,
        expression,
        {"a": (a, "Sum"), "b": (b, "Sum"), "c": (c, "Sum")},
        TreatMissingData="missing",
        Threshold=-100.0,
    )
    put(cw, a, [6], T0, {"FunctionName": "fn"})
    put(cw, b, [3], T0, {"FunctionName": "fn"})
    result = evaluate(name, T0 + timedelta(seconds=30))
    if expected:
        assert result.new_state == "ALARM" and recent_value(cw, name) == expected
    else:
        assert result.new_state == "INSUFFICIENT_DATA"


@pytest.mark.parametrize("text", ["a +", "(a", "a b", "a $ b", "", "FILL(a, 0"])
def test_the_parser_refuses_what_is_not_an_expression(text: str) -> None:
    with pytest.raises(metric_math.ExpressionError):
        metric_math.parse(text)


def test_an_alarm_the_emulator_cannot_evaluate_keeps_its_state_and_says_why(cw: Any) -> None:
    name, a = unique("unsupported"), unique("A")
    math_alarm(cw, name, "ANOMALY_DETECTION_BAND(a)", {"a": (a, "Sum")})
    put(cw, a, [1], T0, {"FunctionName": "fn"})
    result = evaluate(name, T0 + timedelta(seconds=30))
    assert result.new_state == "INSUFFICIENT_DATA" and not result.changed
    assert result.error is not None and "ANOMALY_DETECTION_BAND" in result.error


def test_the_emulator_route_evaluates_and_refuses_bad_requests(aws: LocalAWS, cw: Any) -> None:
    name, metric = unique("over-http"), unique("Errors")
    statistic_alarm(cw, name, metric)
    put(cw, metric, [1], T0, {"FunctionName": "fn"})
    [result] = [e for e in evaluate_remote(aws.url, T0 + timedelta(seconds=30)) if e.name == name]
    assert (result.old_state, result.new_state) == ("INSUFFICIENT_DATA", "ALARM")
    assert result.evaluated_at == T0 + timedelta(seconds=30)
    with pytest.raises(EmulatorApiError, match="400"):
        call(aws.url, "POST", EVALUATE_ALARMS_PATH, body={"at": "not a time"})
    with pytest.raises(EmulatorApiError, match="404"):
        call(aws.url, "POST", "/_scones/nothing", body={})


# -- the command ----------------------------------------------------------------------------------


def test_scones_local_alarms_evaluates_the_running_emulator(state_dir: Path) -> None:
    runner = CliRunner()
    down = runner.invoke(local_group, ["alarms", "--state-dir", str(state_dir)])
    assert down.exit_code != 0 and "not running" in down.output

    state, _ = control.up(state_dir, free_port())
    cw = client("cloudwatch", state.url)
    statistic_alarm(cw, "scones-local-endpoint-5xx", "Invocation5XXErrors")
    statistic_alarm(cw, "scones-local-workflow-timeouts", "ExecutionsTimedOut")
    put(cw, "Invocation5XXErrors", [1], T0, {"FunctionName": "fn"})
    at = ["--at", "2026-01-01T12:00:30", "--state-dir", str(state_dir)]

    result = runner.invoke(local_group, ["alarms", *at])
    assert result.exit_code == 0, result.output
    assert "scones-local-endpoint-5xx: INSUFFICIENT_DATA -> ALARM" in result.output
    assert "scones-local-workflow-timeouts: INSUFFICIENT_DATA -> OK" in result.output
    assert "Threshold Crossed: 1 out of the last 1 datapoints [1.0" in result.output
    assert described(cw, "scones-local-endpoint-5xx")["StateValue"] == "ALARM"

    failing = runner.invoke(local_group, ["alarms", "--fail-on-alarm", *at])
    assert failing.exit_code == 4
    assert "scones-local-endpoint-5xx: ALARM\n" in failing.output
    assert "1 alarm(s) in ALARM: scones-local-endpoint-5xx" in failing.output

    later = ["--at", "2026-01-01T12:10:00Z", "--fail-on-alarm", "--state-dir", str(state_dir)]
    recovered = runner.invoke(local_group, ["alarms", *later])
    assert recovered.exit_code == 0 and "ALARM -> OK" in recovered.output

    bad = runner.invoke(local_group, ["alarms", "--at", "yesterday", "--state-dir", str(state_dir)])
    assert bad.exit_code != 0 and "ISO-8601" in bad.output
