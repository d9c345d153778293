"""Whether a role's identity-based policies allow an action on a resource, as IAM decides it.

IAM's evaluation logic for one account and no resource-based policy: an explicit Deny in any
policy wins, otherwise any Allow allows, otherwise the request is implicitly denied ("Policy
evaluation logic", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
The role's policies are its inline policies and the default version of each attached managed
policy, read from moto's IAM backend. Statements are matched by moto's `IAMPolicyStatement`
(Action/NotAction and Resource with `*` wildcards), with what it gets wrong for identity
policies handled here: action names are case-insensitive in IAM, `NotResource` is supported,
and a Condition that does not hold makes the statement not apply (moto turns it into a Deny,
and evaluates only StringEquals). A caller may pass the request's condition keys (`context`; API
Gateway's data plane passes `aws:SourceIp`, `aws:SourceArn`, `aws:PrincipalArn`, ...; an S3
listing `s3:prefix`, `s3:delimiter`, `s3:max-keys`): the String, Numeric, Arn and IpAddress
operators are evaluated on them. A key the request does not carry makes a condition hold only as
IAM judges missing keys: "If the key that you specify in a policy condition is not present in the
request context, the values do not match and the condition is false. If the policy condition
requires that the key is not matched, such as StringNotLike or ArnNotLike, and the right key is
not present, the condition is true", `...IfExists` operators hold and `Null` tests presence
("IAM JSON policy elements: Condition operators", https://docs.aws.amazon.com/IAM/latest/UserGuide/
reference_policies_elements_condition_operators.html).
Permissions boundaries and session policies are not evaluated: the stack uses neither.
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import ipaddress
import json
import operator
from collections.abc import Iterable, Mapping
from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.iam.exceptions import NoSuchEntity, NotFoundException
from moto.iam.models import IAMBackend


class Decision(enum.Enum):
    ALLOW = "allow"
    IMPLICIT_DENY = "implicit deny"
    EXPLICIT_DENY = "explicit deny"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# The request's value compared with the policy's: NumericLessThan holds when value < pattern.
_NUMERIC = {
    "NumericEquals": operator.eq,
    "NumericNotEquals": operator.eq,  # negated below
    "NumericLessThan": operator.lt,
    "NumericLessThanEquals": operator.le,
    "NumericGreaterThan": operator.gt,
    "NumericGreaterThanEquals": operator.ge,
}


def _matches(name: str, pattern: str, value: str) -> bool:
    if name.startswith("String") and name.endswith("IgnoreCase"):
        return pattern.lower() == value.lower()
    if name.startswith("Ip") or name.startswith("NotIp"):
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(pattern, strict=False)
        except ValueError:
            return False
    if name in _NUMERIC:
        try:
            return bool(_NUMERIC[name](float(value), float(pattern)))
        except ValueError:  # not a number: it matches no numeric value
            return False
    if "Like" in name or name.startswith("Arn"):
        # `*` and `?` wildcards; ArnEquals matches like ArnLike (IAM treats them alike).
        return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))
    return pattern == value


# The operators evaluated on a request's keys; any other one does not hold.
_POSITIVE = {
    "StringEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "ArnEquals",
    "ArnLike",
    "IpAddress",
    *(name for name in _NUMERIC if name != "NumericNotEquals"),
}
_NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "ArnNotEquals",
    "ArnNotLike",
    "NotIpAddress",
    "NumericNotEquals",
}


def _conditions_hold(conditions: dict[str, Any], context: Mapping[str, str]) -> bool:
    keys_present = {key.lower(): value for key, value in context.items()}
    for name, keys in conditions.items():
        base = name.removesuffix("IfExists")
        for key, patterns in keys.items():
            value = keys_present.get(key.lower())
            if base == "Null":
                if (value is None) != (str(patterns).lower() == "true"):
                    return False
                continue
            if value is None:
                # Missing: IfExists and negated operators hold, every other one does not (module docstring).
                if name.endswith("IfExists") or base in _NEGATED:
                    continue
                return False
            matched = any(_matches(base, str(pattern), value) for pattern in _as_list(patterns))
            if base in _POSITIVE and matched:
                continue
            if base in _NEGATED and not matched:
                continue
            return False
    return True


def _statement_result(
    statement: dict[str, Any], action: str, resource: str, context: Mapping[str, str] | None = None
) -> PermissionResult:
    normalised = {
        key: value
        for key, value in statement.items()
        if key not in ("Condition", "NotResource", "Principal", "NotPrincipal")
    }
    for key in ("Action", "NotAction"):
        if key in normalised:
            normalised[key] = [str(name).lower() for name in _as_list(normalised[key])]
    if not _conditions_hold(statement.get("Condition") or {}, context or {}):
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


def statements(document: str) -> tuple[dict[str, Any], ...]:
    """A policy document's statements (parsed once per distinct text; never change them)."""
    return _statements(document)


def evaluate_statements(
    statement_list: Iterable[dict[str, Any]], action: str, resource: str, context: Mapping[str, str] | None = None
) -> Decision:
    """IAM's decision for `action` on `resource` under these statements."""
    allowed = False
    for statement in statement_list:
        result = _statement_result(statement, action, resource, context)
        if result is PermissionResult.DENIED:
            return Decision.EXPLICIT_DENY
        allowed = allowed or result is PermissionResult.PERMITTED
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def evaluate(
    documents: Iterable[str], action: str, resource: str, context: Mapping[str, str] | None = None
) -> Decision:
    """IAM's decision for `action` on `resource` under these policy documents (JSON)."""
    allowed = False
    for document in documents:
        for statement in _statements(document):
            result = _statement_result(statement, action, resource, context)
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


def user_policy_documents(backend: IAMBackend, user_name: str) -> list[str]:
    """An IAM user's inline and attached managed policies and those of its groups; none for a missing user."""
    try:
        user = backend.get_user(user_name)
    except (NoSuchEntity, NotFoundException):
        return []
    holders: list[Any] = [user, *backend.get_groups_for_user(user_name)]
    documents: list[str] = []
    for holder in holders:
        documents += [str(document) for document in holder.policies.values()]
        for policy in holder.managed_policies.values():
            documents += [str(version.document) for version in policy.versions if version.is_default]
    return documents
