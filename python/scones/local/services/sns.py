"""SNS: the emulator's record of what each topic sent, readable over HTTP.

moto keeps every message published to a topic (`Topic.sent_notifications`), whoever published it
(a Step Functions task, an alarm action, a client). `sent_notifications_route` serves that
record at `emulator_api.SENT_NOTIFICATIONS_PATH`, so the demo and the tests count notifications from it (through
`scones.local.notifications`) instead of a subscribed SQS queue: the queue and its policy cost a
fixed 50 s of AWS provider waits in every first apply (docs/emulator.md, "Apply speed").
AWS keeps no such record; this is the emulator's view of what it would have delivered.
"""

from __future__ import annotations

from typing import Any

from moto.sns.models import sns_backends

from scones.local.emulator_api import SENT_NOTIFICATIONS_PATH, Request


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


def sent_notifications_route(request: Request) -> tuple[str, object]:
    """The emulator's handler of SENT_NOTIFICATIONS_PATH: GET ?TopicArn=ARN, the topic's record."""
    if request.method != "GET" or request.path:
        return "405 Method Not Allowed", {"error": f"{request.method} {SENT_NOTIFICATIONS_PATH}{request.path}"}
    topic_arn = request.query.get("TopicArn", "")
    try:
        record = sent_notifications(topic_arn)
    except UnknownTopicError as exc:
        return "404 Not Found", {"error": str(exc)}
    return "200 OK", {"TopicArn": topic_arn, "Notifications": record}
