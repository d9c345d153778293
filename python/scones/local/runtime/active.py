"""The runtimes of the running `LocalAWS`, to which the moto extensions hand deployed code.

One `LocalAWS` at a time per process: moto's state is process-wide. While none is active, the
extensions let moto's own behaviour run, so `mock_aws` tests in the same process are unaffected.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from scones.local.faults import FaultRegistry
from scones.local.iam.authorizer import Authorizer, Principal
from scones.local.runtime.lambda_runtime import LambdaRuntime
from scones.local.runtime.model_server import ModelServer


@dataclass(frozen=True)
class Runtimes:
    lambdas: LambdaRuntime
    models: ModelServer
    faults: FaultRegistry
    authorizer: Authorizer | None = None  # None: IAM is not enforced


_lock = threading.Lock()
_active: Runtimes | None = None


def current() -> Runtimes | None:
    return _active


def authorizer() -> Authorizer | None:
    """The running emulator's authorizer, when it enforces IAM."""
    runtimes = _active
    return None if runtimes is None else runtimes.authorizer


def check_as_role(role_arn: str, session_name: str, action: str, resource: str) -> None:
    """With IAM enforced, raise AccessDeniedError unless the role's session may do `action` on `resource` (what
    a service does as a role its user named: EventBridge as a target's role, Lambda's poller as a function's)."""
    checker = authorizer()
    if checker is not None:
        checker.check(Principal.of_role(role_arn, session_name), action, resource)


def activate(runtimes: Runtimes) -> None:
    global _active
    with _lock:
        if _active is not None and _active is not runtimes:
            raise RuntimeError("another LocalAWS is already running in this process")
        _active = runtimes


def deactivate(runtimes: Runtimes) -> None:
    global _active
    with _lock:
        if _active is runtimes:
            _active = None
