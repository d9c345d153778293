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


# The fields of a workflow record: a dict holding any of them is the record, anything else a wrapper.
_RECORD_FIELDS = ("s3_bucket", "s3_key", "image_data", "inferences", "ood")


@dataclass(frozen=True)
class OodVerdict:
    """The record's `ood`: the endpoint's out-of-distribution score (higher = more like the training
    images), whether it flagged the image, and whether it checked at all (an endpoint without the guard,
    such as the built-in image-classification algorithm, gives no score: `checked` false)."""

    score: float | None
    flagged: bool
    checked: bool

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "flagged": self.flagged, "checked": self.checked}


NOT_CHECKED = OodVerdict(score=None, flagged=False, checked=False)


@dataclass
class ImageRecord:
    # None only where the function does not need them: the filter judges inferences and merely logs where
    # the image came from.
    s3_bucket: str | None
    s3_key: str | None
    image_data: str = ""
    inferences: list[float] = field(default_factory=list)
    # None until ClassifyImage has run (or in a record written before the guard existed).
    ood: OodVerdict | None = None

    @property
    def location(self) -> str:
        """Where the image came from, for messages: its S3 URI, or what of it the event carried."""
        if self.s3_bucket and self.s3_key:
            return f"s3://{self.s3_bucket}/{self.s3_key}"
        return f"key {self.s3_key!r}" if self.s3_key else "an image with no S3 location"

    def response(self) -> dict[str, Any]:
        return {
            "statusCode": 200,
            "body": {
                "image_data": self.image_data,
                "s3_bucket": self.s3_bucket,
                "s3_key": self.s3_key,
                "inferences": list(self.inferences),
                "ood": None if self.ood is None else self.ood.as_dict(),
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
        if any(name in current for name in _RECORD_FIELDS):
            return current
        if "Payload" in current:
            current = current["Payload"]
        elif "body" in current:
            current = current["body"]
        else:
            break
    keys = sorted(current) if isinstance(current, dict) else type(current).__name__
    raise InvalidEventError(f"event has no {'/'.join(_RECORD_FIELDS)} (top-level keys: {keys})")


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


def optional_score(value: Any, *, what: str, where: str) -> float | None:
    """A finite number or None (JSON null), else InvalidInferencesError naming `what`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise InvalidInferencesError(f"{what} for {where} must be a finite number or null, got {value!r}")
    return float(value)


def validate_ood(value: Any, *, where: str) -> OodVerdict:
    """The record's `ood` object, or InvalidInferencesError saying what is wrong with it."""
    if not isinstance(value, dict):
        raise InvalidInferencesError(f"'ood' for {where} must be an object, got {type(value).__name__}")
    missing = [name for name in ("score", "flagged", "checked") if name not in value]
    if missing:
        raise InvalidInferencesError(f"'ood' for {where} is missing {', '.join(missing)}")
    score = optional_score(value["score"], what="ood.score", where=where)
    flags = {name: value[name] for name in ("flagged", "checked")}
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            raise InvalidInferencesError(f"ood.{name} for {where} must be true or false, got {flag!r}")
    if flags["flagged"] and not flags["checked"]:
        raise InvalidInferencesError(f"'ood' for {where} is flagged but not checked")
    return OodVerdict(score=score, flagged=flags["flagged"], checked=flags["checked"])


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    return None if body.get(key) is None else _require_str(body, key)


def parse_record(event: Any, *, location_required: bool = True) -> ImageRecord:
    """The record of a workflow event; without location_required, s3_bucket and s3_key may be absent."""
    body = _unwrap(event)
    read = _require_str if location_required else _optional_str
    record = ImageRecord(s3_bucket=read(body, "s3_bucket"), s3_key=read(body, "s3_key"))
    image_data = body.get("image_data") or ""
    if not isinstance(image_data, str):
        raise InvalidEventError(
            f"'image_data' for {record.location} must be a base64 string, got {type(image_data).__name__}"
        )
    record.image_data = image_data
    raw_inferences = body.get("inferences")
    if raw_inferences not in (None, []):
        record.inferences = validate_inferences(raw_inferences, where=record.location)
    if body.get("ood") is not None:
        record.ood = validate_ood(body["ood"], where=record.location)
    return record
