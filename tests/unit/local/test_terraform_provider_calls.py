"""Calls the Terraform AWS provider makes that moto answers wrongly or not at all, answered by scones.local.services."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from scones.local.services import application_autoscaling, sagemaker, stepfunctions

VALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


@pytest.fixture
def aws() -> Iterator[None]:
    for _ in range(2):  # installing twice changes nothing
        for service in (stepfunctions, application_autoscaling, sagemaker):
            service.install()
    with mock_aws():
        yield


def test_state_machine_definitions_are_validated(aws: None) -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    assert sfn.validate_state_machine_definition(definition=json.dumps(VALID))["result"] == "OK"
    dangling = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}
    result = sfn.validate_state_machine_definition(definition=json.dumps(dangling))
    assert result["result"] == "FAIL" and "A -> Nowhere" in result["diagnostics"][0]["message"]
    assert sfn.validate_state_machine_definition(definition="{")["result"] == "FAIL"


def test_state_machine_versions_are_listed(aws: None) -> None:
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    arn = sfn.create_state_machine(
        name="m", definition=json.dumps(VALID), roleArn="arn:aws:iam::123456789012:role/r", publish=True
    )["stateMachineArn"]
    versions = sfn.list_state_machine_versions(stateMachineArn=arn)["stateMachineVersions"]
    assert [v["stateMachineVersionArn"] for v in versions] == [f"{arn}:1"]


def test_scalable_target_tags_round_trip(aws: None) -> None:
    autoscaling = boto3.client("application-autoscaling", region_name="us-east-1")
    arn = autoscaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId="endpoint/e/variant/AllTraffic",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=1,
        MaxCapacity=2,
        Tags={"Project": "scones"},
    )["ScalableTargetARN"]
    autoscaling.tag_resource(ResourceARN=arn, Tags={"Env": "local"})
    autoscaling.untag_resource(ResourceARN=arn, TagKeys=["Project"])
    assert autoscaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Env": "local"}
    missing = arn.rsplit("/", 1)[0] + "/doesnotexist"
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        autoscaling.list_tags_for_resource(ResourceARN=missing)


def test_models_read_back_as_created(aws: None) -> None:
    sagemaker = boto3.client("sagemaker", region_name="us-east-1")
    sagemaker.create_model(
        ModelName="m",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
        PrimaryContainer={"Image": "1.dkr.ecr.us-east-1.amazonaws.com/x:1", "ModelDataUrl": "s3://b/m.tar.gz"},
        EnableNetworkIsolation=True,
    )
    described = sagemaker.describe_model(ModelName="m")
    assert "VpcConfig" not in described
    assert described["EnableNetworkIsolation"] is True
