"""The model registry on the emulator: versions numbered per group and never reused, approval and metadata kept
through updates, deletion as SageMaker allows it, and an endpoint whose model comes from an approved version
serving that version's artifact (docs/emulator.md, "Model registry")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scones.local.server import LocalAWS
from tests.support.local_fixtures import ACCOUNT_ID, client, model_artifact, png

ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/sagemaker"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.5-cpu-py311"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


def _group(sagemaker: Any, name: str) -> str:
    sagemaker.create_model_package_group(ModelPackageGroupName=name, Tags=[{"Key": "Project", "Value": "scones"}])
    return name


def _register(sagemaker: Any, group: str, url: str = "s3://b/models/m.tar.gz", **extra: Any) -> str:
    spec = {
        "Containers": [{"Image": IMAGE, "ModelDataUrl": url, "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}],
        "SupportedContentTypes": ["image/png"],
        "SupportedResponseMIMETypes": ["application/json"],
    }
    return sagemaker.create_model_package(ModelPackageGroupName=group, InferenceSpecification=spec, **extra)[
        "ModelPackageArn"
    ]


def test_versions_are_numbered_per_group_and_never_reused(aws: LocalAWS) -> None:
    sagemaker = client("sagemaker", aws.url)
    group, other = _group(sagemaker, "numbered"), _group(sagemaker, "numbered-other")
    first, second = _register(sagemaker, group), _register(sagemaker, group)
    assert _register(sagemaker, other).endswith("/numbered-other/1")
    assert (first, second) == (
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT_ID}:model-package/numbered/1",
        f"arn:aws:sagemaker:us-east-1:{ACCOUNT_ID}:model-package/numbered/2",
    )
    sagemaker.delete_model_package(ModelPackageName=first)
    third = _register(sagemaker, group)
    assert third.endswith("/numbered/3")
    # Deleting the first did not disturb the second (moto's count-based numbering would have overwritten it).
    listed = sagemaker.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    assert sorted(s["ModelPackageVersion"] for s in listed) == [2, 3]
    with pytest.raises(ClientError, match="not found"):
        sagemaker.describe_model_package(ModelPackageName=first)


def test_a_version_keeps_its_metadata_metrics_and_approval_through_updates(aws: LocalAWS) -> None:
    sagemaker = client("sagemaker", aws.url)
    group = _group(sagemaker, "kept")
    metrics = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/eval.json"}}}
    arn = _register(sagemaker, group, CustomerMetadataProperties={"sha256": "ab" * 32}, ModelMetrics=metrics)
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    # SageMaker's default for a version registered without a status.
    assert described["ModelApprovalStatus"] == "PendingManualApproval"
    assert described["ModelMetrics"] == metrics
    assert described["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == "s3://b/models/m.tar.gz"

    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="ok")
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == ("Approved", "ok")
    assert described["CustomerMetadataProperties"] == {"sha256": "ab" * 32}  # moto's update cleared it
    approved = sagemaker.list_model_packages(ModelPackageGroupName=group, ModelApprovalStatus="Approved")
    assert [s["ModelPackageArn"] for s in approved["ModelPackageSummaryList"]] == [arn]
    with pytest.raises(ClientError, match="Member must satisfy enum value set"):
        sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Maybe")


def test_a_group_with_versions_cannot_be_deleted(aws: LocalAWS) -> None:
    sagemaker = client("sagemaker", aws.url)
    group = _group(sagemaker, "deleted")
    arn = _register(sagemaker, group)
    with pytest.raises(ClientError) as refused:
        sagemaker.delete_model_package_group(ModelPackageGroupName=group)
    assert refused.value.response["Error"]["Code"] == "ConflictException"
    sagemaker.delete_model_package(ModelPackageName=arn)
    sagemaker.delete_model_package_group(ModelPackageGroupName=group)
    # What the Terraform provider polls for after its delete.
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.describe_model_package_group(ModelPackageGroupName=group)
    with pytest.raises(ClientError, match="does not exist"):
        sagemaker.delete_model_package_group(ModelPackageGroupName=group)


def test_a_model_from_an_approved_version_serves_its_artifact(aws: LocalAWS) -> None:
    sagemaker, s3 = client("sagemaker", aws.url), client("s3", aws.url)
    s3.create_bucket(Bucket="registry-models")
    s3.put_object(Bucket="registry-models", Key="models/swapped.tar.gz", Body=model_artifact(swapped=True))
    group = _group(sagemaker, "served")
    arn = _register(sagemaker, group, url="s3://registry-models/models/swapped.tar.gz")

    def create_model(name: str, **container: Any) -> None:
        sagemaker.create_model(ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer=container)

    # SageMaker deploys only approved versions, never one that does not exist, and the version brings its image.
    with pytest.raises(ClientError, match="PendingManualApproval"):
        create_model("served-pending", ModelPackageName=arn)
    with pytest.raises(ClientError, match="not found"):
        create_model("served-missing", ModelPackageName=arn.replace("/1", "/9"))
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    with pytest.raises(ClientError, match="cannot be combined with Image"):
        create_model("served-both", ModelPackageName=arn, Image=IMAGE)
    assert {m["ModelName"] for m in sagemaker.list_models()["Models"]}.isdisjoint(
        {"served-pending", "served-missing", "served-both"}
    )

    create_model("served", ModelPackageName=arn)
    # Read back as created (the Terraform provider compares model_package_name), not as resolved.
    assert sagemaker.describe_model(ModelName="served")["PrimaryContainer"]["ModelPackageName"] == arn
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "served",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    sagemaker.create_endpoint_config(EndpointConfigName="served", ProductionVariants=[variant])
    sagemaker.create_endpoint(EndpointName="served", EndpointConfigName="served")
    body = client("sagemaker-runtime", aws.url).invoke_endpoint(
        EndpointName="served", ContentType="image/png", Body=png((255, 0, 0))
    )["Body"]
    # The swapped artifact calls red a motorcycle: the version's artifact answered, not a default one.
    probabilities = json.loads(body.read())
    assert probabilities[1] > probabilities[0]
