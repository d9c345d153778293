"""One statement of a role's inline policy taken away at a time, for the end-to-end tests that hold the stack's
own policies to account on the emulator (which enforces IAM): tests/e2e/test_iam_enforced.py (the workflow's
roles) and tests/e2e/test_events.py (the ingestion path's starter). Each test classifies every statement of
the roles it covers: what fails without it (its EXPECTED table), or why nothing here can observe it
(NOT_OBSERVED), so a statement added later has to be classified."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

POLICY = "least-privilege"  # the one inline policy terraform/modules/iam gives each role


def as_document(document: Any) -> dict[str, Any]:
    """A policy document as IAM's API answers it (a JSON string or already parsed), parsed."""
    return dict(json.loads(document) if isinstance(document, str) else document)


def inline_policy(iam: Any, role_name: str, policy_name: str = POLICY) -> dict[str, Any]:
    return as_document(iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"])


def unclassified(
    policies: Mapping[str, dict[str, Any]], expected: Collection[tuple[str, str]], not_observed: Mapping[str, str]
) -> list[str]:
    """`role: statement Sid` of each statement of `policies` (by role short name) in neither table, and of each
    EXPECTED entry no policy has (a table that names a statement the roles lost is as wrong as a gap)."""
    present = {(short, str(s.get("Sid", ""))) for short, policy in policies.items() for s in policy["Statement"]}
    missing = [
        f"{short}: statement {sid!r} is not classified"
        for short, sid in sorted(present)
        if (short, sid) not in expected and sid not in not_observed
    ]
    return missing + [
        f"{short}: {sid!r} is in EXPECTED but not in its policy" for short, sid in sorted(set(expected) - present)
    ]


@contextmanager
def without_statement(
    iam: Any, role_name: str, policy: dict[str, Any], sid: str, policy_name: str = POLICY
) -> Iterator[None]:
    """The role's policy without statement `sid` for the block, then as it was."""
    without = {**policy, "Statement": [s for s in policy["Statement"] if s.get("Sid") != sid]}
    assert len(without["Statement"]) == len(policy["Statement"]) - 1, f"{role_name}: no one statement {sid!r}"
    if without["Statement"]:
        iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=json.dumps(without))
    else:  # the policy's only statement: IAM refuses an empty one, so the policy goes
        iam.delete_role_policy(RoleName=role_name, PolicyName=policy_name)
    try:
        yield
    finally:
        iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))


def log_text(logs: Any, group: str) -> str:
    """Every line of a log group so far, one per line."""
    events = logs.filter_log_events(logGroupName=group, limit=10_000)["events"]
    return "\n".join(event["message"] for event in events)
