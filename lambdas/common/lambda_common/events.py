"""Reading workflow events tolerantly and writing them in the seeds' shape.

Accepted inputs: a bare record, `{"body": {...}}`, `{"body": "<json>"}`, and a `lambda:invoke`
task result `{"Payload": {...}}` (whose Payload may itself be any of the above).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from lambda_common.errors import InvalidEventError, InvalidInferencesError

_MAX_UNWRAP = 4  # Payload -> body -> ... nesting deeper than this is not a workflow event.


@dataclass
class ImageRecord:
    s3_bucket: str
    s3_key: str
    image_data: str = ""
    inferences: list[float] = field(default_factory=list)

    def response(self) -> dict[str, Any]:
        return {
            "statusCode": 200,
            "body": {
                "image_data": self.image_data,
                "s3_bucket": self.s3_bucket,
                "s3_key": self.s3_key,
                "inferences": list(self.inferences),
            },
        }


def _unwrap(event: Any) -> dict[str, Any]:
    current = event
    for _ in range(_MAX_UNWRAP):
        if isinstance(current, str):
            try:
                current = json.loads(current)
            except json.JSONDecodeError as exc:
                raise InvalidEventError(f"event body is a string but not JSON: {exc}") from None
            continue
        if not isinstance(current, dict):
            raise InvalidEventError(f"event must be a JSON object, got {type(current).__name__}")
        if "s3_key" in current or "s3_bucket" in current:
            return current
        if "Payload" in current:
            current = current["Payload"]
        elif "body" in current:
            current = current["body"]
        else:
            break
    keys = sorted(current) if isinstance(current, dict) else type(current).__name__
    raise InvalidEventError(f"event has no s3_bucket/s3_key (top-level keys: {keys})")


def _require_str(body: dict[str, Any], key: str, *, allow_empty: bool = False) -> str:
    if key not in body:
        raise InvalidEventError(f"event is missing {key!r}")
    value = body[key]
    if not isinstance(value, str):
        raise InvalidEventError(f"{key!r} must be a string, got {type(value).__name__}")
    if not value and not allow_empty:
        raise InvalidEventError(f"{key!r} must not be empty")
    return value


def validate_inferences(value: Any, *, where: str) -> list[float]:
    """Return the probabilities as floats, or raise InvalidInferencesError saying what is wrong."""
    # Some serving stacks wrap a single prediction in a batch of one.
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if not isinstance(value, list):
        raise InvalidInferencesError(f"inferences for {where} must be a list, got {type(value).__name__}")
    if not value:
        raise InvalidInferencesError(f"inferences for {where} are empty")
    probabilities: list[float] = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise InvalidInferencesError(f"inference {index} for {where} is not a number: {item!r}")
        number = float(item)
        if not math.isfinite(number):
            raise InvalidInferencesError(f"inference {index} for {where} is {number}")
        if not 0.0 <= number <= 1.0:
            raise InvalidInferencesError(f"inference {index} for {where} is {number}, outside [0, 1]")
        probabilities.append(number)
    return probabilities


def parse_record(event: Any) -> ImageRecord:
    body = _unwrap(event)
    bucket = _require_str(body, "s3_bucket")
    key = _require_str(body, "s3_key")
    image_data = body.get("image_data") or ""
    if not isinstance(image_data, str):
        raise InvalidEventError(
            f"'image_data' for s3://{bucket}/{key} must be a base64 string, got {type(image_data).__name__}"
        )
    raw_inferences = body.get("inferences")
    inferences = (
        [] if raw_inferences in (None, []) else validate_inferences(raw_inferences, where=f"s3://{bucket}/{key}")
    )
    return ImageRecord(s3_bucket=bucket, s3_key=key, image_data=image_data, inferences=inferences)
