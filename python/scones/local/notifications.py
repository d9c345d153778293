"""What an emulator's SNS topic sent: the emulator's own record (services/sns.py), read over HTTP.

The demo and the tests count the workflow's notifications from this record rather than from a
queue subscribed to the topic, which the local environment no longer builds (its queue and
policy cost 50 s of provider waits per apply). Works against a running emulator only: AWS keeps
no record of what a topic sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from scones.local.emulator_api import SENT_NOTIFICATIONS_PATH, call


@dataclass(frozen=True)
class SentNotification:
    message_id: str
    subject: str | None
    message: str  # as published: the workflow publishes JSON

    def body(self) -> Any:
        """The message parsed as JSON."""
        return json.loads(self.message)


def sent_notifications(endpoint_url: str, topic_arn: str, timeout: float = 10.0) -> list[SentNotification]:
    """Every message published to the topic since the emulator started, oldest first
    (`emulator_api.EmulatorApiError` when the emulator is down or has no such topic)."""
    query = {"TopicArn": topic_arn}
    answer = call(endpoint_url, "GET", SENT_NOTIFICATIONS_PATH, query=query, timeout_seconds=timeout)
    return [
        SentNotification(message_id=n["message_id"], subject=n["subject"], message=n["message"])
        for n in answer["Notifications"]
    ]


def sent_bodies(endpoint_url: str, topic_arn: str, since: int = 0) -> list[Any]:
    """The JSON bodies of the topic's messages, from the `since`-th on (a count read earlier, so a
    caller counts only what it caused)."""
    return [n.body() for n in sent_notifications(endpoint_url, topic_arn)[since:]]
