"""A release's rollback waits for CloudWatch's own evaluation to clear the rollback alarms the candidate tripped
before it redeploys the previous model: forcing them to OK (SetAlarmState) lasts only until the next evaluation,
which, with the candidate's errors still in the alarm's range, rolls the restore back (issue 19). On the emulator's
test clock: nothing sleeps."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from scones.aws import make_session
from scones.local.alarms import evaluate_alarms
from scones.local.server import LocalAWS
from scones.release import alarms
from tests.support.endpoint_updates import Update, canary_config, start_canary
from tests.support.local_fixtures import client, failing_artifact, png

RED = png((255, 0, 0))


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


def _failed_canary(url: str, endpoint: str) -> Update:
    """A candidate whose canary failed requests: its 5XX alarm in ALARM, SageMaker rolled it back."""
    update = start_canary(url, endpoint, failing_artifact())
    runtime = client("sagemaker-runtime", url, max_attempts=1)
    for _ in range(4):
        with contextlib.suppress(runtime.exceptions.ClientError):
            runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=RED)
    evaluate_alarms(now=update.started + timedelta(seconds=30))
    described = update.sagemaker.describe_endpoint(EndpointName=endpoint)
    assert update.alarm in described["FailureReason"]
    return update


def _restore(update: Update, endpoint: str) -> datetime:
    """The release's redeploy of the previous model: a new configuration of the old one, same alarms."""
    old = update.sagemaker.describe_endpoint_config(EndpointConfigName=f"{endpoint}-config")
    variants = [{**variant, "InitialInstanceCount": 2} for variant in old["ProductionVariants"]]  # prod's two
    update.sagemaker.create_endpoint_config(EndpointConfigName=f"{endpoint}-restore", ProductionVariants=variants)
    started = datetime.now(update.started.tzinfo)
    update.sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=f"{endpoint}-restore", DeploymentConfig=canary_config(update.alarm)
    )
    return started


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.moment, self.slept = start, 0.0

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)
        self.slept += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The release's wait on a test clock: each sleep moves it on, and the alarms are evaluated at its time."""
    fake = FakeClock(datetime.now(UTC) + timedelta(seconds=30))
    monkeypatch.setattr(alarms, "CLOCK", alarms.Clock(fake.now, fake.sleep))
    return fake


def _state(url: str, alarm: str) -> str:
    return str(client("cloudwatch", url).describe_alarms(AlarmNames=[alarm])["MetricAlarms"][0]["StateValue"])


def test_alarms_forced_to_ok_fire_again_at_the_next_evaluation_and_roll_the_restore_back(aws: LocalAWS) -> None:
    # What the release did before: SetAlarmState OK, then redeploy the previous model.
    endpoint = "forced-ok"
    update = _failed_canary(aws.url, endpoint)
    client("cloudwatch", aws.url).set_alarm_state(AlarmName=update.alarm, StateValue="OK", StateReason="reset")
    started = _restore(update, endpoint)

    evaluate_alarms(now=started + timedelta(seconds=60))  # CloudWatch's next evaluation, a minute in
    described = update.sagemaker.describe_endpoint(EndpointName=endpoint)
    assert _state(aws.url, update.alarm) == "ALARM"  # the candidate's errors are still in its range
    # The restore was undone by the candidate's own errors: SageMaker rolled it back.
    assert described["EndpointConfigName"] == f"{endpoint}-config"
    assert "rolled back" in described["FailureReason"] and update.alarm in described["FailureReason"]


def test_the_rollback_waits_until_the_candidates_errors_left_the_alarms_range(aws: LocalAWS, clock: FakeClock) -> None:
    endpoint = "waited"
    update = _failed_canary(aws.url, endpoint)
    lines: list[str] = []

    alarms.wait_until_clear(make_session(endpoint_url=aws.url), [update.alarm], emulator_url=aws.url, echo=lines.append)
    # One-minute periods, one evaluation period: clear within a few minutes of the errors, by evaluation.
    assert 0 < clock.slept <= 180
    assert lines and all(update.alarm in line for line in lines)
    alarm = client("cloudwatch", aws.url).describe_alarms(AlarmNames=[update.alarm])["MetricAlarms"][0]
    assert alarm["StateValue"] == "OK" and alarm["StateReason"].startswith("Threshold Crossed")

    started = _restore(update, endpoint)
    bake_end = max(started, clock.moment) + timedelta(seconds=601)
    for at in (clock.moment + timedelta(seconds=60), bake_end, bake_end + timedelta(seconds=601)):
        evaluate_alarms(now=at)  # CloudWatch through the restore's bakes: nothing new breaches
    described = update.sagemaker.describe_endpoint(EndpointName=endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", f"{endpoint}-restore")
    assert "FailureReason" not in described


def test_alarms_that_do_not_clear_in_time_stop_the_rollback_naming_them(aws: LocalAWS, clock: FakeClock) -> None:
    endpoint = "still-firing"
    update = _failed_canary(aws.url, endpoint)

    with pytest.raises(alarms.AlarmsStillFiringError, match=update.alarm) as raised:
        alarms.wait_until_clear(
            make_session(endpoint_url=aws.url), [update.alarm], emulator_url=aws.url, timeout_seconds=0
        )
    assert raised.value.exit_code != 0
    assert clock.slept == 0
    assert _state(aws.url, update.alarm) == "ALARM"
