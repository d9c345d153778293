"""Which of the endpoint's rollback alarms are in ALARM: the reason a failed release names.

The rollback alarms are the ones the endpoint's deployment configuration lists
(`LastDeploymentConfig.AutoRollbackConfiguration.Alarms` of DescribeEndpoint), read from the endpoint
rather than from a list of our own, so they are the ones SageMaker itself acts on. CloudWatch evaluates
alarms by itself; the emulator only when asked (docs/emulator.md), so a local release asks it first.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError


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
            from scones.local.alarms import evaluate_remote

            evaluate_remote(emulator_url)
        answer = session.client("cloudwatch").describe_alarms(AlarmNames=names)
    except (ClientError, BotoCoreError):
        return []  # the reason of a failure already known; what cannot be read adds nothing
    return sorted(alarm["AlarmName"] for alarm in answer.get("MetricAlarms", []) if alarm["StateValue"] == "ALARM")
