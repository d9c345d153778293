"""StartClassification: start the classification workflow for each S3 upload the ingest queue holds.

The queue's messages are S3 "Object Created" events, as the ingest rule on the default bus delivered them
(the whole event: *Amazon S3 Event Notifications with EventBridge*,
https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html). Each starts one execution with the
workflow's event, `{"s3_bucket", "s3_key", "image_data": ""}`.

Duplicates are harmless because the execution is named after the object version (`execution_name`): a
second StartExecution of a Standard machine with a name already used either returns the running execution
(same input) or fails with ExecutionAlreadyExists (it has ended), and both mean the object is already being
classified or was ("StartExecution", https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html:
names are unique for 90 days after the execution ends). An Express machine does not deduplicate names.

A record that cannot be started (not an S3 event, a throttle, no permission) is reported in
`batchItemFailures` (the mapping's ReportBatchItemFailures), so only it comes back, and after the queue's
maxReceiveCount it lands on the dead-letter queue, whose alarm notifies; the others are deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lambda_common.errors import ConfigurationError, InvalidEventError, aws_error_code, describe_aws_error
from lambda_common.logs import configured_level, log
from lambda_common.runtime import client

FUNCTION = "start_classification"
# Step Functions execution names: 1-80 characters of letters, digits, "-" and "_" (the API also allows
# other characters, but names outside this set break CloudWatch Logs and metrics).
MAX_NAME = 80
DIGEST_CHARS = 64  # sha256, hex
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def execution_name(bucket: str, key: str, version: str) -> str:
    """The execution's name for one version of an object: the same for every delivery of its event, different
    for every other object or version. A readable head (the key's file name, made safe) and the sha256 of
    bucket, key and version, within the 80-character limit."""
    digest = hashlib.sha256("\n".join((bucket, key, version)).encode()).hexdigest()
    head = _UNSAFE.sub("_", key.rsplit("/", 1)[-1]).strip("_")[: MAX_NAME - DIGEST_CHARS - 1]
    return f"{head}-{digest}" if head else digest


def object_version(event: Any) -> tuple[str, str, str]:
    """(bucket, key, version) of an S3 Object Created event; InvalidEventError for anything else. The version is
    the object's version id, or in a bucket without versioning the event's sequencer (it grows with every
    write of a key and is the same in a redelivery), else its etag."""
    if not isinstance(event, dict) or event.get("source") != "aws.s3" or event.get("detail-type") != "Object Created":
        raise InvalidEventError("the message is not an S3 Object Created event")
    detail = event.get("detail")
    bucket = detail.get("bucket", {}).get("name") if isinstance(detail, dict) else None
    obj = detail.get("object") if isinstance(detail, dict) else None
    key = obj.get("key") if isinstance(obj, dict) else None
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        raise InvalidEventError("the S3 event names no bucket and key (detail.bucket.name, detail.object.key)")
    version = next((str(obj[field]) for field in ("version-id", "sequencer", "etag") if obj.get(field)), None)
    if version is None:
        raise InvalidEventError(f"the S3 event for s3://{bucket}/{key} has no version-id, sequencer or etag")
    return bucket, key, version


def state_machine_arn() -> str:
    arn = os.environ.get("STATE_MACHINE_ARN", "")
    if not arn.startswith("arn:"):
        raise ConfigurationError(f"STATE_MACHINE_ARN={arn!r} is not a state machine ARN")
    return arn


def start(record: Any, machine: str) -> str:
    """Start (or find already started) the execution for one SQS record; its name."""
    if not isinstance(record, dict) or not isinstance(record.get("body"), str):
        raise InvalidEventError("the SQS record has no body")
    try:
        event = json.loads(record["body"])
    except json.JSONDecodeError as exc:
        raise InvalidEventError(f"the message body is not JSON: {exc}") from None
    bucket, key, version = object_version(event)
    name = execution_name(bucket, key, version)
    workflow_event = {"s3_bucket": bucket, "s3_key": key, "image_data": ""}
    try:
        client("stepfunctions").start_execution(stateMachineArn=machine, name=name, input=json.dumps(workflow_event))
    except ClientError as exc:
        if aws_error_code(exc) != "ExecutionAlreadyExists":
            raise
        log("INFO", function=FUNCTION, s3_key=key, execution=name, outcome="already started")
    return name


def start_classification_handler(event: Any, context: Any) -> dict[str, list[dict[str, str]]]:
    configured_level()
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list):
        raise InvalidEventError("the event is not an SQS batch (no Records list)")
    machine = state_machine_arn()
    failures: list[dict[str, str]] = []
    for record in records:
        message_id = str(record.get("messageId") or "") if isinstance(record, dict) else ""
        try:
            name = start(record, machine)
        except (InvalidEventError, ClientError, BotoCoreError) as exc:
            log(
                "ERROR",
                function=FUNCTION,
                message_id=message_id,
                error=type(exc).__name__,
                message=describe_aws_error(exc),
            )
            # An empty identifier fails the whole batch (Lambda cannot tell which message it was).
            failures.append({"itemIdentifier": message_id})
            continue
        log("INFO", function=FUNCTION, message_id=message_id, execution=name, outcome="started")
    return {"batchItemFailures": failures}


handler = start_classification_handler
