"""Resource-based policies: whether a statement's `Principal` names the caller, and the decision.

A statement applies to a caller when its `Principal` (or everything but its `NotPrincipal`)
names it: `*` or `{"AWS": "*"}` anyone; an account (`123456789012` or
`arn:aws:iam::123456789012:root`) every principal of that account; a role's ARN every session of
the role; a user's or a session's ARN that principal; `{"Service": NAME}` that service
("AWS JSON policy elements: Principal",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
Action, Resource and Condition are evaluated as in identity policies (`policies.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scones.local.iam.policies import Decision, evaluate_statements, statements


@dataclass(frozen=True)
class PolicyPrincipal:
    """Who asks: the ARNs it can be named by and its account, or an AWS service."""

    arns: tuple[str, ...] = ()
    account_id: str | None = None
    service: str | None = None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _names(element: Any, principal: PolicyPrincipal) -> bool:
    if element == "*":
        return True
    if not isinstance(element, dict):
        return False
    for kind, values in element.items():
        for value in _as_list(values):
            value = str(value)
            if kind == "Service" and principal.service is not None and value == principal.service:
                return True
            if kind != "AWS" or principal.service is not None:
                continue
            if value == "*" or value in principal.arns:
                return True
            account = value.split(":")[4] if value.startswith("arn:") and value.endswith(":root") else value
            if account.isdigit() and account == principal.account_id:
                return True
    return False


def _applies(statement: dict[str, Any], principal: PolicyPrincipal) -> bool:
    if "NotPrincipal" in statement:
        return not _names(statement["NotPrincipal"], principal)
    return _names(statement.get("Principal"), principal)


def evaluate_resource_policy(
    document: str | Mapping[str, Any] | None,
    principal: PolicyPrincipal,
    action: str,
    resource: str,
    context: Mapping[str, str] | None = None,
) -> Decision:
    """The resource policy's decision for `principal` (IMPLICIT_DENY when there is no policy)."""
    if not document:
        return Decision.IMPLICIT_DENY
    text = document if isinstance(document, str) else json.dumps(document)
    applying = [statement for statement in statements(text) if _applies(statement, principal)]
    return evaluate_statements(applying, action, resource, context)
