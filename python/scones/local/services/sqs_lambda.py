"""SQS → Lambda event source mappings, polled the way Lambda polls them.

moto runs a queue's mapping inside `SendMessage`: the sender waits for the function, each message
is its own invocation, the records carry made-up attributes (`ApproximateReceiveCount` always
"1"), a message the function failed on becomes visible again but is never delivered again (so a
queue's redrive policy never moves it to its dead-letter queue), a throttled function fails the
`SendMessage` itself, and a deleted mapping keeps firing. Here (`SqsPoller`, started and stopped
with the emulator) a poller thread receives from each enabled mapping's queue, as Lambda does
("Using Lambda with Amazon SQS", https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html):

- up to `BatchSize` messages per invocation, received with the queue's visibility timeout, so
  the records' `ApproximateReceiveCount`, `SentTimestamp`, `ApproximateFirstReceiveTimestamp`,
  `messageAttributes` and `md5OfBody` are the queue's;
- a batch the function handled is deleted; with `FunctionResponseTypes: ["ReportBatchItemFailures"]`
  only the messages not listed in its `batchItemFailures` are; after a function error (or a
  throttle) the batch stays, comes back when its visibility timeout ends, and once it has been
  received `maxReceiveCount` times the queue's redrive policy moves it to the dead-letter queue
  (moto's ReceiveMessage does that);
- one batch at a time per mapping (Lambda runs several; the emulator's sandboxes are few).

Lambda polls as the function's execution role, and `CreateEventSourceMapping` refuses a role that may not
(`InvalidParameterValueException`: "The provided execution role does not have permissions to call
ReceiveMessage on SQS"): with IAM enforced the emulator checks the three actions "Execution role permissions"
lists (`sqs:ReceiveMessage`, `sqs:DeleteMessage`, `sqs:GetQueueAttributes` on the queue,
https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html) when a mapping is created. The AWS
provider retries that refusal for up to two minutes while IAM propagates (`event_source_mapping.go`), so a
stack whose mapping does not wait for its role's policy applies slowly rather than failing. The polling itself
is not checked as the role (docs/emulator.md).
"""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import EventSourceMapping, LambdaBackend, lambda_backends
from moto.sqs.models import sqs_backends
from moto.utilities.arns import parse_arn

from scones.local.iam.authorizer import AccessDeniedError
from scones.local.runtime import active

LOG = logging.getLogger(__name__)

POLL_INTERVAL_SECONDS = 0.05
DEFAULT_BATCH_SIZE = 10


def _is_sqs(esm: EventSourceMapping) -> bool:
    return parse_arn(esm.event_source_arn).service == "sqs"


_original_create = LambdaBackend.create_event_source_mapping
# What Lambda's poller does as the function's role, each with the API call its refusal names.
POLLING_ACTIONS = {
    "sqs:ReceiveMessage": "ReceiveMessage",
    "sqs:DeleteMessage": "DeleteMessage",
    "sqs:GetQueueAttributes": "GetQueueAttributes",
}
POLLER_SESSION_NAME = "awslambda_poller"


def _check_role_may_poll(backend: LambdaBackend, function_name: str, queue_arn: str) -> None:
    if active.authorizer() is None:
        return
    role = str(backend.get_function(function_name).role)
    for action, call in POLLING_ACTIONS.items():
        try:
            active.check_as_role(role, POLLER_SESSION_NAME, action, queue_arn)
        except AccessDeniedError:
            raise InvalidParameterValueException(
                f"The provided execution role does not have permissions to call {call} on SQS"
            ) from None


def _create_event_source_mapping(self: LambdaBackend, spec: dict[str, Any]) -> EventSourceMapping:
    source = str(spec.get("EventSourceArn") or "")
    if source.startswith("arn:") and parse_arn(source).service == "sqs" and spec.get("FunctionName"):
        _check_role_may_poll(self, str(spec["FunctionName"]), source)
    esm = _original_create(self, spec)
    if _is_sqs(esm):
        # The poller delivers; moto's queue would also run it inside every SendMessage.
        arn = parse_arn(esm.event_source_arn)
        queue = sqs_backends[arn.account][arn.region].get_queue(arn.resource_id)
        queue.lambda_event_source_mappings.pop(esm.function_arn, None)
    return esm


def _attribute(value: dict[str, Any]) -> dict[str, Any]:
    data_type = value.get("data_type") or value.get("DataType") or "String"
    record: dict[str, Any] = {"dataType": data_type, "stringListValues": [], "binaryListValues": []}
    string = value.get("string_value") or value.get("StringValue")
    binary = value.get("binary_value") or value.get("BinaryValue")
    if string is not None:
        record["stringValue"] = string
    if binary is not None:
        record["binaryValue"] = binary
    return record


def _record(message: Any, queue_arn: str, region: str) -> dict[str, Any]:
    attributes = {
        "ApproximateReceiveCount": str(message.approximate_receive_count),
        "SentTimestamp": str(message.sent_timestamp),
        "SenderId": str(message.sender_id),
        "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
    }
    if message.group_id:
        attributes["MessageGroupId"] = message.group_id
        attributes["MessageDeduplicationId"] = str(message.deduplication_id)
        attributes["SequenceNumber"] = str(message.sequence_number)
    return {
        "messageId": message.id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": attributes,
        "messageAttributes": {name: _attribute(value) for name, value in message.message_attributes.items()},
        "md5OfBody": message.body_md5,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class SqsPoller:
    """Delivers the messages of every enabled SQS event source mapping to its function."""

    def __init__(self, interval: float = POLL_INTERVAL_SECONDS) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._workers = ThreadPoolExecutor(max_workers=8, thread_name_prefix="scones-sqs-poller")
        self._thread = threading.Thread(target=self._run, name="scones-sqs-poller", daemon=True)

    def start(self) -> SqsPoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._workers.shutdown(wait=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            for esm in _sqs_mappings():
                try:
                    self._poll(esm)
                except Exception:  # a queue or function deleted under the poller: try again later
                    LOG.debug("could not poll %s for %s", esm.event_source_arn, esm.function_arn, exc_info=True)

    def _poll(self, esm: EventSourceMapping) -> None:
        with self._lock:
            if esm.uuid in self._busy:
                return
        arn = parse_arn(esm.event_source_arn)
        sqs = sqs_backends[arn.account][arn.region]
        queue = sqs.get_queue(arn.resource_id)
        messages = sqs.receive_message(
            arn.resource_id,
            int(esm.batch_size or DEFAULT_BATCH_SIZE),
            0,
            int(queue.visibility_timeout),
            message_attribute_names=["All"],
        )
        if not messages:
            return
        with self._lock:
            self._busy.add(esm.uuid)
        self._workers.submit(self._deliver, esm, arn, messages)

    def _deliver(self, esm: EventSourceMapping, arn: Any, messages: list[Any]) -> None:
        try:
            handled = _invoke(esm, arn, messages)
            sqs = sqs_backends[arn.account][arn.region]
            for message in handled:
                sqs.delete_message(arn.resource_id, message.receipt_handle)
        except Exception:
            LOG.exception("SQS event source mapping %s could not deliver to %s", esm.uuid, esm.function_arn)
        finally:
            with self._lock:
                self._busy.discard(esm.uuid)


def _sqs_mappings() -> list[EventSourceMapping]:
    found: list[EventSourceMapping] = []
    for regions in list(lambda_backends.values()):
        for backend in list(regions.values()):
            found += [esm for esm in list(backend._event_source_mappings.values()) if esm.enabled and _is_sqs(esm)]
    return found


def _invoke(esm: EventSourceMapping, arn: Any, messages: list[Any]) -> list[Any]:
    """The messages the function handled (none after a function error or a throttle)."""
    function_arn = parse_arn(esm.function_arn)
    function = lambda_backends[function_arn.account][function_arn.region].get_function(esm.function_arn)
    event = {"Records": [_record(message, esm.event_source_arn, arn.region) for message in messages]}
    response_headers: dict[str, Any] = {}
    try:
        payload = function.invoke(json.dumps(event), {}, response_headers)
    except Exception as exc:  # throttled: the batch comes back after its visibility timeout
        LOG.info("SQS event source mapping %s: %s; the batch will be retried", esm.uuid, exc)
        return []
    if "x-amz-function-error" in response_headers:
        return []
    if "ReportBatchItemFailures" not in (esm.function_response_types or []):
        return messages
    try:
        failures = json.loads(payload or b"null") or {}
        failed = {str(item["itemIdentifier"]) for item in failures.get("batchItemFailures") or []}
    except (ValueError, TypeError, KeyError, AttributeError):
        return []  # a response Lambda cannot read fails the whole batch
    return [message for message in messages if message.id not in failed]


def install() -> None:
    LambdaBackend.create_event_source_mapping = _create_event_source_mapping  # type: ignore[method-assign]
