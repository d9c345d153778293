"""Suite-wide guards: the suite's extras are installed, and no test may reach real AWS or pick
up the developer's AWS setup."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO_TARBALL = REPO / "data" / "cifar-100-python-bicycle-motorcycle.tar.gz"

# torch (and the processes the tests start: training, the model servers) on one intra-op thread. The suite
# runs more workers than the machine has cores, and torch's threads then wait on each other by spinning,
# burning the CPU the other workers need; on 32x32 images they saved nothing even on an idle machine
# (scones.evaluation.served_model.one_thread). Set before anything imports torch; the tests of the
# multi-threaded paths set their thread counts themselves (tests/unit/model/test_net.py).
os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_sessionstart(session: pytest.Session) -> None:
    # Every test runs against the real model code: no skipping it, no stand-in for it.
    if importlib.util.find_spec("torch") is None:
        pytest.exit("the tests need torch: run make setup (the ml extra)", returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.fixture(autouse=True, scope="session")
def _fake_aws_environment() -> Iterator[None]:
    # Session scope: module- and session-scoped fixtures (the emulator, Terraform) need it too.
    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            patch.delenv(name, raising=False)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        patch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        patch.setenv("AWS_REGION", "us-east-1")
        patch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        yield


# `make test` runs the suite on several workers (pytest-xdist, `--dist loadscope`), scheduled a file at a
# time, so a file's module-scoped stacks and emulators are built once; files that read the same
# session-cached plans go to one worker together, so each of those roots is planned once, not once per
# worker. (xdist's own grouping by `xdist_group` marks renames node ids, which pytest 9 ignores.)
SHARED_PLANS = {
    "tests/terraform/test_plans.py": "environment-root-plans",
    "tests/terraform/test_upgrade.py": "environment-root-plans",
    "tests/terraform/test_static.py": "environment-root-plans",
    "tests/terraform/test_deployment.py": "environment-root-plans",
    "tests/terraform/test_registry.py": "environment-root-plans",
    "tests/terraform/test_batch.py": "environment-root-plans",
    "tests/terraform/test_events.py": "environment-root-plans",
    "tests/terraform/test_dashboard.py": "environment-root-plans",
    "tests/terraform/test_api.py": "environment-root-plans",
    "tests/terraform/test_costs.py": "environment-root-plans",
    "tests/plan_testing/test_helpers_on_roots.py": "plan-testing-roots",
    "tests/plan_testing/test_planner.py": "plan-testing-roots",
}


# The longest scopes, longest first: stacks applied on the emulator (the trained one trains too) and roots
# planned, a third of the suite's time in a dozen files. xdist hands out whole scopes in collection order
# (`make test` passes --no-loadscope-reorder; its own order is by test count, which put these few-test files
# last), and a long scope started last is a tail that leaves a core idle. Other files keep pytest's order.
LONGEST_FIRST = (
    "tests/e2e/test_workflow.py",
    "environment-root-plans",
    "plan-testing-roots",
    "tests/e2e/test_release.py",
    "tests/e2e/test_stack_changes.py",
    "tests/e2e/test_alarms.py",
    "tests/e2e/test_events.py",
    "tests/e2e/test_batch.py",
    "tests/e2e/test_iam_enforced.py",
    "examples/team-root/tests/test_plan.py",
    "tests/unit/model/test_script_mode.py",
    "tests/terraform/test_toolchain.py",
)


def scope_of(nodeid: str) -> str:
    path = nodeid.split("::", 1)[0]
    return SHARED_PLANS.get(path, path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {scope: index for index, scope in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(scope_of(item.nodeid), len(rank)))  # stable: files stay whole


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FilesSharingPlans(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return FilesSharingPlans(config, log)
