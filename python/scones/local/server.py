"""An in-process moto server on 127.0.0.1 with this project's patches installed.

Owned by the emulator work; minimal starting point.
"""

from __future__ import annotations

import os
from types import TracebackType

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from scones.local import aws_gaps


class LocalAWS:
    """moto's server in a thread. `url` is valid after `start()`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.url = ""

    def start(self) -> LocalAWS:
        aws_gaps.install()
        self._server.start()
        host, port = self._server.get_host_and_port()
        # moto's Step Functions interpreter calls back into "the" moto server on MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> LocalAWS:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
