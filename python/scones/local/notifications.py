"""What an emulator's SNS topic sent: the emulator's own record (services/sns.py), read over HTTP.

The demo and the tests count the workflow's notifications from this record rather than from a
queue subscribed to the topic, which the local environment no longer builds (its queue and
policy cost 50 s of provider waits per apply). Works against a running emulator only: AWS keeps
no record of what a topic sent.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

# Served by services/sns.py (kept here so that reading the record does not import moto).
RECORD_PATH = "/_scones/sns/sent-notifications"


class NotificationRecordError(RuntimeError):
    """The emulator did not answer with the topic's record (down, or no such topic)."""


@dataclass(frozen=True)
class SentNotification:
    message_id: str
    subject: str | None
    message: str  # as published: the workflow publishes JSON

    def body(self) -> Any:
        """The message parsed as JSON."""
        return json.loads(self.message)


def sent_notifications(endpoint_url: str, topic_arn: str, timeout: float = 10.0) -> list[SentNotification]:
    """Every message published to the topic since the emulator started, oldest first."""
    query = urllib.parse.urlencode({"TopicArn": topic_arn})
    url = f"{endpoint_url.rstrip('/')}{RECORD_PATH}?{query}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise NotificationRecordError(f"{url}: HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise NotificationRecordError(f"{url}: the emulator does not answer: {exc}") from exc
    return [
        SentNotification(message_id=n["message_id"], subject=n["subject"], message=n["message"])
        for n in answer["Notifications"]
    ]


def sent_bodies(endpoint_url: str, topic_arn: str, since: int = 0) -> list[Any]:
    """The JSON bodies of the topic's messages, from the `since`-th on (a count read earlier, so a
    caller counts only what it caused)."""
    return [n.body() for n in sent_notifications(endpoint_url, topic_arn)[since:]]
