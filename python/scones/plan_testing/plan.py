"""A Terraform plan (`terraform show -json`) as the objects assertions talk about.

The JSON format is Terraform's documented, versioned one ("JSON Output Format",
https://developer.hashicorp.com/terraform/internals/json-format): `resource_changes` carries each
resource's actions, planned values (`change.after`) and which of them are unknown until apply
(`change.after_unknown`); `output_changes` the outputs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# Where IAM policy documents sit in planned values, by resource type: (attribute, kind). Identity policies
# grant a principal permissions (least privilege applies); trust and resource policies say who may act on a
# role or resource (they have principals, and `*` resources there mean "this resource").
POLICY_ATTRIBUTES: dict[str, tuple[tuple[str, str], ...]] = {
    "aws_iam_role_policy": (("policy", "identity"),),
    "aws_iam_policy": (("policy", "identity"),),
    "aws_iam_user_policy": (("policy", "identity"),),
    "aws_iam_group_policy": (("policy", "identity"),),
    "aws_iam_role": (("assume_role_policy", "trust"),),
    "aws_s3_bucket_policy": (("policy", "resource"),),
    "aws_sns_topic_policy": (("policy", "resource"),),
    "aws_sqs_queue_policy": (("policy", "resource"),),
    "aws_kms_key": (("policy", "resource"),),
    "aws_cloudwatch_log_resource_policy": (("policy_document", "resource"),),
}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str | dict) else list(value)


@dataclass(frozen=True)
class ResourceChange:
    """One managed resource instance of the plan."""

    address: str
    type: str
    name: str
    module_address: str | None
    actions: tuple[str, ...]
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    after_unknown: Mapping[str, Any]
    replace_paths: tuple[Any, ...] = ()
    previous_address: str | None = None
    action_reason: str | None = None

    @property
    def action(self) -> str:
        """create, update, replace, delete, no-op (or read, forget: Terraform's names for the rest)."""
        if set(self.actions) == {"delete", "create"}:
            return "replace"
        return self.actions[0] if len(self.actions) == 1 else "-".join(self.actions)

    @property
    def values(self) -> Mapping[str, Any]:
        """Planned values (known ones); for a resource to be deleted, the values it had."""
        return (self.after if self.after is not None else self.before) or {}

    def is_unknown(self, attribute: str) -> bool:
        """True when `attribute` (or any part of it) is only known after apply."""
        return bool(self.after_unknown.get(attribute))


@dataclass(frozen=True)
class PolicyStatement:
    """One statement of an IAM policy document in the plan, normalized to lists."""

    address: str
    attribute: str
    kind: str  # identity, trust or resource
    sid: str | None
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principal: Any = None
    condition: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, address: str, attribute: str, kind: str, statement: Mapping[str, Any]) -> PolicyStatement:
        return cls(
            address=address,
            attribute=attribute,
            kind=kind,
            sid=statement.get("Sid"),
            effect=statement.get("Effect", ""),
            actions=tuple(_as_list(statement.get("Action"))),
            not_actions=tuple(_as_list(statement.get("NotAction"))),
            resources=tuple(_as_list(statement.get("Resource"))),
            not_resources=tuple(_as_list(statement.get("NotResource"))),
            principal=statement.get("Principal"),
            condition=statement.get("Condition"),
        )

    @property
    def label(self) -> str:
        return f"{self.address} ({self.attribute}{f', Sid {self.sid}' if self.sid else ''})"


@dataclass(frozen=True)
class PolicyDocument:
    """An IAM policy document found in planned values; `document` is None while unknown until apply."""

    address: str
    attribute: str
    kind: str
    document: Mapping[str, Any] | None
    text: str | None

    @property
    def statements(self) -> list[PolicyStatement]:
        if self.document is None:
            return []
        return [
            PolicyStatement.parse(self.address, self.attribute, self.kind, statement)
            for statement in _as_list(self.document.get("Statement"))
        ]


@dataclass(frozen=True)
class Plan:
    """A plan of one root, variables and state. `raw` is Terraform's JSON, for anything not modelled here."""

    root: str
    raw: Mapping[str, Any] = field(repr=False)

    @cached_property
    def resources(self) -> dict[str, ResourceChange]:
        """Managed resource instances by address (data sources are in `raw`)."""
        found = {}
        for change in self.raw.get("resource_changes", []):
            if change.get("mode") != "managed":
                continue
            body = change["change"]
            found[change["address"]] = ResourceChange(
                address=change["address"],
                type=change["type"],
                name=change["name"],
                module_address=change.get("module_address"),
                actions=tuple(body["actions"]),
                before=body.get("before"),
                after=body.get("after"),
                after_unknown=body.get("after_unknown") or {},
                replace_paths=tuple(body.get("replace_paths") or ()),
                previous_address=change.get("previous_address"),
                action_reason=change.get("action_reason"),
            )
        return found

    def __iter__(self) -> Iterator[ResourceChange]:
        return iter(self.resources.values())

    @property
    def actions(self) -> dict[str, str]:
        """Address -> create, update, replace, delete or no-op."""
        return {address: change.action for address, change in self.resources.items()}

    def with_action(self, *actions: str) -> list[str]:
        return sorted(address for address, action in self.actions.items() if action in actions)

    @property
    def moves(self) -> dict[str, str]:
        """Old address -> new address, for every instance a `moved` block relocates."""
        return {c.previous_address: c.address for c in self if c.previous_address}

    def of_type(self, resource_type: str) -> dict[str, Mapping[str, Any]]:
        """Planned values of every instance of a type that exists after apply, by address."""
        return {c.address: c.values for c in self if c.type == resource_type and c.action != "delete"}

    def one(self, resource_type: str) -> Mapping[str, Any]:
        found = list(self.of_type(resource_type).values())
        if len(found) != 1:
            raise AssertionError(f"expected one {resource_type} in the plan of {self.root}, found {len(found)}")
        return found[0]

    def types(self) -> dict[str, int]:
        """Resource type -> instances planned to exist after apply."""
        counts: dict[str, int] = {}
        for change in self:
            if change.action != "delete":
                counts[change.type] = counts.get(change.type, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def outputs(self) -> dict[str, Any]:
        """Output name -> planned value (None while unknown: see `unknown_outputs`)."""
        return {name: value.get("after") for name, value in self.raw.get("output_changes", {}).items()}

    @property
    def unknown_outputs(self) -> frozenset[str]:
        changes = self.raw.get("output_changes", {})
        return frozenset(name for name, value in changes.items() if value.get("after_unknown"))

    @cached_property
    def policies(self) -> list[PolicyDocument]:
        """Every IAM policy document in the plan: identity, trust and resource policies."""
        found = []
        for change in self:
            if change.action == "delete":
                continue
            for attribute, kind in POLICY_ATTRIBUTES.get(change.type, ()):
                found.append(self._policy(change, attribute, kind))
            if change.type == "aws_iam_role":
                # Inline policies written in the role itself (the `inline_policy` blocks).
                for index, block in enumerate(change.values.get("inline_policy") or []):
                    text = block.get("policy")
                    if text:
                        found.append(
                            PolicyDocument(
                                change.address, f"inline_policy[{index}]", "identity", json.loads(text), text
                            )
                        )
        return found

    def _policy(self, change: ResourceChange, attribute: str, kind: str) -> PolicyDocument:
        text = change.values.get(attribute)
        if change.is_unknown(attribute) or not text:
            return PolicyDocument(change.address, attribute, kind, None, None)
        return PolicyDocument(change.address, attribute, kind, json.loads(text), text)

    def policy_statements(self, kind: str | None = "identity") -> list[PolicyStatement]:
        """Statements of every policy of a kind (identity, trust, resource; None for all)."""
        return [s for p in self.policies if kind is None or p.kind == kind for s in p.statements]

    def module_configuration(self, *path: str) -> dict[str, Mapping[str, Any]]:
        """The configuration of one module's resources (`expressions` with their `references`, `depends_on`,
        `count`/`for_each`), by address within that module: what planned values cannot show, such as which
        resource a value is wired to or what must exist first. `module_configuration("stack", "workflow")` is
        module.stack.module.workflow; no path, the root module. From the plan's `configuration`."""
        module = self.raw["configuration"]["root_module"]
        for depth, name in enumerate(path):
            calls = module.get("module_calls", {})
            if name not in calls:
                where = ".".join(f"module.{step}" for step in path[:depth]) or "the root module"
                raise KeyError(f"{where} of {self.root} calls no module {name!r} (it calls {sorted(calls)})")
            module = calls[name]["module"]
        return {resource["address"]: resource for resource in module.get("resources", [])}
