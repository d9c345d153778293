"""The suite's scheduling (tests/conftest.py): a file that reads the shared environment-root plans runs on
the worker that plans them. A file left out is a scope of its own, which `make test` may give to another
worker, and that worker plans local, dev and prod again (about 10 CPU-seconds each) for the same answers."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import scope_of

REPO = Path(__file__).resolve().parents[2]
# The fixtures of tests/terraform/conftest.py (package-scoped: only its files can ask for them) whose plans
# the session caches and the group shares.
SHARED_PLAN_FIXTURES = re.compile(r"\b(env_plan|root_plan)\b")


def test_every_file_reading_the_environment_root_plans_is_scheduled_with_them() -> None:
    readers = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "tests" / "terraform").glob("test_*.py")
        if SHARED_PLAN_FIXTURES.search(path.read_text())
    )
    assert readers  # the fixtures' names still mean something
    assert [path for path in readers if scope_of(f"{path}::test") != "environment-root-plans"] == []
