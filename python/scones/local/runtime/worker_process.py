"""The emulator's end of a long-lived worker subprocess (a warm Lambda sandbox or a model server).

One request at a time per worker; callers hold the worker while they use it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scones.local.runtime.framing import FrameError, read_frame, write_frame
from scones.local.runtime.worker_channel import END_OF_REQUEST_MARKER, RESPONSE_FD_ENV

OutputSink = Callable[[str], None]

# How long to wait for the log lines of a request after its response arrived; they are
# written before the response, so this only covers the reader thread's scheduling.
_LOG_DRAIN_SECONDS = 5.0


class WorkerError(Exception):
    """Base for worker failures."""


class WorkerTimeoutError(WorkerError):
    """The worker did not answer in time and was killed."""


class WorkerExitedError(WorkerError):
    """The worker process ended while a request was outstanding."""

    def __init__(self, returncode: int | None) -> None:
        self.returncode = returncode
        if returncode is None:
            detail = "exited"
        elif returncode < 0:
            detail = f"signal: {signal.Signals(-returncode).name.removeprefix('SIG').lower()}"
        else:
            detail = f"exit status {returncode}"
        self.detail = detail
        super().__init__(f"worker {detail}")


_EOF = object()


class WorkerProcess:
    """A subprocess speaking frames on stdin / a response pipe, logging on stdout+stderr."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, on_output: OutputSink, name: str) -> None:
        self.name = name
        self._responses: queue.Queue[Any] = queue.Queue()
        self._marker_seen = threading.Condition()
        self._last_marker = 0
        self._seq = 0
        self._on_output = on_output
        read_fd, write_fd = os.pipe()
        try:
            self._proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**env, RESPONSE_FD_ENV: str(write_fd)},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self._response_pipe = os.fdopen(read_fd, "rb")
        threading.Thread(target=self._read_responses, name=f"{name}-responses", daemon=True).start()
        threading.Thread(target=self._read_output, name=f"{name}-output", daemon=True).start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def alive(self) -> bool:
        return self._proc.poll() is None

    def _read_responses(self) -> None:
        try:
            while True:
                frame = read_frame(self._response_pipe)
                if frame is None:
                    break
                self._responses.put(frame)
        except (FrameError, OSError, ValueError):
            pass
        finally:
            self._response_pipe.close()
        self._responses.put(_EOF)

    def _read_output(self) -> None:
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            if line.startswith(END_OF_REQUEST_MARKER):
                with self._marker_seen:
                    self._last_marker = int(line[len(END_OF_REQUEST_MARKER) :])
                    self._marker_seen.notify_all()
                continue
            try:
                self._on_output(line)
            except Exception as exc:  # a failing log sink must not stall the worker's pipe
                print(f"scones-local: {self.name}: dropped a log line: {exc}", file=sys.stderr)
        self._proc.stdout.close()
        with self._marker_seen:
            self._last_marker = 1 << 62
            self._marker_seen.notify_all()

    def wait_for_message(self, timeout: float) -> tuple[dict[str, Any], bytes]:
        """The next frame from the worker (e.g. its ready message)."""
        try:
            item = self._responses.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise WorkerTimeoutError(f"{self.name} did not answer within {timeout:.2f} s") from None
        if item is _EOF:
            raise WorkerExitedError(self._wait_exit())
        return item

    def call(self, header: dict[str, Any], body: bytes, timeout: float) -> tuple[dict[str, Any], bytes]:
        """Send one request and wait for its response; kills the worker on timeout."""
        self._seq += 1
        seq = self._seq
        assert self._proc.stdin is not None
        try:
            write_frame(self._proc.stdin, {**header, "seq": seq}, body)  # type: ignore[arg-type]
        except (BrokenPipeError, OSError):
            raise WorkerExitedError(self._wait_exit()) from None
        response = self.wait_for_message(timeout)
        with self._marker_seen:
            self._marker_seen.wait_for(lambda: self._last_marker >= seq, timeout=_LOG_DRAIN_SECONDS)
        return response

    def _wait_exit(self) -> int | None:
        try:
            return self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return self._proc.returncode

    def kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._close_pipes()

    def stop(self, grace_seconds: float = 2.0) -> None:
        """Ask the worker to finish (stdin closed), kill it if it does not."""
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        # The reader threads close the other pipes when they see end-of-file.
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
