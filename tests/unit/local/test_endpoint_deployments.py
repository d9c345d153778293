"""Blue/green endpoint deployments on the emulator: the DeploymentConfig is kept and reported, traffic moves to the
new configuration step by step on the alarms' test clock, and a rollback alarm in ALARM during a baking period
puts everything back on the old configuration (docs/emulator.md, "SageMaker endpoint deployments")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from scones.local.alarms import evaluate_alarms
from scones.local.server import LocalAWS
from scones.local.services.sagemaker_deployments import steps
from tests.support.endpoint_updates import canary_config, candidate_config, errors_alarm, start_canary
from tests.support.local_fixtures import client, deploy_endpoint, failing_artifact, model_artifact, png

RED = png((255, 0, 0))


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


def _answers(url: str, endpoint: str, count: int) -> list[Any]:
    """What `count` requests got: the probabilities, or the error code of a failed one."""
    runtime = client("sagemaker-runtime", url, max_attempts=1)
    answers: list[Any] = []
    for _ in range(count):
        try:
            body = runtime.invoke_endpoint(EndpointName=endpoint, ContentType="image/png", Body=RED)["Body"].read()
            answers.append("bicycle" if json.loads(body)[0] > 0.5 else "motorcycle")
        except runtime.exceptions.ClientError as exc:
            answers.append(exc.response["Error"]["Code"])
    return answers


def test_a_canary_shifts_half_the_traffic_then_all_of_it_as_the_bakes_end(aws: LocalAWS) -> None:
    endpoint = "canary-ok"
    update = start_canary(aws.url, endpoint, model_artifact(swapped=True))
    sagemaker, candidate, alarm, started = update.sagemaker, update.candidate, update.alarm, update.started

    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "Updating"
    assert described["EndpointConfigName"] == f"{endpoint}-config"  # the old one serves until the end
    assert described["PendingDeploymentSummary"]["EndpointConfigName"] == candidate
    assert described["LastDeploymentConfig"] == canary_config(alarm)
    # The canary: one instance of the new configuration's two, so every other request.
    assert sorted(_answers(aws.url, endpoint, 4)) == ["bicycle", "bicycle", "motorcycle", "motorcycle"]

    evaluate_alarms(now=started + timedelta(seconds=601))  # the canary's bake is over
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Updating"
    assert _answers(aws.url, endpoint, 3) == ["motorcycle"] * 3

    evaluate_alarms(now=started + timedelta(seconds=1202))  # and the final one
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", candidate)
    assert "FailureReason" not in described and "PendingDeploymentSummary" not in described
    assert described["LastDeploymentConfig"] == canary_config(alarm)
    assert [v["CurrentInstanceCount"] for v in described["ProductionVariants"]] == [2]


def test_a_rollback_alarm_in_alarm_during_the_canary_rolls_the_update_back(aws: LocalAWS) -> None:
    endpoint = "canary-bad"
    update = start_canary(aws.url, endpoint, failing_artifact())
    sagemaker, alarm, started = update.sagemaker, update.alarm, update.started

    # Half the requests reach the failing candidate; the 5XX alarm fires within the canary's bake.
    assert sorted(_answers(aws.url, endpoint, 4)) == ["ModelError", "ModelError", "bicycle", "bicycle"]
    evaluate_alarms(now=started + timedelta(seconds=30))

    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", f"{endpoint}-config")
    assert alarm in described["FailureReason"] and "rolled back" in described["FailureReason"]
    assert "PendingDeploymentSummary" not in described
    assert _answers(aws.url, endpoint, 3) == ["bicycle"] * 3  # the old model serves everything again
    # Later evaluations change nothing: the deployment is over.
    evaluate_alarms(now=started + timedelta(seconds=1300))
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == f"{endpoint}-config"


def test_an_all_at_once_update_without_a_bake_completes_when_first_described(aws: LocalAWS) -> None:
    endpoint = "all-at-once"
    deploy_endpoint(aws.url, endpoint, endpoint, model_artifact(), None)
    candidate = candidate_config(aws.url, endpoint, model_artifact(swapped=True), instances=1)
    config = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "MaximumExecutionTimeoutInSeconds": 600,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": errors_alarm(aws.url, endpoint)}]},
    }
    sagemaker = client("sagemaker", aws.url)
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=candidate, DeploymentConfig=config)
    # What the Terraform provider's waiter sees: the deployment moves on the caller's clock.
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", candidate)
    assert described["LastDeploymentConfig"] == config
    assert _answers(aws.url, endpoint, 2) == ["motorcycle"] * 2


def test_the_deployment_config_of_a_new_endpoint_is_reported(aws: LocalAWS) -> None:
    endpoint = "created-with-config"
    deploy_endpoint(aws.url, endpoint, endpoint, model_artifact(), None)
    sagemaker = client("sagemaker", aws.url)
    config = canary_config(errors_alarm(aws.url, endpoint))
    sagemaker.create_endpoint(
        EndpointName=f"{endpoint}-2", EndpointConfigName=f"{endpoint}-config", DeploymentConfig=config
    )
    assert sagemaker.describe_endpoint(EndpointName=f"{endpoint}-2")["LastDeploymentConfig"] == config


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        # One instance has no half.
        ({"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}, "at most 50%"),
        ({"Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 60}}, "must be 10-50%"),
    ],
)
def test_a_step_larger_than_half_of_the_instances_is_refused(
    aws: LocalAWS, routing: dict[str, Any], message: str
) -> None:
    endpoint = f"refused-{routing['Type'].lower()}"
    deploy_endpoint(aws.url, endpoint, endpoint, model_artifact(), None)
    candidate = candidate_config(aws.url, endpoint, model_artifact(swapped=True), instances=1)
    sagemaker = client("sagemaker", aws.url)
    policy = {"TrafficRoutingConfiguration": routing | {"WaitIntervalInSeconds": 0}}
    with pytest.raises(sagemaker.exceptions.ClientError) as raised:
        sagemaker.update_endpoint(
            EndpointName=endpoint, EndpointConfigName=candidate, DeploymentConfig={"BlueGreenUpdatePolicy": policy}
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert message in raised.value.response["Error"]["Message"]
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", f"{endpoint}-config")


def test_an_alarm_set_to_alarm_rolls_back_when_the_endpoint_is_next_described(aws: LocalAWS) -> None:
    endpoint = "set-alarm"
    update = start_canary(aws.url, endpoint, model_artifact(swapped=True))
    sagemaker, alarm = update.sagemaker, update.alarm
    # SageMaker reads the alarm's state: one set by hand counts as one CloudWatch set.
    client("cloudwatch", aws.url).set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="game day")
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", f"{endpoint}-config")
    assert alarm in described["FailureReason"]


@pytest.mark.parametrize(
    ("routing", "shares"),
    [
        ({"Type": "ALL_AT_ONCE"}, (1.0,)),
        ({"Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}}, (0.1, 1.0)),
        ({"Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 30}}, (0.3, 0.6, 0.9, 1.0)),
        ({"Type": "LINEAR", "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 2}}, (0.4, 0.8, 1.0)),
    ],
)
def test_each_traffic_routing_moves_the_traffic_in_its_steps(
    routing: dict[str, Any], shares: tuple[float, ...]
) -> None:
    policy = {"TrafficRoutingConfiguration": routing | {"WaitIntervalInSeconds": 0}}
    assert steps(policy, [{"VariantName": "AllTraffic", "InitialInstanceCount": 5}]) == pytest.approx(shares)


def test_a_deployment_that_outlasts_its_maximum_execution_timeout_is_rolled_back(aws: LocalAWS) -> None:
    endpoint = "too-slow"
    update = start_canary(aws.url, endpoint, model_artifact(swapped=True), wait=400, timeout=600)
    sagemaker, started = update.sagemaker, update.started
    evaluate_alarms(now=started + timedelta(seconds=401))  # the canary baked; the rest of the traffic moves
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointStatus"] == "Updating"
    evaluate_alarms(now=started + timedelta(seconds=700))  # the second bake would end at 800
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", f"{endpoint}-config")
    assert "MaximumExecutionTimeoutInSeconds (600 s)" in described["FailureReason"]


def test_a_clock_that_jumps_past_every_bake_completes_the_deployment_within_its_timeout(aws: LocalAWS) -> None:
    endpoint = "jump"
    update = start_canary(aws.url, endpoint, model_artifact(swapped=True), wait=600)
    sagemaker, candidate, started = update.sagemaker, update.candidate, update.started
    evaluate_alarms(now=started + timedelta(hours=2))  # both bakes ended at 1200 s, within the 3600 s timeout
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == ("InService", candidate)
    assert "FailureReason" not in described


def test_an_endpoint_rolled_back_keeps_serving_when_terraform_deletes_the_configuration_it_is_back_on(
    aws: LocalAWS,
) -> None:
    endpoint = "canary-deleted"
    update = start_canary(aws.url, endpoint, failing_artifact())
    _answers(aws.url, endpoint, 2)
    evaluate_alarms(now=update.started + timedelta(seconds=30))  # rolled back to <endpoint>-config
    sagemaker = update.sagemaker
    # What create_before_destroy does next: the replaced configuration and model go, the endpoint is still on them.
    sagemaker.delete_endpoint_config(EndpointConfigName=f"{endpoint}-config")
    sagemaker.delete_model(ModelName=f"{endpoint}-model")

    assert _answers(aws.url, endpoint, 3) == ["bicycle"] * 3  # its instances still run the old model
    with pytest.raises(sagemaker.exceptions.ClientError, match="Could not find endpoint configuration"):
        sagemaker.describe_endpoint_config(EndpointConfigName=f"{endpoint}-config")
    with pytest.raises(sagemaker.exceptions.ClientError):
        sagemaker.describe_model(ModelName=f"{endpoint}-model")
