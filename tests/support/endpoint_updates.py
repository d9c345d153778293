"""Blue/green updates of an emulated endpoint, for the tests of the emulator's deployments and of the release's
verify stage: a candidate configuration, the endpoint's 5XX rollback alarm, a canary DeploymentConfig."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tests.support.local_fixtures import client, deploy_endpoint, model_artifact


def candidate_config(url: str, endpoint: str, artifact: bytes, instances: int = 2) -> str:
    """A second model and endpoint configuration (`<endpoint>-candidate`) with the same variant name."""
    key = f"models/{endpoint}-candidate.tar.gz"
    client("s3", url).put_object(Bucket=endpoint, Key=key, Body=artifact)
    sagemaker = client("sagemaker", url)
    sagemaker.create_model(
        ModelName=f"{endpoint}-candidate",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
        PrimaryContainer={"Image": "pytorch-inference:2.5-cpu", "ModelDataUrl": f"s3://{endpoint}/{key}"},
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": f"{endpoint}-candidate",
        "InitialInstanceCount": instances,
        "InstanceType": "ml.m5.large",
    }
    sagemaker.create_endpoint_config(EndpointConfigName=f"{endpoint}-candidate", ProductionVariants=[variant])
    return f"{endpoint}-candidate"


def errors_alarm(url: str, endpoint: str) -> str:
    """The endpoint's 5XX alarm, as the alarms module writes it (one-minute periods here)."""
    name = f"{endpoint}-5xx"
    client("cloudwatch", url).put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": "AllTraffic"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    return name


def canary_config(alarm: str, wait: int = 600, timeout: int = 3600) -> dict[str, Any]:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": wait,
                "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
            },
            "MaximumExecutionTimeoutInSeconds": timeout,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]},
    }


@dataclass
class Update:
    sagemaker: Any
    candidate: str  # the new configuration's name
    alarm: str  # the rollback alarm
    started: datetime


def start_canary(url: str, endpoint: str, artifact: bytes, wait: int = 600, timeout: int = 3600) -> Update:
    """`endpoint` serving the tiny model, then updated under a canary to a configuration serving `artifact`."""
    deploy_endpoint(url, endpoint, endpoint, model_artifact(), None)
    candidate = candidate_config(url, endpoint, artifact)
    alarm = errors_alarm(url, endpoint)
    config = canary_config(alarm, wait, timeout)
    sagemaker = client("sagemaker", url)
    started = datetime.now(UTC)
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=candidate, DeploymentConfig=config)
    return Update(sagemaker, candidate, alarm, started)
