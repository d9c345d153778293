"""Condense a `terraform show -json` plan into what the assertions talk about."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

# Actions that have no resource-level permissions in IAM, so "*" is the only valid resource.
RESOURCE_STAR_ALLOWED = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "ecr:GetAuthorizationToken",
        "cloudwatch:PutMetricData",
    }
)


@dataclass
class PlanSummary:
    creates: dict[str, dict[str, Any]]  # address -> planned values
    counts: Counter[str]
    outputs: dict[str, Any]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {address: values for address, values in self.creates.items() if _type_of(address) == resource_type}

    def one(self, resource_type: str) -> dict[str, Any]:
        found = list(self.of_type(resource_type).values())
        assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
        return found[0]


def _type_of(address: str) -> str:
    last = address.split(".")
    # module.a.module.b.aws_x.name[key] -> aws_x (data sources have a "data" segment before)
    for index in range(len(last) - 1, -1, -1):
        if last[index].startswith("aws_"):
            return last[index]
    return ""


def summarize(plan: dict[str, Any]) -> PlanSummary:
    creates = {
        change["address"]: change["change"]["after"] or {}
        for change in plan.get("resource_changes", [])
        if change["mode"] == "managed" and "create" in change["change"]["actions"]
    }
    counts = Counter(_type_of(address) for address in creates)
    outputs = {name: value.get("after") for name, value in plan.get("output_changes", {}).items()}
    return PlanSummary(creates, counts, outputs)


def policy_statements(summary: PlanSummary) -> list[tuple[str, dict[str, Any]]]:
    """(address, statement) for every statement of every inline role policy in the plan."""
    found = []
    for address, values in summary.of_type("aws_iam_role_policy").items():
        document = json.loads(values["policy"])
        for statement in document["Statement"]:
            found.append((address, statement))
    return found


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)
