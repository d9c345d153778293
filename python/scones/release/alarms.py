"""Which of the endpoint's rollback alarms are in ALARM: the reason a failed release names.

The rollback alarms are the ones the endpoint's deployment configuration lists
(`LastDeploymentConfig.AutoRollbackConfiguration.Alarms` of DescribeEndpoint), read from the endpoint
rather than from a list of our own, so they are the ones SageMaker itself acts on. CloudWatch evaluates
alarms by itself; the emulator only when asked (docs/emulator.md), so a local release asks it first.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scones.local.alarms import evaluate_remote
from scones.local.emulator_api import EmulatorApiError


def rollback_alarm_names(described_endpoint: dict[str, Any]) -> list[str]:
    config = described_endpoint.get("LastDeploymentConfig") or {}
    alarms = (config.get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    return sorted(alarm["AlarmName"] for alarm in alarms if alarm.get("AlarmName"))


def alarms_in_alarm(session: Any, endpoint_name: str, *, emulator_url: str | None = None) -> list[str]:
    """The endpoint's rollback alarms now in ALARM ([] when it has none, or they cannot be read)."""
    try:
        described = session.client("sagemaker").describe_endpoint(EndpointName=endpoint_name)
        names = rollback_alarm_names(described)
        if not names:
            return []
        if emulator_url is not None:
            evaluate_remote(emulator_url)
        answer = session.client("cloudwatch").describe_alarms(AlarmNames=names)
    except (ClientError, BotoCoreError, EmulatorApiError):
        return []  # the reason of a failure already known; what cannot be read adds nothing
    return sorted(alarm["AlarmName"] for alarm in answer.get("MetricAlarms", []) if alarm["StateValue"] == "ALARM")


def reset_for_rollback(session: Any, names: list[str], reason: str) -> None:
    """Set the rollback alarms the candidate tripped back to OK before the previous model is deployed
    again: an endpoint update started while one of them is in ALARM is rolled back at once, so the
    restore itself would be undone. CloudWatch re-evaluates them at their next period and they fire
    again if the restored model fails too ("SetAlarmState",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html)."""
    cloudwatch = session.client("cloudwatch")
    for name in names:
        cloudwatch.set_alarm_state(
            AlarmName=name, StateValue="OK", StateReason=f"scones release rollback: {reason}"[:1023]
        )
