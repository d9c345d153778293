"""CloudWatch alarms: the state lifecycle and history moto lacks (their evaluation: `alarms.py`).

- A new alarm starts in INSUFFICIENT_DATA, and PutMetricAlarm on an existing alarm keeps its
  state ("When this operation creates an alarm, the alarm state is immediately set to
  INSUFFICIENT_DATA ... When you update an existing alarm, its state is left unchanged",
  PutMetricAlarm, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html).
  moto starts every alarm, new or updated, in OK.
- Every state change (SetAlarmState or an evaluation) and every action an evaluation carries
  out is kept as a history item, and DescribeAlarmHistory answers with them, newest first
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html);
  moto has no DescribeAlarmHistory.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from moto.cloudwatch.models import Alarm, CloudWatchBackend
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult

_HISTORY = "_scones_history"
_INITIAL_REASON = "Unchecked: Initial alarm creation"
_STATE_FIELDS = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp")

_original_put_metric_alarm = CloudWatchBackend.put_metric_alarm
_original_set_alarm_state = CloudWatchBackend.set_alarm_state


def history(alarm: Alarm) -> list[dict[str, Any]]:
    """The alarm's history items, oldest first (DescribeAlarmHistory's HistoryItem shape)."""
    items: list[dict[str, Any]] = alarm.__dict__.setdefault(_HISTORY, [])
    return items


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def set_state(alarm: Alarm, state: str, reason: str, reason_data: str, at: datetime) -> None:
    """Change an alarm's state at `at` and record the change in its history."""
    old_value, old_reason = alarm.state_value, alarm.state_reason
    alarm.update_state(reason, reason_data, state)
    alarm.state_updated_timestamp = _naive_utc(at)  # moto keeps naive UTC
    _record_change(alarm, old_value, old_reason)


def _record_change(alarm: Alarm, old_value: str, old_reason: str) -> None:
    new: dict[str, Any] = {"stateValue": alarm.state_value, "stateReason": alarm.state_reason}
    if alarm.state_reason_data and alarm.state_reason_data != "{}":
        new["stateReasonData"] = json.loads(alarm.state_reason_data)
    history(alarm).append(
        {
            "AlarmName": alarm.name,
            "AlarmType": "MetricAlarm",
            "Timestamp": alarm.state_updated_timestamp,
            "HistoryItemType": "StateUpdate",
            "HistorySummary": f"Alarm updated from {old_value} to {alarm.state_value}",
            "HistoryData": json.dumps(
                {"version": "1.0", "oldState": {"stateValue": old_value, "stateReason": old_reason}, "newState": new}
            ),
        }
    )


def record_action(alarm: Alarm, action_arn: str, at: datetime, succeeded: bool) -> None:
    """Record an action an alarm carried out (or failed to) on a state change."""
    outcome = "Successfully executed" if succeeded else "Failed to execute"
    history(alarm).append(
        {
            "AlarmName": alarm.name,
            "AlarmType": "MetricAlarm",
            "Timestamp": _naive_utc(at),
            "HistoryItemType": "Action",
            "HistorySummary": f"{outcome} action {action_arn}",
            "HistoryData": json.dumps(
                {"actionState": "Succeeded" if succeeded else "Failed", "notificationResource": action_arn}
            ),
        }
    )


def _put_metric_alarm(self: CloudWatchBackend, *args: Any, **kwargs: Any) -> Alarm:
    name = kwargs.get("name", args[0] if args else None)
    previous = self.alarms.get(name) if isinstance(name, str) else None
    alarm = _original_put_metric_alarm(self, *args, **kwargs)
    if previous is not None:
        for attribute in _STATE_FIELDS:
            setattr(alarm, attribute, getattr(previous, attribute))
        alarm.__dict__[_HISTORY] = history(previous)
    else:
        alarm.state_value = "INSUFFICIENT_DATA"
        alarm.state_reason = _INITIAL_REASON
    return alarm


def _set_alarm_state(self: CloudWatchBackend, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
    # moto validates the call (and raises as AWS does) and keeps the old state in `history`.
    _original_set_alarm_state(self, alarm_name, reason, reason_data, state_value)
    alarm = self.alarms[alarm_name]
    _, old_reason, _, old_value, _ = alarm.history[-1]
    _record_change(alarm, old_value, old_reason)


def _describe_alarm_history(self: CloudWatchResponse) -> ActionResult:
    name = self._get_param("AlarmName")
    item_type = self._get_param("HistoryItemType")
    start = self._get_param("StartDate")
    end = self._get_param("EndDate")
    max_records = int(self._get_param("MaxRecords") or 100)
    items = [
        item
        for backend_alarm in self.cloudwatch_backend.alarms.values()
        if name in (None, backend_alarm.name)
        for item in history(backend_alarm)
        if (item_type is None or item["HistoryItemType"] == item_type)
        and (start is None or item["Timestamp"] >= _naive_utc(start))
        and (end is None or item["Timestamp"] <= _naive_utc(end))
    ]
    items.sort(key=lambda i: i["Timestamp"], reverse=self._get_param("ScanBy") != "TimestampAscending")
    return ActionResult({"AlarmHistoryItems": items[:max_records]})


def install() -> None:
    CloudWatchBackend.put_metric_alarm = _put_metric_alarm  # type: ignore[method-assign]
    CloudWatchBackend.set_alarm_state = _set_alarm_state  # type: ignore[method-assign]
    CloudWatchResponse.describe_alarm_history = _describe_alarm_history  # type: ignore[attr-defined]
