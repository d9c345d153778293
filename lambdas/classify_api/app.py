"""ClassifyApi: the API's thin function. API Gateway (AWS_PROXY, proxy event 1.0) → the Express workflow → JSON.

The request body is `{"image": "<base64 PNG/JPEG>"}` or `{"s3_uri": "s3://bucket/key"}` (docs/contracts.md
"Classification API"). Image bytes are checked here with the workflow's own limits (lambda_common.images), then
staged under STAGING_PREFIX in the data bucket, because SerializeImage reads every image from S3: the three
functions run unchanged, and a staged object is deleted once its execution has ended.

The Express state machine runs synchronously (StartSyncExecution), and its ending decides the answer:
- SUCCEEDED: 200, accepted, from the output's body.inferences and verdict;
- FAILED with ThresholdConfidenceNotMetError / OutOfDistributionError: 200, accepted false, reason
  low_confidence / out_of_distribution, the probabilities from the error's cause (lambda_common.errors:
  Lambda's error JSON whose errorMessage is the JSON the filter raised, with its inferences);
- FAILED with a named input error: 4xx; any other failure, a timeout or an abort: 502 with the error's name.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import uuid
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lambda_common import images
from lambda_common.errors import (
    ConfigurationError,
    InvalidEventError,
    InvalidImageError,
    WorkflowError,
    describe_aws_error,
)
from lambda_common.logs import configured_level, log
from lambda_common.runtime import client

FUNCTION = "classify_api"
CLASSES = ("bicycle", "motorcycle")
REJECTIONS = {"ThresholdConfidenceNotMetError": "low_confidence", "OutOfDistributionError": "out_of_distribution"}
# What the caller got wrong, by the workflow's error names; everything else is the service's fault (502).
CLIENT_ERRORS = {
    "InvalidEventError": 400,
    "InvalidImageError": 400,
    "ImageNotFoundError": 404,
}
# botocore sends StartSyncExecution to the host sync-<endpoint> (the operation's hostPrefix), which is AWS's
# sync-states.<region>.amazonaws.com; an endpoint override (AWS_ENDPOINT_URL, which Lambda on AWS never sets,
# the local emulator does) is one fixed host, so the prefix is not injected there (as scones.aws.EndpointSession).
_OVERRIDE = Config(inject_host_prefix=False)
_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")


class EndpointFailureError(WorkflowError):
    """The workflow failed for a reason that is not the caller's input (the endpoint, a timeout, a service)."""


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def _error(status: int, name: str, message: str, request_id: str) -> dict[str, Any]:
    return _answer(status, {"error": name, "message": message, "request_id": request_id})


def parse_request(event: Any) -> dict[str, Any]:
    """The request's JSON object (API Gateway validated its shape already; this is the function's own guard)."""
    if not isinstance(event, dict):
        raise InvalidEventError("the event is not an API Gateway proxy event")
    raw = event.get("body")
    if raw is None:
        raise InvalidEventError('the request has no body: send {"image": <base64>} or {"s3_uri": "s3://bucket/key"}')
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidEventError(f"the request body is not base64-encoded UTF-8: {exc}") from None
    try:
        body = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidEventError(f"the request body is not JSON: {exc}") from None
    if not isinstance(body, dict) or len({"image", "s3_uri"} & body.keys()) != 1:
        raise InvalidEventError('the body must be an object with exactly one of "image" (base64) or "s3_uri"')
    return body


def workflow_input(
    body: dict[str, Any], *, bucket: str, prefix: str, request_id: str
) -> tuple[dict[str, str], str | None]:
    """The workflow's event for the request, and the staged key to delete afterwards (None for an s3_uri)."""
    if "s3_uri" in body:
        uri = body["s3_uri"]
        match = _S3_URI.match(uri) if isinstance(uri, str) else None
        if match is None:
            raise InvalidEventError(f"s3_uri {uri!r} is not s3://bucket/key")
        return {"s3_bucket": match["bucket"], "s3_key": match["key"], "image_data": ""}, None
    image = body["image"]
    if not isinstance(image, str):
        raise InvalidImageError(f"'image' must be a base64 string, got {type(image).__name__}")
    where = f"the request's image ({request_id})"
    data = images.decode(image, where=where)
    content_type = images.content_type_of(data, where=where)
    key = f"{prefix}/{request_id}"
    try:
        client("s3").put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)
    except (ClientError, BotoCoreError) as exc:
        raise EndpointFailureError(f"could not stage the image: {describe_aws_error(exc)}") from None
    return {"s3_bucket": bucket, "s3_key": key, "image_data": ""}, key


def cause_details(cause: str | None) -> dict[str, Any]:
    """The JSON details a workflow error carries (Lambda's error JSON → its errorMessage → the details)."""
    try:
        outer = json.loads(cause or "")
        inner = json.loads(outer["errorMessage"]) if isinstance(outer, dict) and "errorMessage" in outer else outer
    except (json.JSONDecodeError, TypeError):
        return {}
    return inner if isinstance(inner, dict) else {}


def message_of(cause: str | None) -> str:
    details = cause_details(cause)
    if "message" in details:
        return str(details["message"])
    try:
        outer = json.loads(cause or "")
    except json.JSONDecodeError:
        return cause or ""
    return str(outer.get("errorMessage", cause)) if isinstance(outer, dict) else str(cause)


def verdict(inferences: list[float], request_id: str, *, reason: str | None = None) -> dict[str, Any]:
    if len(inferences) != len(CLASSES):
        raise EndpointFailureError(f"the endpoint answered {len(inferences)} probabilities, not {len(CLASSES)}")
    top = max(range(len(CLASSES)), key=lambda index: inferences[index])
    answer: dict[str, Any] = {
        "vehicle": CLASSES[top],
        "confidence": inferences[top],
        "probabilities": dict(zip(CLASSES, inferences, strict=True)),
        "accepted": reason is None,
        "request_id": request_id,
    }
    if reason is not None:
        answer["reason"] = reason
    return answer


def shape(execution: dict[str, Any], request_id: str) -> dict[str, Any]:
    """The API's answer to an ended sync execution."""
    status = execution.get("status")
    if status == "SUCCEEDED":
        output = json.loads(execution.get("output") or "{}")
        return _answer(200, verdict(output["body"]["inferences"], request_id))
    error, cause = execution.get("error") or "", execution.get("cause")
    if error in REJECTIONS:
        inferences = cause_details(cause).get("inferences")
        if isinstance(inferences, list):
            return _answer(200, verdict(inferences, request_id, reason=REJECTIONS[error]))
    if error in CLIENT_ERRORS:
        return _error(CLIENT_ERRORS[error], error, message_of(cause), request_id)
    name = error or EndpointFailureError.__name__
    return _error(502, name, message_of(cause) or f"the classification ended {status}", request_id)


def classify_api_handler(event: Any, context: Any) -> dict[str, Any]:
    configured_level()
    request_id = str((event.get("requestContext") or {}).get("requestId") or "") if isinstance(event, dict) else ""
    request_id = request_id or getattr(context, "aws_request_id", None) or str(uuid.uuid4())
    staged: str | None = None
    bucket = os.environ.get("STAGING_BUCKET", "")
    try:
        state_machine = os.environ.get("STATE_MACHINE_ARN")
        if not state_machine or not bucket:
            raise ConfigurationError("STATE_MACHINE_ARN and STAGING_BUCKET must be set")
        body = parse_request(event)
        record, staged = workflow_input(
            body, bucket=bucket, prefix=os.environ.get("STAGING_PREFIX", "api"), request_id=request_id
        )
        try:
            states = client("stepfunctions", _OVERRIDE if os.environ.get("AWS_ENDPOINT_URL") else None)
            execution = states.start_sync_execution(
                stateMachineArn=state_machine, name=request_id, input=json.dumps(record)
            )
        except (ClientError, BotoCoreError) as exc:
            raise EndpointFailureError(f"could not run the classification: {describe_aws_error(exc)}") from None
        answer = shape(execution, request_id)
    except (InvalidEventError, InvalidImageError) as exc:
        answer = _error(400, type(exc).__name__, exc.message, request_id)
    except WorkflowError as exc:
        answer = _error(502, type(exc).__name__, exc.message, request_id)
    finally:
        if staged is not None:
            try:
                client("s3").delete_object(Bucket=bucket, Key=staged)
            except (ClientError, BotoCoreError) as exc:
                log("WARNING", function=FUNCTION, s3_key=staged, message=f"staged image not deleted: {exc}")
    log("INFO", function=FUNCTION, request_id=request_id, status=answer["statusCode"])
    return answer


handler = classify_api_handler
