"""The suite's scheduling keeps `make test` inside its time: every test file that reads the environment
roots' shared plans runs on the worker that holds them (tests/conftest.py SHARED_PLANS). A file left out
plans the three roots again on another worker, about 30 CPU-seconds."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import SHARED_PLANS

REPO = Path(__file__).resolve().parents[2]
_SHARED_FIXTURES = re.compile(r"\b(env_plan|root_plan|stacks_plan)\b")


def test_every_file_reading_the_shared_root_plans_is_scheduled_with_them() -> None:
    readers = {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "tests" / "terraform").glob("test_*.py")
        if _SHARED_FIXTURES.search(path.read_text())
    }
    assert "tests/terraform/test_plans.py" in readers
    grouped = {path for path, scope in SHARED_PLANS.items() if scope == "environment-root-plans"}
    assert readers - grouped == set(), "add these to SHARED_PLANS in tests/conftest.py"
