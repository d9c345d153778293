"""What goes wrong when planning offline, each a named error with a message a reviewer can act on."""

from __future__ import annotations


class PlanTestingError(Exception):
    """Base of every error the plan-testing plugin raises."""


class MissingDependency(PlanTestingError):
    """The `plan-testing` extra is not installed."""


class ToolMissing(PlanTestingError):
    """No terraform to run, or no way to install the AWS provider (no mirror, no registry)."""


class RootNotPlannable(PlanTestingError):
    """The root cannot be planned offline: a remote module source, a provider that cannot be redirected."""


class InitFailed(PlanTestingError):
    """`terraform init` failed for the root (its own message follows)."""


class PlanRejected(PlanTestingError):
    """Terraform refused the plan: a bad variable, a failed validation rule, an invalid reference.

    `terraform_message` holds Terraform's own diagnostics (without colour codes), so
    `pytest.raises(PlanRejected, match="must be between")` reads like the rule it tests.
    """

    def __init__(self, root: str, terraform_message: str) -> None:
        self.root = root
        self.terraform_message = terraform_message.strip()
        super().__init__(f"terraform rejected the plan of {root}:\n{self.terraform_message}")


class PlanAssertionError(AssertionError):
    """A plan violates an assertion helper; the message lists every offending address and why."""

    def __init__(self, headline: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{headline} ({len(problems)}):\n{lines}")


def require(*modules: str) -> None:
    """Fail in one line when a dependency of the extra is missing (imported lazily, where it is used)."""
    import importlib.util

    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependency(f"scones plan-testing needs {', '.join(missing)}: pip install 'scones[plan-testing]'")
