"""The emulator's record of what each SNS topic sent (services/sns.py), read by scones.local.notifications."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from scones.local.emulator_api import EmulatorApiError
from scones.local.notifications import sent_bodies, sent_notifications
from scones.local.server import LocalAWS
from tests.support.local_fixtures import client, free_port


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as running:
        yield running


def test_record_holds_every_message_of_the_topic_in_order(aws: LocalAWS) -> None:
    sns = client("sns", aws.url)
    topic = sns.create_topic(Name="record-topic")["TopicArn"]
    other = sns.create_topic(Name="record-other")["TopicArn"]
    assert sent_notifications(aws.url, topic) == []
    first = sns.publish(TopicArn=topic, Message=json.dumps({"n": 1}), Subject="first")["MessageId"]
    sns.publish(TopicArn=other, Message="not this topic's")
    second = sns.publish(TopicArn=topic, Message=json.dumps({"n": 2}))["MessageId"]

    sent = sent_notifications(aws.url, topic)
    assert [(n.message_id, n.subject, n.body()) for n in sent] == [(first, "first", {"n": 1}), (second, None, {"n": 2})]
    # A count read earlier: only what came after it.
    assert sent_bodies(aws.url, topic, since=1) == [{"n": 2}]
    # Unsubscribed topics keep their record too; SNS calls still go to moto.
    assert [n.message for n in sent_notifications(aws.url, other)] == ["not this topic's"]
    assert len(sns.list_topics()["Topics"]) == 2


def test_unknown_topic_and_stopped_emulator_are_named_errors(aws: LocalAWS) -> None:
    with pytest.raises(EmulatorApiError, match=r"HTTP 404: .*no such topic"):
        sent_notifications(aws.url, "arn:aws:sns:us-east-1:123456789012:never-created")
    with pytest.raises(EmulatorApiError, match="not an SNS topic ARN"):
        sent_notifications(aws.url, "arn:aws:sqs:us-east-1:123456789012:a-queue")
    with pytest.raises(EmulatorApiError, match="does not answer"):
        sent_notifications(f"http://127.0.0.1:{free_port()}", "arn:aws:sns:us-east-1:123456789012:t")
