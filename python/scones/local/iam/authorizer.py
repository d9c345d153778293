"""Who a request acts as, and whether that principal may do what it asks.

Two kinds of principal: a role's session, whose keys the emulator issued through moto's STS
backend (AssumeRole, as the Lambda, Step Functions and SageMaker services do for their roles;
a user's own `sts assume-role` through the emulator counts too), and the admin: any other
keys, among them the `testing` keys `scones local env` exports. The admin may do everything,
as the person running `scones` and Terraform does with their own credentials on AWS.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import get_account_id_from, iam_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

from scones.local.iam.policies import Decision, evaluate, role_policy_documents

# How long AssumeRole's keys last (its default); the emulator never expires them.
_SESSION_SECONDS = 3600


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str


@dataclass(frozen=True)
class Principal:
    """A role's session: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`."""

    account_id: str
    partition: str
    role_name: str
    session_name: str

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:sts::{self.account_id}:assumed-role/{self.role_name}/{self.session_name}"

    @classmethod
    def of_role(cls, role_arn: str, session_name: str) -> Principal:
        # arn:PARTITION:iam::ACCOUNT:role/PATH/NAME; anything else names no role of any account
        # here, so its policies are none and every checked call is denied.
        parts = role_arn.split(":", 5)
        if len(parts) < 6 or not parts[4]:
            return cls(DEFAULT_ACCOUNT_ID, "aws", f"(not a role ARN: {role_arn})", session_name)
        return cls(parts[4], parts[1], parts[5].rsplit("/", 1)[-1], session_name)


class Named(Protocol):
    @property
    def arn(self) -> str: ...


class AccessDeniedError(Exception):
    """IAM denied `action` on `resource` to `principal`; the message is the one AWS services send.
    `resource_based`: the resource's policy decided (API Gateway's resource policy), not the caller's."""

    def __init__(
        self, principal: Named, action: str, resource: str, decision: Decision, *, resource_based: bool = False
    ) -> None:
        self.principal = principal
        self.action = action
        self.resource = resource
        self.explicit = decision is Decision.EXPLICIT_DENY
        self.resource_based = resource_based
        super().__init__(self.message())

    def message(self, *, action_name: str | None = None, quoted_resource: bool = False) -> str:
        """AWS's wording ("Troubleshoot access denied error messages",
        https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html); S3
        quotes the resource and SNS spells the action `SNS:Publish`."""
        action = action_name or self.action
        resource = f'"{self.resource}"' if quoted_resource else self.resource
        policy_kind = "resource-based" if self.resource_based else "identity-based"
        article = "a" if self.resource_based else "an"
        reason = (
            f"with an explicit deny in {article} {policy_kind} policy"
            if self.explicit
            else f"because no {policy_kind} policy allows the {action} action"
        )
        return f"User: {self.principal.arn} is not authorized to perform: {action} on resource: {resource} {reason}"


class Authorizer:
    """Issues role credentials and checks a principal's calls against its role's policies."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued: dict[tuple[str, str], RoleCredentials] = {}
        self._principals: dict[str, Principal] = {}
        # Keys found to be no role session's (the admin's): every request asks, so remember them.
        # Keys are only ever issued by AssumeRole before their first use, so the answer never changes.
        self._admin_keys: set[str] = set()

    def credentials_for(self, role_arn: str, session_name: str, region: str = "us-east-1") -> RoleCredentials:
        """The keys of a session of `role_arn`, issued once by moto's STS backend (AssumeRole)."""
        with self._lock:
            issued = self._issued.get((role_arn, session_name))
            if issued is not None:
                return issued
            principal = Principal.of_role(role_arn, session_name)
            backend = sts_backends[principal.account_id][principal.partition]
            session = backend.assume_role(
                region_name=region,
                role_session_name=session_name,
                role_arn=role_arn,
                policy="",
                duration=_SESSION_SECONDS,
                external_id="",
            )
            issued = RoleCredentials(session.access_key_id, session.secret_access_key, session.session_token)
            self._issued[(role_arn, session_name)] = issued
            self._principals[issued.access_key_id] = principal
            return issued

    def principal_for(self, access_key_id: str, region: str) -> Principal | None:
        """The role session these keys belong to; None for the admin."""
        with self._lock:
            known = self._principals.get(access_key_id)
            if known is None and access_key_id in self._admin_keys:
                return None
        if known is not None:
            return known
        for session in sts_backends[get_account_id_from(access_key_id)][get_partition(region)].assumed_roles:
            if session.access_key_id == access_key_id:
                principal = Principal.of_role(session.role_arn, session.session_name)
                with self._lock:
                    self._principals[access_key_id] = principal
                return principal
        with self._lock:
            self._admin_keys.add(access_key_id)
        return None

    def check(self, principal: Principal, action: str, resource: str, context: Mapping[str, str] | None = None) -> None:
        """Raise AccessDeniedError unless the principal's role allows `action` on `resource`; `context`: the
        request's condition keys (an S3 listing's `s3:prefix`, ...)."""
        backend = iam_backends[principal.account_id][principal.partition]
        decision = evaluate(role_policy_documents(backend, principal.role_name), action, resource, context)
        if decision is not Decision.ALLOW:
            raise AccessDeniedError(principal, action, resource, decision)
