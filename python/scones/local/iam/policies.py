"""Whether a role's identity-based policies allow an action on a resource, as IAM decides it.

IAM's evaluation logic for one account and no resource-based policy: an explicit Deny in any
policy wins, otherwise any Allow allows, otherwise the request is implicitly denied ("Policy
evaluation logic", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
The role's policies are its inline policies and the default version of each attached managed
policy, read from moto's IAM backend. Statements are matched by moto's `IAMPolicyStatement`
(Action/NotAction and Resource with `*` wildcards), with what it gets wrong for identity
policies handled here: action names are case-insensitive in IAM, `NotResource` is supported,
and a Condition that does not hold makes the statement not apply (moto turns it into a Deny,
and evaluates only StringEquals). No request carries condition keys here, so a condition holds
only as IAM judges it for missing keys: `...IfExists` operators and `Null: true` hold, every
other operator does not ("Condition operators", https://docs.aws.amazon.com/IAM/latest/UserGuide/
reference_policies_elements_condition_operators.html). The calls the stack's roles make are
allowed by condition-free statements.
Permissions boundaries and session policies are not evaluated: the stack uses neither.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Iterable
from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.iam.exceptions import NotFoundException
from moto.iam.models import IAMBackend


class Decision(enum.Enum):
    ALLOW = "allow"
    IMPLICIT_DENY = "implicit deny"
    EXPLICIT_DENY = "explicit deny"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _conditions_hold_without_keys(conditions: dict[str, Any]) -> bool:
    for operator, keys in conditions.items():
        if operator.endswith("IfExists"):
            continue
        if operator == "Null" and all(str(value).lower() == "true" for value in keys.values()):
            continue
        return False
    return True


def _statement_result(statement: dict[str, Any], action: str, resource: str) -> PermissionResult:
    normalised = {key: value for key, value in statement.items() if key not in ("Condition", "NotResource")}
    for key in ("Action", "NotAction"):
        if key in normalised:
            normalised[key] = [str(name).lower() for name in _as_list(normalised[key])]
    if not _conditions_hold_without_keys(statement.get("Condition") or {}):
        return PermissionResult.NEUTRAL
    if "NotResource" in statement:
        matches_not_resource = IAMPolicyStatement({"NotResource": statement["NotResource"]})._check_element_matches(
            "NotResource", resource
        )
        if matches_not_resource:
            return PermissionResult.NEUTRAL
        normalised["Resource"] = "*"
    return IAMPolicyStatement(normalised).is_action_permitted(action.lower(), resource)


@functools.lru_cache(maxsize=256)
def _statements(document: str) -> tuple[dict[str, Any], ...]:
    """A policy document's statements, parsed once per distinct text: every checked call of a role
    reads the same few documents (the result is shared, so it is never changed)."""
    return tuple(_as_list(json.loads(document).get("Statement", [])))


def evaluate(documents: Iterable[str], action: str, resource: str) -> Decision:
    """IAM's decision for `action` on `resource` under these policy documents (JSON)."""
    allowed = False
    for document in documents:
        for statement in _statements(document):
            result = _statement_result(statement, action, resource)
            if result is PermissionResult.DENIED:
                return Decision.EXPLICIT_DENY
            allowed = allowed or result is PermissionResult.PERMITTED
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def role_policy_documents(backend: IAMBackend, role_name: str) -> list[str]:
    """The inline policies and the attached managed policies' default versions; none for a missing role."""
    try:
        role = backend.get_role(role_name)
    except NotFoundException:
        return []
    documents = [str(document) for document in role.policies.values()]
    for policy in role.managed_policies.values():
        documents += [str(version.document) for version in policy.versions if version.is_default]
    return documents
