"""Write log lines into the emulator's CloudWatch Logs (moto's in-process backend)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from moto.logs.models import logs_backends


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class LogStreamRef:
    account_id: str
    region: str
    group: str
    stream: str


class CloudWatchLogs:
    """Appends events to log streams, creating the group and stream when missing."""

    def __init__(self) -> None:
        # moto's logs backend is not thread-safe and Lambda/model workers log concurrently.
        self._lock = threading.Lock()

    def put(self, ref: LogStreamRef, events: list[tuple[int, str]]) -> None:
        if not events:
            return
        with self._lock:
            backend = logs_backends[ref.account_id][ref.region]
            backend.ensure_log_group(ref.group)
            backend.ensure_log_stream(ref.group, ref.stream)
            backend.put_log_events(
                ref.group,
                ref.stream,
                [{"timestamp": ts, "message": message} for ts, message in sorted(events, key=lambda e: e[0])],
            )
