"""The worker's end of the pipes to the emulator (runs inside the worker subprocess).

Requests come in on stdin, responses go out on a separate pipe, so whatever the user's code
prints on stdout/stderr stays log output. After each request the worker writes a marker line
on stdout: the emulator then knows every log line of that request has arrived.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

from scones.local.runtime.framing import read_frame, write_frame

RESPONSE_FD_ENV = "SCONES_WORKER_RESPONSE_FD"
END_OF_REQUEST_MARKER = "\x1escones-worker-end-of-request "


class WorkerChannel:
    def __init__(self) -> None:
        response_fd = int(os.environ.pop(RESPONSE_FD_ENV))
        self._responses = os.fdopen(response_fd, "wb")
        # Move the request pipe off fd 0 so user code that reads stdin cannot eat frames.
        self._requests = os.fdopen(os.dup(0), "rb")
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)

    def send(self, header: dict[str, Any], body: bytes = b"") -> None:
        write_frame(self._responses, header, body)

    def requests(self) -> Iterator[tuple[dict[str, Any], bytes]]:
        while True:
            frame = read_frame(self._requests)
            if frame is None:
                return
            yield frame

    def end_of_request(self, seq: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os.write(1, f"{END_OF_REQUEST_MARKER}{seq}\n".encode())
