"""Evaluate the emulator's CloudWatch metric alarms the way CloudWatch does, at a given time.

moto stores alarms and metric data but evaluates nothing. `evaluate_alarms(now=...)` goes over
every metric alarm in moto's CloudWatch backends (every account and region this process holds),
computes its datapoints from moto's metric data, decides its state, sets it as SetAlarmState
would (DescribeAlarms and DescribeAlarmHistory show it: `services/cloudwatch_alarms.py`)
and, on a state change with actions enabled, publishes CloudWatch's JSON notification to the
SNS topics among the actions for the new state, through moto's SNS backend, so subscribers get
it. The clock is an argument: tests and bake times move time instead of sleeping.

The rules, from "Using Amazon CloudWatch alarms" and "Configuring how CloudWatch alarms treat
missing data" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html):

- Datapoints are per Period; periods are aligned to multiples of Period since the epoch, and the
  newest is the one that holds `now` (data published a moment ago counts at once; CloudWatch
  itself evaluates a little later). Data stamped after `now` is not seen.
- The evaluation range is EvaluationPeriods + 2 periods (the page's example: "CloudWatch
  retrieves the 5 most recent data points" for 3 evaluation periods).
- With at least EvaluationPeriods real datapoints in the range, the most recent
  EvaluationPeriods of them are evaluated and TreatMissingData is not used. With fewer, every
  real datapoint in the range is evaluated, topped up with as few filled ones as needed
  (breaching or notBreaching). ALARM when at least DatapointsToAlarm are breaching, else OK.
- `missing` and `ignore` fill nothing: ALARM with enough breaching points, OK with any
  non-breaching one; with only breaching ones (fewer than DatapointsToAlarm) `missing` gives
  INSUFFICIENT_DATA, or ALARM when none of them is among the last EvaluationPeriods periods,
  and `ignore` keeps the state; with no data `missing` gives INSUFFICIENT_DATA and `ignore`
  keeps the state. This reproduces the two tables of the missing-data page, row by row
  (tests/unit/local/test_alarms.py checks each row).
- Statistic (SampleCount, Average, Sum, Minimum, Maximum) or ExtendedStatistic pNN[.N]
  (nearest rank over the raw values; values published only as StatisticSets have none), and
  metric math (`metric_math.py`) over MetricStat queries with the ReturnData one as the alarm's.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import botocore.session
from moto.cloudwatch.models import (
    Alarm,
    CloudWatchBackend,
    Metric,
    MetricAggregatedDatum,
    MetricDatum,
    MetricDatumBase,
    cloudwatch_backends,
)
from moto.sns.models import sns_backends

from scones.local import metric_math
from scones.local.emulator_api import EVALUATE_ALARMS_PATH, Request, call
from scones.local.services import cloudwatch_alarms

OK = "OK"
ALARM = "ALARM"
INSUFFICIENT_DATA = "INSUFFICIENT_DATA"

# Periods fetched beyond EvaluationPeriods (see the module docstring).
EXTRA_PERIODS = 2

_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}
_EVALUATING = threading.Lock()
_OBSERVERS: list[Callable[[datetime], None]] = []
_BASIC_STATISTICS = frozenset({"SampleCount", "Average", "Sum", "Minimum", "Maximum"})


class AlarmConfigError(ValueError):
    """An alarm the emulator cannot evaluate (an unsupported statistic, operator or expression)."""


@dataclass(frozen=True)
class AlarmEvaluation:
    """One alarm's evaluation: its state before and after, and why."""

    name: str
    arn: str
    old_state: str
    new_state: str
    reason: str
    reason_data: str  # StateReasonData (JSON)
    evaluated_at: datetime
    notified: tuple[str, ...] = ()  # SNS topics the transition was published to
    error: str | None = None  # set when the alarm could not be evaluated (its state is kept)

    @property
    def changed(self) -> bool:
        return self.old_state != self.new_state

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "arn": self.arn,
            "old_state": self.old_state,
            "new_state": self.new_state,
            "reason": self.reason,
            "reason_data": self.reason_data,
            "evaluated_at": self.evaluated_at.isoformat(),
            "notified": list(self.notified),
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> AlarmEvaluation:
        return cls(
            name=str(raw["name"]),
            arn=str(raw["arn"]),
            old_state=str(raw["old_state"]),
            new_state=str(raw["new_state"]),
            reason=str(raw["reason"]),
            reason_data=str(raw.get("reason_data", "{}")),
            evaluated_at=datetime.fromisoformat(str(raw["evaluated_at"])),
            notified=tuple(raw.get("notified", ())),
            error=raw.get("error"),
        )


def in_alarm(evaluations: Iterable[AlarmEvaluation]) -> list[str]:
    """The names of the alarms that are in ALARM after an evaluation, sorted."""
    return sorted(e.name for e in evaluations if e.new_state == ALARM)


def after_evaluation(observer: Callable[[datetime], None]) -> None:
    """Call `observer(now)` after every evaluation, once the alarms hold their states at `now` (idempotent).

    What watches alarms over time (SageMaker's deployment monitor, `services/sagemaker_deployments.py`)
    moves on the same clock as the alarms: a test that evaluates at a later time advances both."""
    if observer not in _OBSERVERS:
        _OBSERVERS.append(observer)


def evaluate_alarms(now: datetime | None = None) -> list[AlarmEvaluation]:
    """Evaluate every metric alarm the emulator holds at `now` (default: the current time)."""
    at = _as_utc(now or datetime.now(UTC))
    results: list[AlarmEvaluation] = []
    # One evaluation at a time (the CLI's route and an in-process caller), or a transition
    # could be seen, and notified, twice.
    with _EVALUATING:
        for backend in _cloudwatch_backends():
            data = backend.get_all_metrics()  # once: moto computes its S3 metrics on every call
            for alarm in list(backend.alarms.values()):
                if alarm.rule is None:  # composite alarms are not evaluated
                    results.append(_evaluate_alarm(alarm, at, data))
    for observer in list(_OBSERVERS):
        observer(at)
    return sorted(results, key=lambda r: r.name)


def _evaluate_alarm(alarm: Alarm, now: datetime, data: Sequence[MetricDatumBase]) -> AlarmEvaluation:
    """Evaluate one alarm at `now`, set its state and send its notifications."""
    old = alarm.state_value
    kept = AlarmEvaluation(alarm.name, alarm.alarm_arn, old, old, alarm.state_reason, alarm.state_reason_data, now)
    try:
        if _too_few_samples(data, alarm, now):
            return kept
        decision = _decide(alarm, _datapoints(data, alarm, now), old)
    except (AlarmConfigError, metric_math.ExpressionError) as exc:
        return replace(kept, error=str(exc))
    if decision.state is None or decision.state == old:
        return kept
    reason_data = json.dumps(decision.reason_data(alarm, now))
    cloudwatch_alarms.set_state(alarm, decision.state, decision.reason, reason_data, now)
    notified = _notify(alarm, old, now) if alarm.actions_enabled else ()
    return replace(kept, new_state=decision.state, reason=decision.reason, reason_data=reason_data, notified=notified)


def _cloudwatch_backends() -> Iterator[CloudWatchBackend]:
    for account_id in list(cloudwatch_backends):
        # dict.values: only the regions that exist (indexing would create them).
        yield from list(dict.values(cloudwatch_backends[account_id]))


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# -- datapoints -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Datapoints:
    """The alarm's value per period of the evaluation range, oldest first (None: missing)."""

    period: int
    starts: tuple[datetime, ...]
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Window:
    """The periods an evaluation at `now` looks at: their starts, oldest first."""

    starts: tuple[datetime, ...]
    period: int
    now: datetime

    @classmethod
    def ending_at(cls, now: datetime, period: int, count: int) -> Window:
        newest = math.floor(now.timestamp() / period) * period
        starts = tuple(datetime.fromtimestamp(newest - i * period, UTC) for i in reversed(range(count)))
        return cls(starts, period, now)

    def datapoints(self, series: metric_math.Series) -> Datapoints:
        return Datapoints(self.period, self.starts, tuple(series.get(s) for s in self.starts))


def _datapoints(data: Sequence[MetricDatumBase], alarm: Alarm, now: datetime) -> Datapoints:
    count = int(alarm.evaluation_periods) + EXTRA_PERIODS
    if alarm.metric_data_queries:
        return _math_datapoints(data, alarm, now, count)
    statistic = alarm.extended_statistic or alarm.statistic
    if not statistic:
        raise AlarmConfigError("the alarm has neither a Statistic, an ExtendedStatistic nor Metrics")
    window = Window.ending_at(now, int(alarm.period), count)
    metric = Metric(alarm.metric_name, alarm.namespace, alarm.dimensions)
    return window.datapoints(_series(data, metric, alarm.unit, statistic, window))


def _too_few_samples(data: Sequence[MetricDatumBase], alarm: Alarm, now: datetime) -> bool:
    """EvaluateLowSampleCountPercentile `ignore`: a percentile alarm keeps its state while its
    evaluation periods hold fewer than 10/(1-p) samples (p >= 0.5), or 10/p (p < 0.5), as
    "Percentile-based alarms and low data samples" says (AlarmThatSendsEmail.html, above)."""
    if alarm.evaluate_low_sample_count_percentile != "ignore" or not alarm.extended_statistic:
        return False
    _percentile([], alarm.extended_statistic)  # refuses what is not a percentile
    p = float(alarm.extended_statistic[1:]) / 100
    needed = 10 / (1 - p) if 0.5 <= p < 1 else 10 / p if 0 < p < 0.5 else math.inf
    needed = round(needed, 9)  # 10 / (1 - 0.9) is 100.00000000000001 in floating point
    window = Window.ending_at(now, int(alarm.period), int(alarm.evaluation_periods))
    metric = Metric(alarm.metric_name, alarm.namespace, alarm.dimensions)
    return sum(_series(data, metric, alarm.unit, "SampleCount", window).values()) < needed


def _math_datapoints(data: Sequence[MetricDatumBase], alarm: Alarm, now: datetime, count: int) -> Datapoints:
    queries = {q.id: q for q in alarm.metric_data_queries}
    periods = {int(q.metric_stat.period) for q in queries.values() if q.metric_stat is not None}
    if len(periods) != 1:
        raise AlarmConfigError("the alarm's metric queries must all use one Period")
    window = Window.ending_at(now, periods.pop(), count)
    chosen = [q for q in queries.values() if _returns_data(q.return_data)]
    if len(chosen) != 1:
        raise AlarmConfigError("exactly one of the alarm's Metrics must have ReturnData true")
    resolved: dict[str, metric_math.Series] = {}

    def resolve(query_id: str, seen: tuple[str, ...]) -> metric_math.Series:
        if query_id in resolved:
            return resolved[query_id]
        if query_id in seen or query_id not in queries:
            raise AlarmConfigError(f"the metric query {query_id!r} is unknown or refers to itself")
        query = queries[query_id]
        if query.metric_stat is not None:
            stat = query.metric_stat
            series = _series(data, stat.metric, stat.unit, stat.stat, window)
        else:
            tree = metric_math.parse(query.expression or "")
            inputs = {ref: resolve(ref, (*seen, query_id)) for ref in metric_math.references(tree)}
            value = metric_math.evaluate(tree, metric_math.Context(inputs, window.starts))
            if not isinstance(value, dict):  # a constant expression: that value in every period
                value = {s: float(value) for s in window.starts if math.isfinite(value)}
            series = value
        resolved[query_id] = series
        return series

    return window.datapoints(resolve(chosen[0].id, ()))


def _returns_data(flag: Any) -> bool:
    return flag is True or str(flag).lower() == "true"


def _series(
    data: Sequence[MetricDatumBase], metric: Metric, unit: str | None, statistic: str, window: Window
) -> metric_math.Series:
    """The statistic per period start, for the periods that have data. A metric is its
    namespace, name and exact set of dimensions; data stamped after `now` is not seen."""
    dimensions = {(d.name, d.value) for d in metric.dimensions}
    period = timedelta(seconds=window.period)
    first, end = window.starts[0], min(window.starts[-1] + period, window.now + timedelta(microseconds=1))
    buckets: dict[datetime, list[MetricDatum | MetricAggregatedDatum]] = {}
    for datum in data:
        if datum.namespace != metric.namespace or datum.name != metric.metric_name:
            continue
        if {(d.name, d.value) for d in datum.dimensions} != dimensions or (unit and datum.unit != unit):
            continue
        stamp = _as_utc(datum.timestamp)
        if not first <= stamp < end or not isinstance(datum, MetricDatum | MetricAggregatedDatum):
            continue
        buckets.setdefault(window.starts[int((stamp - first) / period)], []).append(datum)
    series: metric_math.Series = {}
    for start, bucket in buckets.items():
        value = statistic_of(bucket, statistic)
        if value is not None:
            series[start] = value
    return series


def statistic_of(data: Sequence[MetricDatum | MetricAggregatedDatum], statistic: str) -> float | None:
    """A CloudWatch statistic of one period's data; None when it has no value."""
    values = [d.value for d in data if isinstance(d, MetricDatum)]
    sets = [d for d in data if isinstance(d, MetricAggregatedDatum)]
    if statistic in _BASIC_STATISTICS:
        count = len(values) + sum(s.sample_count for s in sets)
        if count == 0:
            return None
        total = sum(values) + sum(s.sum for s in sets)
        return {
            "SampleCount": lambda: float(count),
            "Sum": lambda: float(total),
            "Average": lambda: float(total / count),
            "Minimum": lambda: float(min([*values, *(s.min for s in sets)])),
            "Maximum": lambda: float(max([*values, *(s.max for s in sets)])),
        }[statistic]()
    return _percentile(values, statistic)


def _percentile(values: list[float], statistic: str) -> float | None:
    if not (statistic.startswith("p") and statistic[1:].replace(".", "", 1).isdigit()):
        raise AlarmConfigError(f"the statistic {statistic!r} is not supported by the emulator")
    rank = float(statistic[1:])
    if not 0 <= rank <= 100:
        raise AlarmConfigError(f"the percentile {statistic!r} is out of range")
    if not values:
        return None
    ordered = sorted(values)
    # Nearest rank: the smallest value with at least rank% of the values at or below it.
    return float(ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)])


# -- the decision -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    state: str | None  # None: keep the current state (ignore)
    reason: str
    evaluated: tuple[tuple[datetime, float | None], ...]
    period: int
    threshold: float

    def reason_data(self, alarm: Alarm, now: datetime) -> dict[str, Any]:
        data: dict[str, Any] = {
            "version": "1.0",
            "queryDate": _stamp(now),
            "period": self.period,
            "recentDatapoints": [v for _, v in self.evaluated if v is not None],
            "threshold": self.threshold,
            "evaluatedDatapoints": [
                {"timestamp": _stamp(t), **({"value": v} if v is not None else {})}
                for t, v in sorted(self.evaluated, key=lambda p: p[0], reverse=True)
            ],
        }
        if self.evaluated:
            data["startDate"] = _stamp(min(t for t, _ in self.evaluated))
        if not alarm.metric_data_queries:
            key = "statistic" if alarm.statistic else "extendedStatistic"
            data[key] = alarm.statistic or alarm.extended_statistic
            data["unit"] = alarm.unit
        return data


def _stamp(moment: datetime) -> str:
    return _as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def _decide(alarm: Alarm, points: Datapoints, current: str) -> Decision:
    if alarm.comparison_operator not in _COMPARISONS:
        raise AlarmConfigError(f"the emulator does not support the comparison {alarm.comparison_operator!r}")
    breaches, phrase = _COMPARISONS[alarm.comparison_operator]
    threshold = float(alarm.threshold)
    n = int(alarm.evaluation_periods)
    m = int(alarm.datapoints_to_alarm or n)
    treat = alarm.treat_missing_data or "missing"
    real = [(t, v) for t, v in zip(points.starts, points.values, strict=True) if v is not None]

    def decision(state: str | None, reason: str, evaluated: Sequence[tuple[datetime, float | None]]) -> Decision:
        return Decision(state, reason, tuple(evaluated), points.period, threshold)

    if len(real) >= n:
        evaluated: list[tuple[datetime, float | None]] = list(real[-n:])
        fills = 0
    elif treat in ("breaching", "notBreaching"):
        fills = n - len(real)
        missing_starts = [t for t, v in zip(points.starts, points.values, strict=True) if v is None][-fills:]
        evaluated = sorted([*real, *((t, None) for t in missing_starts)], key=lambda p: p[0])
    else:
        evaluated, fills = list(real), 0

    breaching = sum(1 for _, v in evaluated if v is not None and breaches(v, threshold))
    if treat == "breaching":
        breaching += fills
    not_breaching = len(evaluated) - breaching
    values = ", ".join(f"{v} ({_as_utc(t):%d/%m/%y %H:%M:%S})" for t, v in evaluated if v is not None)
    filled = (
        f" {fills} missing datapoint{'s were' if fills != 1 else ' was'} treated as "
        f"[{'Breaching' if treat == 'breaching' else 'NonBreaching'}]."
        if fills
        else ""
    )
    if fills and not values:
        # CloudWatch's wording when nothing was received (TreatMissingData decided).
        kind = "Breaching" if treat == "breaching" else "NonBreaching"
        return decision(
            ALARM if breaching >= m else OK,
            f"Threshold Crossed: no datapoints were received for {fills} period{'s' if fills != 1 else ''} and "
            f"{fills} missing datapoint{'s were' if fills != 1 else ' was'} treated as [{kind}].",
            evaluated,
        )
    if breaching >= m:
        return decision(
            ALARM,
            f"Threshold Crossed: {breaching} out of the last {len(evaluated)} datapoints [{values}] "
            f"{'was' if breaching == 1 else 'were'} {phrase} the threshold ({threshold}) "
            f"(minimum {m} datapoint{'s' if m != 1 else ''} for {current} -> ALARM transition).{filled}",
            evaluated,
        )
    if not_breaching > 0:
        return decision(
            OK,
            f"Threshold Crossed: {not_breaching} out of the last {len(evaluated)} datapoints [{values}] "
            f"{'was' if not_breaching == 1 else 'were'} not {phrase} the threshold ({threshold}) "
            f"(minimum {m} datapoint{'s' if m != 1 else ''} for ALARM transition).{filled}",
            evaluated,
        )
    # Left: `missing` or `ignore` with no data, or only breaching data, too little of it.
    if treat == "ignore":
        return decision(None, "", evaluated)
    recent = set(points.starts[-n:])
    if evaluated and not any(t in recent for t, _ in evaluated):
        return decision(
            ALARM,
            f"Threshold Crossed: {breaching} datapoint{'s' if breaching != 1 else ''} [{values}] "
            f"{'was' if breaching == 1 else 'were'} {phrase} the threshold ({threshold}) and no "
            f"datapoints were received since.",
            evaluated,
        )
    unknown = n - len(evaluated)
    return decision(
        INSUFFICIENT_DATA,
        f"Insufficient Data: {unknown} datapoint{'s were' if unknown != 1 else ' was'} unknown.",
        evaluated,
    )


# -- notifications ----------------------------------------------------------------------------


@cache
def _region_names() -> dict[str, str]:
    endpoints = botocore.session.get_session().get_data("endpoints")
    return {
        region: str(details.get("description", region))
        for partition in endpoints["partitions"]
        for region, details in partition["regions"].items()
    }


def _dimensions_json(dimensions: Iterable[Any]) -> list[dict[str, Any]]:
    return [{"value": d.value, "name": d.name} for d in dimensions]


def _trigger(alarm: Alarm) -> dict[str, Any]:
    trigger: dict[str, Any] = {
        "Period": int(alarm.period) if alarm.period else None,
        "EvaluationPeriods": int(alarm.evaluation_periods),
        "DatapointsToAlarm": int(alarm.datapoints_to_alarm or alarm.evaluation_periods),
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": float(alarm.threshold),
        "TreatMissingData": alarm.treat_missing_data or "missing",
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
    }
    if alarm.metric_data_queries:
        trigger["Metrics"] = [
            {
                "Id": q.id,
                **({"Expression": q.expression} if q.expression else {}),
                **({"Label": q.label} if q.label else {}),
                **(
                    {
                        "MetricStat": {
                            "Metric": {
                                "Dimensions": _dimensions_json(q.metric_stat.metric.dimensions),
                                "MetricName": q.metric_stat.metric.metric_name,
                                "Namespace": q.metric_stat.metric.namespace,
                            },
                            "Period": int(q.metric_stat.period),
                            "Stat": q.metric_stat.stat,
                            **({"Unit": q.metric_stat.unit} if q.metric_stat.unit else {}),
                        }
                    }
                    if q.metric_stat is not None
                    else {}
                ),
                "ReturnData": _returns_data(q.return_data),
            }
            for q in alarm.metric_data_queries
        ]
        return trigger
    statistic = {"StatisticType": "Statistic", "Statistic": str(alarm.statistic).upper()}
    if alarm.extended_statistic:
        statistic = {"StatisticType": "ExtendedStatistic", "ExtendedStatistic": alarm.extended_statistic}
    return {
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        **statistic,
        "Unit": alarm.unit,
        "Dimensions": _dimensions_json(alarm.dimensions),
        **trigger,
    }


def notification(alarm: Alarm, old_state: str, now: datetime) -> dict[str, Any]:
    """The message CloudWatch publishes to an alarm's SNS actions on a state change."""
    account_id = alarm.alarm_arn.split(":")[4]
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": _stamp(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": _stamp(now),
        "Region": _region_names().get(alarm.region_name, alarm.region_name),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": _trigger(alarm),
    }


def _notify(alarm: Alarm, old_state: str, now: datetime) -> tuple[str, ...]:
    actions = {ALARM: alarm.alarm_actions, OK: alarm.ok_actions, INSUFFICIENT_DATA: alarm.insufficient_data_actions}
    message = json.dumps(notification(alarm, old_state, now))
    region_name = _region_names().get(alarm.region_name, alarm.region_name)
    subject = f'{alarm.state_value}: "{alarm.name}" in {region_name}'[:100]
    sent: list[str] = []
    for arn in actions[alarm.state_value] or []:
        parts = arn.split(":")
        if len(parts) < 6 or parts[2] != "sns":
            continue  # Auto Scaling, EC2 and Systems Manager actions are not emulated
        sns = sns_backends[parts[4]][parts[3]]
        if arn not in sns.topics:
            # CloudWatch does not validate actions; a missing topic gets nothing.
            cloudwatch_alarms.record_action(alarm, arn, now, succeeded=False)
            continue
        sns.publish(message, arn=arn, subject=subject)
        cloudwatch_alarms.record_action(alarm, arn, now, succeeded=True)
        sent.append(arn)
    return tuple(sent)


def evaluate_route(request: Request) -> tuple[str, object]:
    """The emulator's handler of EVALUATE_ALARMS_PATH (emulator_api.py): every alarm, evaluated at
    the request's `at` (an ISO-8601 time; null: now)."""
    if request.method != "POST" or request.path:
        return "405 Method Not Allowed", {"error": f"{request.method} {EVALUATE_ALARMS_PATH}{request.path}"}
    try:
        at = request.json().get("at")
        now = datetime.fromisoformat(at) if at else None
    except (ValueError, TypeError, AttributeError) as exc:
        return "400 Bad Request", {"error": f"bad request: {exc}"}
    return "200 OK", [evaluation.as_dict() for evaluation in evaluate_alarms(now=now)]


def evaluate_remote(url: str, at: datetime | None = None, timeout_seconds: float = 60.0) -> list[AlarmEvaluation]:
    """Ask the emulator at `url` to evaluate every alarm (at `at`, default its current time)."""
    body = {"at": at.isoformat() if at else None}
    answer = call(url, "POST", EVALUATE_ALARMS_PATH, body=body, timeout_seconds=timeout_seconds)
    return [AlarmEvaluation.from_dict(item) for item in answer]
