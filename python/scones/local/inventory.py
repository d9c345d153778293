"""What is deployed on a running emulator, listed through its own APIs (`scones local status`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from scones.local.control import FAKE_CREDENTIALS


@dataclass
class Inventory:
    buckets: list[str] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    # name -> executions so far; None for an EXPRESS machine (Step Functions does not list them)
    state_machines: dict[str, int | None] = field(default_factory=dict)
    endpoints: dict[str, str] = field(default_factory=dict)  # name -> status
    topic_arns: list[str] = field(default_factory=list)

    @property
    def topics(self) -> list[str]:
        """Topic names."""
        return [arn.rsplit(":", 1)[-1] for arn in self.topic_arns]


def _client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=FAKE_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30),
    )


def list_deployed(url: str) -> Inventory:
    found = Inventory()
    found.buckets = [b["Name"] for b in _client("s3", url).list_buckets().get("Buckets", [])]
    lambdas = _client("lambda", url)
    for page in lambdas.get_paginator("list_functions").paginate():
        found.functions.extend(f["FunctionName"] for f in page["Functions"])
    sfn = _client("stepfunctions", url)
    for machine in sfn.list_state_machines().get("stateMachines", []):
        if machine.get("type") == "EXPRESS":
            found.state_machines[machine["name"]] = None
            continue
        executions = sfn.list_executions(stateMachineArn=machine["stateMachineArn"]).get("executions", [])
        found.state_machines[machine["name"]] = len(executions)
    for endpoint in _client("sagemaker", url).list_endpoints().get("Endpoints", []):
        found.endpoints[endpoint["EndpointName"]] = endpoint["EndpointStatus"]
    found.topic_arns = [t["TopicArn"] for t in _client("sns", url).list_topics().get("Topics", [])]
    return found
