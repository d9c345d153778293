"""UpdateEndpoint on the local emulator where Application Auto Scaling is involved, as AWS answers it
("Update endpoints that use auto scaling", docs/emulator.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from scones.local.server import LocalAWS
from tests.support.local_fixtures import client, deploy_endpoint, model_artifact

DIMENSION = "sagemaker:variant:DesiredInstanceCount"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


def _autoscaled(url: str, endpoint: str) -> dict[str, Any]:
    """An endpoint (config `<endpoint>-config`, ml.m5.large) with its variant scaled out to 3 by its policy."""
    deploy_endpoint(url, endpoint, endpoint, model_artifact(), None)
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": f"endpoint/{endpoint}/variant/AllTraffic",
        "ScalableDimension": DIMENSION,
    }
    autoscaling = client("application-autoscaling", url)
    autoscaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=4)
    autoscaling.put_scaling_policy(
        **target,
        PolicyName="per-instance",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        },
    )
    # What a scale-out does: Application Auto Scaling sets the variant's desired count.
    client("sagemaker", url).update_endpoint_weights_and_capacities(
        EndpointName=endpoint, DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 3}]
    )
    return target


def _new_config(url: str, endpoint: str, name: str, instance_type: str = "ml.m5.large") -> str:
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": f"{endpoint}-model",
        "InitialInstanceCount": 1,
        "InstanceType": instance_type,
    }
    client("sagemaker", url).create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    return name


def _counts(url: str, endpoint: str) -> tuple[int, int]:
    (variant,) = client("sagemaker", url).describe_endpoint(EndpointName=endpoint)["ProductionVariants"]
    return variant["CurrentInstanceCount"], variant["DesiredInstanceCount"]


def test_instance_type_change_of_an_autoscaled_variant_is_refused(aws: LocalAWS) -> None:
    target = _autoscaled(aws.url, "retyped")
    sagemaker = client("sagemaker", aws.url)
    bigger = _new_config(aws.url, "retyped", "retyped-bigger", "ml.m5.xlarge")
    with pytest.raises(sagemaker.exceptions.ClientError) as raised:
        sagemaker.update_endpoint(EndpointName="retyped", EndpointConfigName=bigger)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["Error"]["Message"] == (
        'The variant(s) "[AllTraffic]" must be deregistered as scalable targets with AWS Application Auto Scaling '
        "before they can be removed or have their instance type updated."
    )
    assert sagemaker.describe_endpoint(EndpointName="retyped")["EndpointConfigName"] == "retyped-config"

    # The documented order: deregister (which takes the policy with it), update, register again.
    autoscaling = client("application-autoscaling", aws.url)
    autoscaling.deregister_scalable_target(**target)
    assert (
        autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker", ResourceId=target["ResourceId"])[
            "ScalingPolicies"
        ]
        == []
    )
    sagemaker.update_endpoint(EndpointName="retyped", EndpointConfigName=bigger)
    assert sagemaker.describe_endpoint(EndpointName="retyped")["EndpointConfigName"] == bigger
    assert _counts(aws.url, "retyped") == (1, 1)  # the new config's InitialInstanceCount


def test_removing_an_autoscaled_variant_is_refused(aws: LocalAWS) -> None:
    _autoscaled(aws.url, "renamed")
    variant = {
        "VariantName": "Other",
        "ModelName": "renamed-model",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    sagemaker = client("sagemaker", aws.url)
    sagemaker.create_endpoint_config(EndpointConfigName="renamed-other", ProductionVariants=[variant])
    with pytest.raises(sagemaker.exceptions.ClientError, match=r'"\[AllTraffic\]" must be deregistered'):
        sagemaker.update_endpoint(EndpointName="renamed", EndpointConfigName="renamed-other")


def test_model_only_update_resets_a_scaled_out_count_unless_retained(aws: LocalAWS) -> None:
    _autoscaled(aws.url, "remodeled")
    sagemaker = client("sagemaker", aws.url)
    assert _counts(aws.url, "remodeled") == (3, 3)
    # Same instance type: allowed with the target registered ("There is one exception").
    sagemaker.update_endpoint(
        EndpointName="remodeled",
        EndpointConfigName=_new_config(aws.url, "remodeled", "remodeled-v2"),
        RetainAllVariantProperties=True,
    )
    assert _counts(aws.url, "remodeled") == (3, 3)
    excluded = [{"VariantPropertyType": "DesiredInstanceCount"}]
    sagemaker.update_endpoint(
        EndpointName="remodeled",
        EndpointConfigName=_new_config(aws.url, "remodeled", "remodeled-v3"),
        RetainAllVariantProperties=True,
        ExcludeRetainedVariantProperties=excluded,
    )
    assert _counts(aws.url, "remodeled") == (1, 1)
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName="remodeled", DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 3}]
    )
    # What the Terraform AWS provider sends: no RetainAllVariantProperties, so the config's count wins.
    sagemaker.update_endpoint(
        EndpointName="remodeled", EndpointConfigName=_new_config(aws.url, "remodeled", "remodeled-v4")
    )
    assert _counts(aws.url, "remodeled") == (1, 1)
