"""Decode one line of SageMaker data capture into a prediction.

A record looks like (one JSON object per line)::

    {"captureData": {"endpointInput": {"observedContentType": "image/png", "mode": "INPUT",
                                       "data": "<base64>", "encoding": "BASE64"},
                     "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT",
                                        "data": "[0.1, 0.9]", "encoding": "JSON"}},
     "eventMetadata": {"eventId": "<uuid>", "inferenceId": "data/test/bicycle/x.png",
                       "inferenceTime": "2026-11-22T10:11:12Z"},
     "eventVersion": "0"}

SageMaker picks `encoding` from the content type: JSON for the endpoint config's JSON content types,
CSV for its CSV ones (the data is then the text itself) and BASE64 for anything else, so a JSON response
can also arrive base64-encoded. ClassifyImage's answers come as `application/vnd.scones.prediction+json`,
which the capture config cannot list as JSON (the API's pattern for those types allows no "+"): they are
captured base64.

The output is either form the endpoint answers: `[p_bicycle, p_motorcycle]` (no out-of-distribution
verdict: not checked) or `{"probabilities": [...], "in_distribution": <float or null>,
"out_of_distribution": <bool>}`, each possibly a batch of one.
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
    out_of_distribution: bool | None = None
    """The model's guard flagged the image; None when the answer carried no verdict (not checked)."""
    ood_score: float | None = None
    """The guard's in-distribution score (higher = more like the training images), when it gave one."""

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


# The batch's chunked variant sends several images in one request (docs/contracts.md, batch requests).
BATCH_MEDIA_TYPE = "application/vnd.scones.batch+json"


def decode_capture_records(line: bytes | str, location: str) -> list[CapturedPrediction]:
    """The predictions of one JSONL line: one, or one per answered image of a batch request (an image the model
    could not read answered an error, not a prediction). A batch request carries one InferenceId, the first
    image's key: only that image's ground truth is known. Raises CorruptCaptureRecordError."""
    single = decode_capture_line(line, location, batch_allowed=True)
    content_type = (single.input_content_type or "").split(";", 1)[0].strip().lower()
    if content_type != BATCH_MEDIA_TYPE:
        return [single]
    record = json.loads(line)
    output = _decode_payload(record["captureData"]["endpointOutput"], "endpointOutput")
    answers = _json_value(output.decode("utf-8", "replace") if isinstance(output, bytes) else output)
    raw_images = _decode_payload(record["captureData"].get("endpointInput") or {}, "endpointInput")
    images = _json_value(raw_images.decode("utf-8", "replace") if isinstance(raw_images, bytes) else raw_images)
    if not isinstance(answers, list) or not isinstance(images, list) or len(answers) != len(images):
        raise CorruptCaptureRecordError("a batch record's input and answer are not two lists of the same length")
    predictions = []
    for position, (image, answer) in enumerate(zip(images, answers, strict=True)):
        if isinstance(answer, dict) and "error" in answer:
            continue
        probabilities, flagged, score = _from_json(json.dumps(answer))
        try:
            image_bytes = base64.b64decode(str(image), validate=True)
        except (binascii.Error, ValueError):
            image_bytes = None
        predictions.append(
            CapturedPrediction(
                location=f"{location}[{position}]",
                inference_time=single.inference_time,
                probabilities=probabilities,
                inference_id=single.inference_id if position == 0 else None,
                input_content_type=None,
                input_bytes=image_bytes,
                out_of_distribution=flagged,
                ood_score=score,
            )
        )
    return predictions


def _json_value(text: str | list[Any]) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptCaptureRecordError(f"a batch record is not valid JSON ({exc})") from exc


def decode_capture_line(line: bytes | str, location: str, *, batch_allowed: bool = False) -> CapturedPrediction:
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
    raw_input = capture.get("endpointInput")
    if (
        batch_allowed
        and isinstance(raw_input, dict)
        and str(raw_input.get("observedContentType", "")).lower().startswith(BATCH_MEDIA_TYPE)
    ):
        probabilities, flagged, score = (), None, None  # per image: decode_capture_records
    else:
        probabilities, flagged, score = _parse_output(output)
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
        out_of_distribution=flagged,
        ood_score=score,
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


def _parse_output(output: dict[str, Any]) -> tuple[tuple[float, ...], bool | None, float | None]:
    """(probabilities, flagged or None when not checked, score) of either answer form."""
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
    if is_csv and isinstance(decoded, str):
        return _validate_probabilities(_values_from_csv(decoded)), None, None
    return _from_json(decoded)


def _from_json(decoded: str | list[Any]) -> tuple[tuple[float, ...], bool | None, float | None]:
    value: Any = decoded
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise CorruptCaptureRecordError(f"endpointOutput is not valid JSON ({exc})") from exc
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict | list):
        value = value[0]
    if isinstance(value, list):
        return _validate_probabilities(value), None, None
    if not isinstance(value, dict) or not isinstance(value.get("probabilities"), list):
        raise CorruptCaptureRecordError(
            "endpointOutput is neither a JSON list of probabilities nor a prediction object"
        )
    flagged = value.get("out_of_distribution")
    if not isinstance(flagged, bool):
        raise CorruptCaptureRecordError(f"endpointOutput out_of_distribution {flagged!r} is not true or false")
    score = value.get("in_distribution")
    if score is not None and (
        isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score)
    ):
        raise CorruptCaptureRecordError(f"endpointOutput in_distribution {score!r} is not a finite number or null")
    # The filter's reading: no score and no flag is an artifact without a guard (not checked).
    checked = score is not None or flagged
    return (
        _validate_probabilities(value["probabilities"]),
        (flagged if checked else None),
        (None if score is None else float(score)),
    )


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
