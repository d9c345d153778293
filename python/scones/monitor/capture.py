"""Decode one line of SageMaker data capture into a prediction.

A record looks like (one JSON object per line)::

    {"captureData": {"endpointInput": {"observedContentType": "image/png", "mode": "INPUT",
                                       "data": "<base64>", "encoding": "BASE64"},
                     "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                                        "data": "[0.1, 0.9]", "encoding": "JSON"}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceId": "data/test/bicycle/x.png",
                       "inferenceTime": "2026-11-22T10:11:12Z"},
     "eventVersion": "0"}

SageMaker picks `encoding` from the content type: JSON for JSON, CSV for CSV (the data is then
the text itself) and BASE64 for anything else, so a JSON response can also arrive base64-encoded.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from scones import CLASS_NAMES
from scones.data.layout import class_from_key
from scones.monitor.errors import CorruptCaptureRecordError

# Probabilities a hair outside [0, 1] come from float rounding in softmax, not from a broken model.
_PROBABILITY_TOLERANCE = 1e-6


@dataclass(frozen=True)
class CapturedPrediction:
    """One usable captured inference."""

    location: str
    inference_time: datetime
    probabilities: tuple[float, ...]
    inference_id: str | None
    input_content_type: str | None
    input_bytes: bytes | None
    """The request body when it was captured and base64-encoded (images are)."""

    @property
    def predicted_class(self) -> int:
        return max(range(len(self.probabilities)), key=self.probabilities.__getitem__)

    @property
    def confidence(self) -> float:
        return max(self.probabilities)

    @property
    def true_class(self) -> int | None:
        return class_from_inference_id(self.inference_id)


def class_from_inference_id(inference_id: str | None) -> int | None:
    """The class named by the parent folder of the S3 key carried in the inference ID.

    classify_image sends the last 64 characters of the key, so a long key may have lost its
    front; a cut-off folder name then simply does not match a class name.
    """
    return class_from_key(inference_id) if inference_id else None


def decode_capture_line(line: bytes | str, location: str) -> CapturedPrediction:
    """Decode one JSONL line; raises CorruptCaptureRecordError with a readable reason."""
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptCaptureRecordError(f"not valid JSON ({exc})") from exc
    if not isinstance(record, dict):
        raise CorruptCaptureRecordError("not a JSON object")
    capture = _require_dict(record, "captureData", "record")
    metadata = _require_dict(record, "eventMetadata", "record")
    output = _require_dict(capture, "endpointOutput", "captureData")
    probabilities = _parse_probabilities(output)
    raw_input = capture.get("endpointInput")
    input_content_type: str | None = None
    input_bytes: bytes | None = None
    if isinstance(raw_input, dict):
        input_content_type = _optional_str(raw_input.get("observedContentType"))
        decoded = _decode_payload(raw_input, "endpointInput")
        input_bytes = decoded if isinstance(decoded, bytes) else None
    inference_id = metadata.get("inferenceId")
    return CapturedPrediction(
        location=location,
        inference_time=_parse_time(metadata.get("inferenceTime")),
        probabilities=probabilities,
        inference_id=inference_id if isinstance(inference_id, str) and inference_id else None,
        input_content_type=input_content_type,
        input_bytes=input_bytes,
    )


def _require_dict(parent: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = parent.get(key)
    if not isinstance(value, dict):
        raise CorruptCaptureRecordError(f"{where} has no {key!r} object")
    return value


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _decode_payload(payload: dict[str, Any], name: str) -> bytes | str | list[Any]:
    """BASE64 data becomes bytes; JSON and CSV data is the text itself."""
    encoding = str(payload.get("encoding", "")).upper()
    data = payload.get("data")
    if encoding == "BASE64":
        if not isinstance(data, str):
            raise CorruptCaptureRecordError(f"{name}.data is not a base64 string")
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CorruptCaptureRecordError(f"{name}.data is not valid base64 ({exc})") from exc
    if encoding in ("JSON", "CSV"):
        # Tolerate a JSON value stored as-is instead of as text.
        if isinstance(data, str | list):
            return data
        raise CorruptCaptureRecordError(f"{name}.data is missing or not text")
    raise CorruptCaptureRecordError(f"{name}.encoding {payload.get('encoding')!r} is not BASE64, JSON or CSV")


def _parse_probabilities(output: dict[str, Any]) -> tuple[float, ...]:
    decoded = _decode_payload(output, "endpointOutput")
    encoding = str(output.get("encoding", "")).upper()
    content_type = str(output.get("observedContentType", "")).lower()
    # Base64 hides the format; the observed content type tells it.
    is_csv = encoding == "CSV" or (encoding == "BASE64" and "csv" in content_type)
    if isinstance(decoded, bytes):
        try:
            decoded = decoded.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorruptCaptureRecordError("endpointOutput is not UTF-8 text") from exc
    values = _values_from_csv(decoded) if is_csv and isinstance(decoded, str) else _values_from_json(decoded)
    return _validate_probabilities(values)


def _values_from_json(decoded: str | list[Any]) -> list[Any]:
    if isinstance(decoded, str):
        try:
            decoded = json.loads(decoded)
        except json.JSONDecodeError as exc:
            raise CorruptCaptureRecordError(f"endpointOutput is not valid JSON ({exc})") from exc
    if not isinstance(decoded, list):
        raise CorruptCaptureRecordError("endpointOutput is not a JSON list of probabilities")
    return decoded


def _values_from_csv(text: str) -> list[Any]:
    rows = [row for row in csv.reader(io.StringIO(text)) if row]
    if len(rows) != 1:
        raise CorruptCaptureRecordError(f"endpointOutput CSV has {len(rows)} rows, expected 1")
    try:
        return [float(cell) for cell in rows[0]]
    except ValueError as exc:
        raise CorruptCaptureRecordError(f"endpointOutput CSV is not numeric ({exc})") from exc


def _validate_probabilities(values: list[Any]) -> tuple[float, ...]:
    if len(values) != len(CLASS_NAMES):
        raise CorruptCaptureRecordError(
            f"endpointOutput has {len(values)} values, expected {len(CLASS_NAMES)} ({', '.join(CLASS_NAMES)})"
        )
    probabilities: list[float] = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise CorruptCaptureRecordError(f"endpointOutput value {value!r} is not a finite number")
        if not -_PROBABILITY_TOLERANCE <= value <= 1 + _PROBABILITY_TOLERANCE:
            raise CorruptCaptureRecordError(f"endpointOutput value {value!r} is not a probability in [0, 1]")
        probabilities.append(min(max(float(value), 0.0), 1.0))
    return tuple(probabilities)


def _parse_time(value: object) -> datetime:
    if not isinstance(value, str):
        raise CorruptCaptureRecordError("eventMetadata has no inferenceTime")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CorruptCaptureRecordError(f"inferenceTime {value!r} is not an ISO 8601 time") from exc
    # SageMaker writes UTC with a Z; a time without zone is read as UTC too.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
