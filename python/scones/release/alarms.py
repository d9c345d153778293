"""The endpoint's rollback alarms: which are in ALARM (the reason a failed release names), and waiting for
them to clear before a rollback redeploys the previous model.

The rollback alarms are the ones the endpoint's deployment configuration lists
(`LastDeploymentConfig.AutoRollbackConfiguration.Alarms` of DescribeEndpoint), read from the endpoint
rather than from a list of our own, so they are the ones SageMaker itself acts on. CloudWatch evaluates
alarms by itself; the emulator only when asked (docs/emulator.md), so a local release asks it first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scones.local.alarms import evaluate_remote
from scones.local.emulator_api import EmulatorApiError
from scones.release.errors import ReleaseError


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


class AlarmsStillFiringError(ReleaseError):
    """The candidate's errors did not leave the rollback alarms' evaluation range in time."""


@dataclass(frozen=True)
class Clock:
    now: Callable[[], datetime]
    sleep: Callable[[float], None]


CLOCK = Clock(lambda: datetime.now(UTC), time.sleep)  # tests replace it: the emulator's test clock
POLL_SECONDS = 60.0  # CloudWatch evaluates a metric alarm about once a minute


def wait_until_clear(
    session: Any,
    names: list[str],
    *,
    emulator_url: str | None = None,
    timeout_seconds: float = 1800.0,
    echo: Callable[[str], None] = lambda line: None,
) -> None:
    """Wait until CloudWatch's own evaluation has none of the rollback alarms `names` in ALARM, before the
    previous model is deployed again.

    SageMaker rolls a deployment back when a rollback alarm is in ALARM while it runs ("If any alarms are
    tripped during a deployment, SageMaker rolls back the deployment", AutoRollbackConfig,
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AutoRollbackConfig.html; "Auto-Rollback
    Configuration and Monitoring", https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-configuration.html).
    Forcing the alarms to OK with SetAlarmState does not help: it sets the state "temporarily ... Metric alarms
    return to their actual state quickly" (SetAlarmState,
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html), so while the
    candidate's errors are inside the alarm's evaluation range CloudWatch's next evaluation puts it back in
    ALARM during the restore's baking period and SageMaker undoes the restore. So the restore starts once the
    errors have aged out; AlarmsStillFiringError (nothing redeployed) after `timeout_seconds`."""
    cloudwatch = session.client("cloudwatch")
    clock = CLOCK
    deadline = clock.now() + timedelta(seconds=timeout_seconds)
    while True:
        now = clock.now()
        if emulator_url is not None:
            evaluate_remote(emulator_url, at=now)
        answer = cloudwatch.describe_alarms(AlarmNames=names)
        firing = sorted(a["AlarmName"] for a in answer.get("MetricAlarms", []) if a["StateValue"] == "ALARM")
        if not firing:
            return
        if now >= deadline:
            raise AlarmsStillFiringError(
                f"rollback alarm(s) {', '.join(firing)} still in ALARM after {int(timeout_seconds)} s: the "
                "previous model was not redeployed (SageMaker would roll the restore back at once)"
            )
        echo(f"  waiting for the candidate's errors to leave the alarms' range: {', '.join(firing)} in ALARM")
        clock.sleep(POLL_SECONDS)
