"""Whose keys these are, with their secret: what a service that verifies signatures needs.

API Gateway's `AWS_IAM` methods verify a request's SigV4 signature with the secret of its access
key, and authorize the principal the key belongs to. Three kinds of keys are known here:
- a role session's, issued by moto's STS backend (AssumeRole, as the emulator does for Lambda,
  Step Functions and SageMaker, or a user's own `sts assume-role`): the session acts as its role;
- an IAM user's access keys (CreateAccessKey): the user, with its and its groups' policies;
- the admin's, `testing`/`testing` (`scones local env`): full access, reported by
  GetCallerIdentity as `arn:aws:sts::ACCOUNT:user/moto`, as moto reports unknown keys.
Any other key is unknown, which AWS answers with "The security token included in the request is
invalid."
"""

from __future__ import annotations

from dataclasses import dataclass

from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import get_account_id_from, iam_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

from scones.aws import EMULATOR_ACCESS_KEY, EMULATOR_SECRET_KEY
from scones.local.iam.policies import role_policy_documents, user_policy_documents

# What moto's GetCallerIdentity answers for keys it did not issue.
ADMIN_USER_ID = "AKIAIOSFODNN7EXAMPLE"


@dataclass(frozen=True)
class Caller:
    """The principal behind an access key, and what a signature is checked with."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None
    arn: str  # the caller's ARN: an assumed-role session, an IAM user, or the admin
    account_id: str
    partition: str
    principal_id: str  # AROA...:SESSION for a role session, the user's AIDA... id, the admin's key id
    role_arn: str | None = None  # set for a role session
    user_name: str | None = None  # set for an IAM user

    @property
    def is_admin(self) -> bool:
        return self.role_arn is None and self.user_name is None

    def identity_policy_documents(self) -> list[str] | None:
        """The identity-based policies that apply; None for the admin (full access)."""
        backend = iam_backends[self.account_id][self.partition]
        if self.role_arn is not None:
            return role_policy_documents(backend, self.role_arn.rsplit("/", 1)[-1])
        if self.user_name is not None:
            return user_policy_documents(backend, self.user_name)
        return None

    @property
    def policy_arns(self) -> tuple[str, ...]:
        """The ARNs a resource policy's `Principal` may name this caller by."""
        return (self.arn,) if self.role_arn is None else (self.arn, self.role_arn)


def caller_for(access_key_id: str, region: str) -> Caller | None:
    """The caller these keys belong to, or None for keys nobody was issued."""
    partition = get_partition(region)
    account_id = get_account_id_from(access_key_id)
    session = sts_backends[account_id][partition].get_assumed_role_from_access_key(access_key_id)
    if session is not None:
        return Caller(
            access_key_id,
            session.secret_access_key,
            session.session_token,
            session.arn,
            session.account_id,
            partition,
            session.user_id,
            role_arn=session.role_arn,
        )
    iam = iam_backends[account_id][partition]
    user = iam.get_user_from_access_key_id(access_key_id)
    if user is not None:
        key = next(key for key in user.access_keys if key.access_key_id == access_key_id)
        if key.status != "Active":
            return None
        return Caller(
            access_key_id,
            key.secret_access_key,
            None,
            user.arn,
            user.account_id,
            partition,
            user.id,
            user_name=user.name,
        )
    if access_key_id == EMULATOR_ACCESS_KEY:
        arn = f"arn:{partition}:sts::{DEFAULT_ACCOUNT_ID}:user/moto"
        return Caller(access_key_id, EMULATOR_SECRET_KEY, None, arn, DEFAULT_ACCOUNT_ID, partition, ADMIN_USER_ID)
    return None
