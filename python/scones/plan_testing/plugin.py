"""The pytest plugin (entry point `pytest11: scones_plan_testing`): session fixtures and a timing summary.

Loaded in every pytest run of an environment where scones is installed, so it imports nothing heavy:
the emulator starts on the first plan, tftest and the IAM databases load when first used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scones.plan_testing.emulator import PlanEmulator
from scones.plan_testing.errors import PlanRejected, PlanTestingError
from scones.plan_testing.planner import Planner

_planners: list[Planner] = []


@pytest.fixture(scope="session")
def scones_emulator() -> Iterator[PlanEmulator]:
    """The emulator answering plan-time calls: its own process on a free loopback port, started on first use."""
    emulator = PlanEmulator()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def scones_planner(scones_emulator: PlanEmulator, tmp_path_factory: pytest.TempPathFactory) -> Planner:
    """The session's Planner: plans are cached per (root, variables, var files, state, module sources)."""
    planner = Planner(scones_emulator, tmp_path_factory.mktemp("scones-plan-testing"))
    _planners.append(planner)
    return planner


@pytest.fixture(scope="session")
def plan(scones_planner: Planner) -> Callable[..., Any]:
    """`plan(root_dir, variables=…, var_files=…, state=None, module_sources=None)` -> Plan.

    Setup problems (no terraform, no provider, a root that cannot be planned offline or does not init)
    fail the test in one line; a plan Terraform rejects raises PlanRejected for `pytest.raises`.
    """

    def run(root: Any, **kwargs: Any) -> Any:
        try:
            return scones_planner.plan(root, **kwargs)
        except PlanRejected:
            raise
        except PlanTestingError as exc:
            error = exc
        # Outside the except block, so pytest shows the one line and not the exception it replaces.
        pytest.fail(f"{error.__class__.__name__}: {error}", pytrace=False)

    return run


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for planner in _planners:
        if planner.stats.plans or planner.stats.cache_hits:
            terminalreporter.write_line(f"scones plan-testing: {planner.stats.summary()}")
