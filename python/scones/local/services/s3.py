"""S3: bucket policies with conditions, evaluated the way S3 does for the emulator's requests.

moto ignores the request context when it checks a bucket policy, so a condition it cannot see
counts as met: the standard TLS-only statement (Deny unless aws:SecureTransport) then denies
every request. The emulator stands in for AWS's HTTPS endpoints, so its requests are evaluated
as secure, and a statement whose condition does not hold for them does not apply.

GetObject also answers AccessDenied while an `S3ReadDenied` fault of the emulator matches.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.responses import TYPE_RESPONSE
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.exceptions import S3AccessDeniedError
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response

from scones.local.faults import S3ReadDenied
from scones.local.runtime import active

# What S3 would see for a request made through the emulator.
REQUEST_CONTEXT = {"aws:securetransport": "true", "s3:tlsversion": "1.3"}


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _holds(operator: str, key: str, expected: Any) -> bool | None:
    """Whether one condition holds for the emulator's context; None when it cannot be known."""
    actual = REQUEST_CONTEXT.get(key.lower())
    if actual is None:
        return None
    values = _as_list(expected)
    if operator == "Bool":
        return actual.lower() in {v.lower() for v in values}
    if operator == "StringEquals":
        return actual in values
    if operator == "StringNotEquals":
        return actual not in values
    if operator in ("NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals"):
        number = float(actual)
        checks = {
            "NumericLessThan": lambda v: number < v,
            "NumericLessThanEquals": lambda v: number <= v,
            "NumericGreaterThan": lambda v: number > v,
            "NumericGreaterThanEquals": lambda v: number >= v,
        }
        return any(checks[operator](float(v)) for v in values)
    return None


def statement_applies(statement: dict[str, Any]) -> bool:
    """False only when a condition is known not to hold (all conditions must hold to apply)."""
    for operator, pairs in (statement.get("Condition") or {}).items():
        for key, expected in pairs.items():
            if _holds(operator, key, expected) is False:
                return False
    return True


def _get_permission(self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    applicable = [s for s in statements if statement_applies(s)]
    if not applicable:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps({**policy, "Statement": applicable})).is_action_permitted(action, resource)


_original_get_object = S3Response.get_object


def _get_object(self: S3Response) -> TYPE_RESPONSE:
    """GetObject, refused with S3's AccessDenied (HTTP 403) while an `S3ReadDenied` fault matches."""
    runtimes = active.current()
    if runtimes is not None and runtimes.faults.take(S3ReadDenied, f"{self.bucket_name}/{self.parse_key_name()}"):
        raise S3AccessDeniedError()
    return _original_get_object(self)


def install() -> None:
    FakeBucket.get_permission = _get_permission  # type: ignore[method-assign]
    S3Response.get_object = _get_object  # type: ignore[method-assign]
