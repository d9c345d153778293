"""The verify stage on the emulator: an endpoint whose update SageMaker rolled back is InService, but on its
old configuration with a FailureReason naming the rollback alarm; the check refuses it and says why, and
the alarms check names the alarm in ALARM."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import pytest

from scones.aws import make_session
from scones.local.alarms import evaluate_alarms
from scones.local.server import LocalAWS
from scones.release.alarms import alarms_in_alarm, rollback_alarm_names
from scones.release.errors import VerificationError
from scones.release.verify import verify_endpoint
from tests.support.endpoint_updates import start_canary
from tests.support.local_fixtures import client, deploy_endpoint, failing_artifact, model_artifact, png

ENDPOINT = "release-verify"
ALARM = f"{ENDPOINT}-5xx"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


def test_a_rolled_back_update_fails_verification_naming_the_alarm(aws: LocalAWS) -> None:
    # The endpoint on the tiny model, then a canary update (rollback alarm: its 5XX alarm) to a failing one.
    update = start_canary(aws.url, ENDPOINT, failing_artifact())
    sagemaker, started = update.sagemaker, update.started
    runtime = client("sagemaker-runtime", aws.url, max_attempts=1)
    for _ in range(4):  # the canary takes every other request, and fails it
        with contextlib.suppress(runtime.exceptions.ClientError):
            runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="image/png", Body=png((250, 10, 10)))
    evaluate_alarms(now=started + timedelta(seconds=30))

    # What Terraform's state records after the provider saw the update "succeed": the candidate's configuration.
    with pytest.raises(VerificationError) as raised:
        verify_endpoint(sagemaker, ENDPOINT, f"{ENDPOINT}-candidate")
    message = raised.value.message
    assert f"it serves endpoint configuration {ENDPOINT}-config, not {ENDPOINT}-candidate" in message
    assert "FailureReason: Deployment was rolled back" in message and ALARM in message

    session = make_session(endpoint_url=aws.url)
    assert rollback_alarm_names(sagemaker.describe_endpoint(EndpointName=ENDPOINT)) == [ALARM]
    assert alarms_in_alarm(session, ENDPOINT) == [ALARM]


def test_an_endpoint_on_the_recorded_configuration_passes(aws: LocalAWS) -> None:
    name = "release-verify-ok"
    deploy_endpoint(aws.url, name, name, model_artifact(), None)
    seen = verify_endpoint(client("sagemaker", aws.url), name, f"{name}-config")
    assert (seen["status"], seen["endpoint_config_name"], seen["failure_reason"]) == (
        "InService",
        f"{name}-config",
        None,
    )
    assert alarms_in_alarm(make_session(endpoint_url=aws.url), name) == []  # no rollback alarms at all


def test_an_endpoint_that_does_not_exist_is_a_verification_error(aws: LocalAWS) -> None:
    with pytest.raises(VerificationError, match="release-verify-none"):
        verify_endpoint(client("sagemaker", aws.url), "release-verify-none", "x")
