"""After the apply: does the endpoint run what Terraform's state now records?

The AWS provider can record a successful update while SageMaker rolled the deployment back
(hashicorp/terraform-provider-aws #48997, #46663): the endpoint is then InService on its OLD endpoint
configuration with a FailureReason ("the status is InService but update operation fails",
DescribeEndpoint, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html).
So the check compares DescribeEndpoint with the configuration name the state records (generated from a
prefix, known only after the apply) and reads the FailureReason, which names the rollback alarm.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from scones.release.errors import VerificationError

IN_PROGRESS = {"Creating", "Updating", "SystemUpdating", "RollingBack"}


def describe_settled(
    sagemaker: Any,
    endpoint_name: str,
    *,
    timeout_seconds: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """DescribeEndpoint once the endpoint is no longer creating or updating (or the time is up)."""
    deadline = clock() + timeout_seconds
    while True:
        try:
            described = dict(sagemaker.describe_endpoint(EndpointName=endpoint_name))
        except ClientError as exc:
            raise VerificationError(f"endpoint {endpoint_name}: {exc.response['Error']['Message']}") from None
        if described["EndpointStatus"] not in IN_PROGRESS or clock() >= deadline:
            return described
        sleep(10)


def verify_endpoint(sagemaker: Any, endpoint_name: str, expected_config_name: str, **wait: Any) -> dict[str, Any]:
    """What the check saw (for the report); VerificationError naming every problem."""
    described = describe_settled(sagemaker, endpoint_name, **wait)
    seen = {
        "endpoint_name": endpoint_name,
        "status": described["EndpointStatus"],
        "endpoint_config_name": described.get("EndpointConfigName"),
        "expected_endpoint_config_name": expected_config_name,
        "failure_reason": described.get("FailureReason"),
    }
    problems = []
    if seen["status"] != "InService":
        problems.append(f"status {seen['status']}, not InService")
    if seen["endpoint_config_name"] != expected_config_name:
        problems.append(
            f"it serves endpoint configuration {seen['endpoint_config_name']}, "
            f"not {expected_config_name} that Terraform's state records"
        )
    if seen["failure_reason"]:
        problems.append(f"FailureReason: {seen['failure_reason']}")
    if problems:
        raise VerificationError(f"endpoint {endpoint_name}: " + "; ".join(problems))
    return seen
