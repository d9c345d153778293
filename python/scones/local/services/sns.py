"""SNS: the emulator's record of what each topic sent, readable over HTTP.

moto keeps every message published to a topic (`Topic.sent_notifications`), whoever published it
(a Step Functions task, an alarm action, a client). `SentNotificationsRecord` serves that record
at `RECORD_PATH`, so the demo and the tests count notifications from it (through
`scones.local.notifications`) instead of a subscribed SQS queue: the queue and its policy cost a
fixed 50 s of AWS provider waits in every first apply (docs/emulator.md, "Apply speed").
AWS keeps no such record; this is the emulator's view of what it would have delivered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from moto.sns.models import sns_backends

from scones.local.notifications import RECORD_PATH

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class UnknownTopicError(LookupError):
    """The topic ARN names no topic of the emulator."""


def sent_notifications(topic_arn: str) -> list[dict[str, Any]]:
    """Every message published to the topic, oldest first: message_id, subject, message."""
    parts = topic_arn.split(":")
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "sns"]:
        raise UnknownTopicError(f"not an SNS topic ARN: {topic_arn!r}")
    region, account = parts[3], parts[4]
    # Looked up without creating: reading the record must not conjure an account or a region.
    backend = sns_backends.get(account, {}).get(region)
    topic = backend.topics.get(topic_arn) if backend is not None else None
    if topic is None:
        raise UnknownTopicError(f"no such topic: {topic_arn}")
    # A copy: request threads append while this one reads.
    return [
        {"message_id": message_id, "subject": subject, "message": message}
        for message_id, message, subject, _attributes, _group in list(topic.sent_notifications)
    ]


class SentNotificationsRecord:
    """WSGI middleware: GET RECORD_PATH?TopicArn=ARN answers the topic's record as JSON; any other
    request goes to the wrapped app."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != RECORD_PATH:
            return self._app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "GET":
            return _answer(start_response, "405 Method Not Allowed", {"error": "GET only"})
        topic_arn = parse_qs(environ.get("QUERY_STRING", "")).get("TopicArn", [""])[0]
        try:
            record = sent_notifications(topic_arn)
        except UnknownTopicError as exc:
            return _answer(start_response, "404 Not Found", {"error": str(exc)})
        return _answer(start_response, "200 OK", {"TopicArn": topic_arn, "Notifications": record})


def _answer(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
