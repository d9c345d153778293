"""S3 → EventBridge: the events S3 sends when a bucket's notifications go to EventBridge.

A bucket whose notification configuration has `EventBridgeConfiguration` sends its events to the
default event bus of its account and Region ("Amazon S3 Event Notifications with EventBridge",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html), shaped as the
"EventBridge event message structure" page gives them
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html):

- `id` a new UUID for every event (moto sent one constant id, so every upload looked like a
  duplicate of the first), `time` the ISO time, `resources` the bucket ARN;
- `detail`: `version` "0", `bucket.name`, `object.key`, `object.size`, `object.etag` (moto wrote
  `eTag`), `object.version-id` (only for a versioned bucket), `object.sequencer` (a hexadecimal
  string that grows with each event, moto's was constant), `request-id`, `requester` (the
  account), `source-ip-address`, `reason` (PutObject, POST Object, CopyObject,
  CompleteMultipartUpload, DeleteObject); "Object Tags Added" only when the object has tags
  (moto sent it for every upload); an "Object Deleted" event has `deletion-type`
  ("Permanently Deleted" or "Delete Marker Created") and no size or etag.

moto delivered these to the rules of every bus of the Region and skipped a rule's other
targets when one failed; they now go to the default bus only, through `eventbridge.route`.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import string
import threading
import uuid
from typing import Any

from moto.s3 import notifications
from moto.s3.responses import S3Response
from moto.utilities.utils import get_partition

from scones.local.services import eventbridge

LOG = logging.getLogger(__name__)

REQUESTER_IP = "127.0.0.1"
_REASONS = {
    "Put": "PutObject",
    "Post": "POST Object",
    "Copy": "CopyObject",
    "CompleteMultipartUpload": "CompleteMultipartUpload",
    "Delete": "DeleteObject",
    "DeleteMarkerCreated": "DeleteObject",
}
_TAGGING_REASONS = {"Put": "PutObjectTagging", "Delete": "DeleteObjectTagging"}
_sequence = itertools.count(1)
_sequence_lock = threading.Lock()


def _sequencer() -> str:
    with _sequence_lock:
        return f"{next(_sequence):016X}"


def _request_id() -> str:
    return "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def s3_event(account_id: str, bucket: Any, event_name: str, key: Any) -> dict[str, Any]:
    """The EventBridge event S3 sends for `event_name` (e.g. s3:ObjectCreated:Put) on `key`."""
    kind, _, action = event_name.removeprefix("s3:").partition(":")
    detail_type = notifications._detail_type(event_name)
    versioned = getattr(bucket, "is_versioned", False)
    obj: dict[str, Any] = {"key": key.name}
    if kind not in ("ObjectRemoved", "ObjectTagging"):
        obj["size"] = key.size
    if kind != "ObjectRemoved":
        obj["etag"] = key.etag.replace('"', "")
    if versioned and getattr(key, "version_id", None) not in (None, "null"):
        obj["version-id"] = key.version_id
    obj["sequencer"] = _sequencer()
    detail: dict[str, Any] = {
        "version": "0",
        "bucket": {"name": bucket.name},
        "object": obj,
        "request-id": _request_id(),
        "requester": account_id,
        "source-ip-address": REQUESTER_IP,
        "reason": (_TAGGING_REASONS if kind == "ObjectTagging" else _REASONS).get(action, action),
    }
    if kind == "ObjectRemoved":
        detail["deletion-type"] = "Delete Marker Created" if action == "DeleteMarkerCreated" else "Permanently Deleted"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.s3",
        "account": account_id,
        "time": eventbridge.iso_time(None),
        "region": bucket.region_name,
        "resources": [bucket.arn],
        "detail": detail,
    }


def _untagged_tagging_event(account_id: str, event_name: str, key: Any) -> bool:
    """moto tags every uploaded object, with no tags when the upload has none, and sends
    "Object Tags Added" for it; S3 sends that event only when tags are set."""
    if event_name != notifications.S3NotificationEvent.OBJECT_TAGGING_PUT_EVENT:
        return False
    from moto.s3.models import s3_backends

    backend = s3_backends[account_id][get_partition(key.region_name)]
    return not backend.tagger.list_tags_for_resource(key.arn).get("Tags")


def _send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
    # S3 delivers asynchronously: nothing that goes wrong here may fail the S3 request.
    try:
        if _untagged_tagging_event(account_id, event_name, key):
            return
        event = s3_event(account_id, bucket, event_name, key)
        eventbridge.put_event(account_id, bucket.region_name, "default", event)
    except Exception:
        LOG.exception("S3 could not send %s for s3://%s/%s to EventBridge", event_name, bucket.name, key.name)


_original_get_bucket_notification = S3Response.get_bucket_notification


def _get_bucket_notification(self: S3Response) -> Any:
    """moto's answer, with the `EventBridgeConfiguration` it dropped: without it the Terraform
    provider reads `eventbridge = false` back and plans the notification again on every apply."""
    answer = _original_get_bucket_notification(self)
    configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
    if configuration is None or configuration.event_bridge is None:
        return answer
    status, headers, body = answer
    text = body.decode() if isinstance(body, bytes) else str(body)
    closing = "</NotificationConfiguration>"
    if closing in text:
        text = text.replace(closing, "<EventBridgeConfiguration></EventBridgeConfiguration>" + closing)
    else:  # moto's empty answer: <NotificationConfiguration/>, or nothing
        text = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            "<EventBridgeConfiguration></EventBridgeConfiguration></NotificationConfiguration>"
        )
    headers = {**headers, "content-length": str(len(text.encode()))}
    return status, headers, text


def install() -> None:
    notifications._send_event_bridge_message = _send_event_bridge_message  # type: ignore[assignment]
    S3Response.get_bucket_notification = _get_bucket_notification  # type: ignore[method-assign]
