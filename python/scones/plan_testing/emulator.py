"""The emulator that answers the AWS provider's plan-time calls: its own process on a free loopback port.

Started lazily (the first plan needs it, a test run that plans nothing never starts it) through the same
library call as `scones local up`, with a state directory of its own, so it coexists with an emulator a
test runs in process or one a developer keeps on the default port; `stop()` is `scones local down`.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from pathlib import Path

from scones.local import control
from scones.plan_testing.errors import PlanTestingError

START_ATTEMPTS = 3  # a free port can be taken between choosing it and binding it


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PlanEmulator:
    """`url` starts the emulator on first use; `stop()` stops it (safe when it never started)."""

    def __init__(self, state_dir: Path | None = None, timeout_seconds: float = 60.0) -> None:
        self._state_dir = state_dir
        self._owns_state_dir = state_dir is None
        self._timeout = timeout_seconds
        self._url: str | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._url is not None

    @property
    def url(self) -> str:
        with self._lock:
            if self._url is None:
                self._url = self._start()
            return self._url

    def _start(self) -> str:
        if self._state_dir is None:
            self._state_dir = Path(tempfile.mkdtemp(prefix="scones-plan-emulator-"))
        error: Exception | None = None
        for _ in range(START_ATTEMPTS):
            try:
                state, _ = control.up(self._state_dir, port=free_loopback_port(), timeout_seconds=self._timeout)
                return state.url
            except control.PortInUseError as exc:
                error = exc
            except control.EmulatorError as exc:
                raise PlanTestingError(f"the plan-time emulator did not start: {exc}") from exc
        raise PlanTestingError(f"the plan-time emulator found no free port: {error}")

    def stop(self) -> None:
        with self._lock:
            if self._url is not None and self._state_dir is not None:
                control.down(self._state_dir)
            if self._owns_state_dir and self._state_dir is not None:
                shutil.rmtree(self._state_dir, ignore_errors=True)
                self._state_dir = None
            self._url = None
