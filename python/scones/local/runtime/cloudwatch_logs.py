"""Write log lines into the emulator's CloudWatch Logs (moto's in-process backend).

Like CloudWatch Logs, a line in embedded metric format also becomes metric datapoints (`emf.py`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from moto.logs.models import logs_backends

from scones.local.runtime import cloudwatch_metrics, emf


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
        self._publish_embedded_metrics(ref, events)

    @staticmethod
    def _publish_embedded_metrics(ref: LogStreamRef, events: list[tuple[int, str]]) -> None:
        by_namespace: dict[str, list[cloudwatch_metrics.Datum]] = {}
        for _, message in events:
            for namespace, datum in emf.extract(message):
                by_namespace.setdefault(namespace, []).append(datum)
        for namespace, data in by_namespace.items():
            cloudwatch_metrics.publish(ref.account_id, ref.region, namespace, data)
