"""Fixtures shared by the emulator's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scones.local import control


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    """A state directory for `scones local up`; whatever a test did, no daemon is left running."""
    directory = tmp_path / "local"
    yield directory
    control.down(directory)
