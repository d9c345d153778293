"""An SQS event source mapping delivers batches to its function the way Lambda's poller does: the
queue's own record attributes, delete on success, redelivery and the queue's redrive policy after a
failure, ReportBatchItemFailures. moto 5.2.5 ran the function inside SendMessage, one message at a
time, with made-up attributes, and never delivered a failed message again."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scones.local.server import LocalAWS
from tests.support.local_fixtures import client, create_function

# Each record it gets goes to S3 as records/<message id>.json; a body of "fail" fails the batch,
# with partial responses a body of "bad" is reported as the one failed item, and a body of "slow" is
# recorded only after three seconds.
RECORDER = """
import json, time, boto3

def handler(event, context):
    s3 = boto3.client("s3")
    if any(record["body"] == "slow" for record in event["Records"]):
        time.sleep(3)
    for record in event["Records"]:
        key = "records/%s-%s.json" % (record["messageId"], record["attributes"]["ApproximateReceiveCount"])
        s3.put_object(Bucket="sqs-lambda", Key=key, Body=json.dumps({"batch": len(event["Records"]), **record}))
    if any(record["body"] == "fail" for record in event["Records"]):
        raise RuntimeError("this batch fails")
    return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"]}
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        client("s3", emulator.url).create_bucket(Bucket="sqs-lambda")
        create_function(emulator.url, FUNCTION, RECORDER)  # one function (one cold start) for every queue
        yield emulator


FUNCTION = "recorder"


def _recorded(url: str, queue_arn: str) -> list[dict[str, Any]]:
    """The records the function got from this queue."""
    s3 = client("s3", url)
    listed = s3.list_objects_v2(Bucket="sqs-lambda", Prefix="records/").get("Contents", [])
    records = [json.loads(s3.get_object(Bucket="sqs-lambda", Key=item["Key"])["Body"].read()) for item in listed]
    return [record for record in records if record["eventSourceARN"] == queue_arn]


def _until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return result


def _queue(url: str, name: str, **attributes: str) -> tuple[str, str]:
    sqs = client("sqs", url)
    queue_url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return queue_url, arn


def _mapping(url: str, queue_arn: str, **options: Any) -> str:
    lam = client("lambda", url)
    return str(lam.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=FUNCTION, **options)["UUID"])


def _depth(url: str, queue_url: str) -> int:
    attributes = client("sqs", url).get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_messages_arrive_in_batches_with_the_queues_attributes_and_are_deleted(aws: LocalAWS) -> None:
    queue_url, queue_arn = _queue(aws.url, "batched")
    sqs = client("sqs", aws.url)
    # Sent before the mapping exists, so that they are polled as one batch.
    sent = [sqs.send_message(QueueUrl=queue_url, MessageBody=f"m{i}")["MessageId"] for i in range(3)]
    sqs.send_message(
        QueueUrl=queue_url,
        MessageBody="with attributes",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "photo"}},
    )
    _mapping(aws.url, queue_arn, BatchSize=10)
    records = _until(lambda: len(found := _recorded(aws.url, queue_arn)) == 4 and found)
    assert {record["batch"] for record in records} == {4}
    by_id = {record["messageId"]: record for record in records}
    assert set(sent) <= set(by_id)
    first = by_id[sent[0]]
    assert (first["body"], first["eventSource"], first["eventSourceARN"]) == ("m0", "aws:sqs", queue_arn)
    assert first["attributes"]["ApproximateReceiveCount"] == "1"
    assert int(first["attributes"]["SentTimestamp"]) <= int(first["attributes"]["ApproximateFirstReceiveTimestamp"])
    (attributed,) = [record for record in records if record["body"] == "with attributes"]
    assert attributed["messageAttributes"]["kind"]["stringValue"] == "photo"
    _until(lambda: _depth(aws.url, queue_url) == 0)


def test_sending_does_not_wait_for_the_function(aws: LocalAWS) -> None:
    queue_url, queue_arn = _queue(aws.url, "async")
    _mapping(aws.url, queue_arn)
    client("sqs", aws.url).send_message(QueueUrl=queue_url, MessageBody="slow")
    # moto ran the function inside SendMessage: its record would already be there. The function takes three
    # seconds before it records, so only a SendMessage that waited for it would find the record now.
    assert _recorded(aws.url, queue_arn) == []
    _until(lambda: _recorded(aws.url, queue_arn))


def test_a_failed_batch_is_received_again_then_redriven_to_the_dead_letter_queue(aws: LocalAWS) -> None:
    dlq_url, dlq_arn = _queue(aws.url, "failing-dlq")
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    queue_url, queue_arn = _queue(aws.url, "failing", VisibilityTimeout="1", RedrivePolicy=redrive)
    _mapping(aws.url, queue_arn)
    client("sqs", aws.url).send_message(QueueUrl=queue_url, MessageBody="fail")
    dead = _until(lambda: client("sqs", aws.url).receive_message(QueueUrl=dlq_url).get("Messages"))
    assert dead[0]["Body"] == "fail"
    counts = sorted(record["attributes"]["ApproximateReceiveCount"] for record in _recorded(aws.url, queue_arn))
    assert counts == ["1", "2"]


def test_reported_item_failures_stay_in_the_queue_and_the_rest_are_deleted(aws: LocalAWS) -> None:
    # A visibility timeout longer than the module's run: the failed item is not seen again here.
    queue_url, queue_arn = _queue(aws.url, "partial", VisibilityTimeout="600")
    sqs = client("sqs", aws.url)
    sqs.send_message(QueueUrl=queue_url, MessageBody="good")
    sqs.send_message(QueueUrl=queue_url, MessageBody="bad")
    _mapping(aws.url, queue_arn, FunctionResponseTypes=["ReportBatchItemFailures"])
    _until(lambda: len(_recorded(aws.url, queue_arn)) == 2)
    time.sleep(0.5)  # the poller deletes once the function has answered
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (
        "0",
        "1",
    )


def test_a_deleted_mapping_delivers_nothing(aws: LocalAWS) -> None:
    queue_url, queue_arn = _queue(aws.url, "unmapped")
    uuid = _mapping(aws.url, queue_arn)
    client("lambda", aws.url).delete_event_source_mapping(UUID=uuid)
    client("sqs", aws.url).send_message(QueueUrl=queue_url, MessageBody="m")
    time.sleep(1)
    assert _recorded(aws.url, queue_arn) == [] and _depth(aws.url, queue_url) == 1
