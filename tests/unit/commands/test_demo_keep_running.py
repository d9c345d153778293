"""`scones demo --keep-running`: a demo that succeeded leaves its emulator up, one that failed never does.

The commands the demo then prints are run against a deployed stack in tests/e2e/test_workflow.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones.deploy import StageError, emulator
from scones.local import control
from tests.support.local_fixtures import free_port


def test_a_kept_emulator_runs_after_the_block_until_it_is_stopped(tmp_path: Path) -> None:
    state_dir = tmp_path / "local"
    try:
        with emulator(state_dir, free_port(), keep=True) as url:
            pass
        state = control.running_state(state_dir)
        assert state is not None and state.url == url
        assert control.pid_alive(state.pid)
    finally:
        stopped = control.down(state_dir)
    assert stopped is not None and not control.pid_alive(stopped.pid)
    assert control.processes_in_group(stopped.pid) == []


@pytest.mark.parametrize("keep", [True, False], ids=["kept", "not-kept"])
def test_a_failed_run_stops_its_emulator_even_when_kept(tmp_path: Path, keep: bool) -> None:
    state_dir = tmp_path / "local"
    with pytest.raises(StageError, match="training failed"), emulator(state_dir, free_port(), keep=keep):
        started = control.running_state(state_dir)
        assert started is not None
        raise StageError("training failed")
    assert control.running_state(state_dir) is None
    assert not control.pid_alive(started.pid)


def test_without_keep_the_emulator_stops_after_a_successful_block(tmp_path: Path) -> None:
    state_dir = tmp_path / "local"
    with emulator(state_dir, free_port()):
        started = control.running_state(state_dir)
    assert started is not None and control.running_state(state_dir) is None
    assert not control.pid_alive(started.pid)
