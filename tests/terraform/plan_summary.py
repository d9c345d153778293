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
    outputs: dict[str, Any]  # name -> planned value (None while unknown)
    unknown_outputs: frozenset[str]  # outputs only known after apply (computed by AWS)

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
    output_changes = plan.get("output_changes", {})
    outputs = {name: value.get("after") for name, value in output_changes.items()}
    # after_unknown is true for an unknown value, and a map/list of flags for a collection with unknown parts.
    unknown = frozenset(name for name, value in output_changes.items() if value.get("after_unknown"))
    return PlanSummary(creates, counts, outputs, unknown)


def module_resources(plan: dict[str, Any], *path: str) -> dict[str, dict[str, Any]]:
    """Configuration (expressions, references, depends_on) of the resources of a module, by local address.

    module_resources(plan, "stack", "workflow") is module.stack.module.workflow.
    """
    module = plan["configuration"]["root_module"]
    for name in path:
        module = module["module_calls"][name]["module"]
    return {resource["address"]: resource for resource in module.get("resources", [])}


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
