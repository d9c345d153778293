"""Decoding single SageMaker data-capture records and streaming their lines."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image

from scones.monitor.capture import class_from_inference_id, decode_capture_line, decode_capture_records
from scones.monitor.errors import CaptureSourceError, CorruptCaptureRecordError
from scones.monitor.sources import parse_s3_uri, split_lines


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _record(**overrides: Any) -> dict[str, Any]:
    """A record exactly as SageMaker writes it for an image/png request and a JSON response."""
    record: dict[str, Any] = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "image/png",
                "mode": "INPUT",
                "data": base64.b64encode(_png()).decode("ascii"),
                "encoding": "BASE64",
            },
            "endpointOutput": {
                "observedContentType": "application/json",
                "mode": "OUTPUT",
                "data": "[0.12, 0.88]",
                "encoding": "JSON",
            },
        },
        "eventMetadata": {
            "eventId": "2f3c1a0e-6d8b-4f53-9a55-0c1a3e0f9b11",
            "inferenceId": "data/test/motorcycle/bike_s_000035.png",
            "inferenceTime": "2026-11-22T10:11:12Z",
        },
        "eventVersion": "0",
    }
    for path, value in overrides.items():
        *parents, leaf = path.split("__")
        target = record
        for parent in parents:
            target = target[parent]
        if value is _DELETE:
            del target[leaf]
        else:
            target[leaf] = value
    return record


_DELETE = object()


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode()


def test_decodes_image_request_and_json_response() -> None:
    prediction = decode_capture_line(_line(_record()), "f.jsonl:1")

    assert prediction.probabilities == (0.12, 0.88)
    assert prediction.predicted_class == 1
    assert prediction.confidence == 0.88
    assert prediction.inference_time == datetime(2026, 11, 22, 10, 11, 12, tzinfo=UTC)
    assert prediction.true_class == 1
    assert prediction.input_content_type == "image/png"
    assert prediction.input_bytes == _png()
    assert prediction.location == "f.jsonl:1"


def test_decodes_csv_response() -> None:
    record = _record(
        captureData__endpointOutput={
            "observedContentType": "text/csv",
            "mode": "OUTPUT",
            "data": "0.97,0.03\n",
            "encoding": "CSV",
        }
    )
    prediction = decode_capture_line(_line(record), "f:1")
    assert prediction.probabilities == (0.97, 0.03)
    assert prediction.predicted_class == 0


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/octet-stream", b"[0.3, 0.7]"), ("text/csv; charset=utf-8", b"0.3,0.7")],
)
def test_decodes_base64_response_by_its_content_type(content_type: str, body: bytes) -> None:
    record = _record(
        captureData__endpointOutput={
            "observedContentType": content_type,
            "mode": "OUTPUT",
            "data": base64.b64encode(body).decode(),
            "encoding": "BASE64",
        }
    )
    assert decode_capture_line(_line(record), "f:1").probabilities == (0.3, 0.7)


def test_json_request_is_a_prediction_without_an_image() -> None:
    record = _record(
        captureData__endpointInput={
            "observedContentType": "application/json",
            "mode": "INPUT",
            "data": '{"s3_key": "x.png"}',
            "encoding": "JSON",
        }
    )
    prediction = decode_capture_line(_line(record), "f:1")
    assert prediction.input_bytes is None
    assert prediction.confidence == 0.88


def test_response_only_capture_is_still_a_prediction() -> None:
    prediction = decode_capture_line(_line(_record(captureData__endpointInput=_DELETE)), "f:1")
    assert prediction.input_bytes is None
    assert prediction.predicted_class == 1


def test_time_with_fraction_and_offset_is_normalised_to_utc() -> None:
    record = _record(eventMetadata__inferenceTime="2026-11-22T12:11:12.250+02:00")
    prediction = decode_capture_line(_line(record), "f:1")
    assert prediction.inference_time == datetime(2026, 11, 22, 10, 11, 12, 250000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("line", "reason_part"),
    [
        (b'{"captureData": {', "not valid JSON"),
        (b"[1, 2]", "not a JSON object"),
        (_line(_record(captureData__endpointOutput=_DELETE)), "endpointOutput"),
        (_line(_record(eventMetadata=_DELETE)), "eventMetadata"),
        (_line(_record(captureData__endpointOutput__data="[0.1, 0.2, 0.7]")), "3 values"),
        (_line(_record(captureData__endpointOutput__data="[1.7, -0.7]")), "not a probability"),
        (_line(_record(captureData__endpointOutput__data='["a", "b"]')), "not a finite number"),
        (_line(_record(captureData__endpointOutput__data="{oops")), "not valid JSON"),
        (_line(_record(captureData__endpointOutput__encoding="GZIP")), "GZIP"),
        (_line(_record(captureData__endpointInput__data="%%%not-base64")), "not valid base64"),
        (_line(_record(eventMetadata__inferenceTime=_DELETE)), "inferenceTime"),
        (_line(_record(eventMetadata__inferenceTime="yesterday")), "ISO 8601"),
    ],
)
def test_corrupt_records_raise_a_named_error_with_the_reason(line: bytes, reason_part: str) -> None:
    with pytest.raises(CorruptCaptureRecordError) as caught:
        decode_capture_line(line, "f:1")
    assert reason_part in caught.value.reason


@pytest.mark.parametrize(
    ("inference_id", "expected"),
    [
        ("data/test/bicycle/bike_s_000658.png", 0),
        ("motorcycle/x.png", 1),
        # classify_image keeps only the last 64 characters: a cut-off folder is no class.
        ("orcycle/bike_s_000035.png", None),
        ("bike_s_000035.png", None),
        ("data/test/car/x.png", None),
        (None, None),
    ],
)
def test_class_comes_from_the_keys_parent_folder(inference_id: str | None, expected: int | None) -> None:
    assert class_from_inference_id(inference_id) == expected


def test_split_lines_reassembles_lines_across_chunks() -> None:
    chunks = [b'{"a":', b' 1}\n{"b"', b": 2}\r\n\n", b'{"c": 3}']
    assert list(split_lines(chunks)) == [b'{"a": 1}', b'{"b": 2}', b"", b'{"c": 3}']


def test_s3_uri_prefix_is_read_as_a_folder() -> None:
    assert parse_s3_uri("s3://bucket/data-capture") == ("bucket", "data-capture/")
    assert parse_s3_uri("s3://bucket/data-capture/ep/") == ("bucket", "data-capture/ep/")
    assert parse_s3_uri("s3://bucket") == ("bucket", "")
    with pytest.raises(CaptureSourceError):
        parse_s3_uri("https://bucket/x")
    with pytest.raises(CaptureSourceError):
        parse_s3_uri("s3:///x")


FULL_ANSWERS = {
    "flagged": ({"probabilities": [0.99, 0.01], "in_distribution": -3.0, "out_of_distribution": True}, True, -3.0),
    "in distribution": (
        {"probabilities": [0.99, 0.01], "in_distribution": 1.5, "out_of_distribution": False},
        False,
        1.5,
    ),
    "no guard": ({"probabilities": [0.99, 0.01], "in_distribution": None, "out_of_distribution": False}, None, None),
    "batch of one": (
        [{"probabilities": [0.99, 0.01], "in_distribution": 0.5, "out_of_distribution": False}],
        False,
        0.5,
    ),
    "plain list": ([0.99, 0.01], None, None),
}


@pytest.mark.parametrize(("answer", "flagged", "score"), FULL_ANSWERS.values(), ids=FULL_ANSWERS.keys())
def test_both_answer_forms_decode_with_their_verdict(answer: Any, flagged: bool | None, score: float | None) -> None:
    line = json.dumps(_record(captureData__endpointOutput__data=json.dumps(answer)))
    prediction = decode_capture_line(line, "x")
    assert (prediction.probabilities, prediction.out_of_distribution, prediction.ood_score) == (
        (0.99, 0.01),
        flagged,
        score,
    )


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"probabilities": [0.5, 0.5], "in_distribution": 1.0}, "out_of_distribution None is not true or false"),
        ({"probabilities": [0.5, 0.5], "in_distribution": "x", "out_of_distribution": False}, "not a finite number"),
        ({"scores": [0.5, 0.5]}, "neither a JSON list of probabilities nor a prediction object"),
    ],
)
def test_a_malformed_full_answer_is_a_corrupt_record(answer: Any, reason: str) -> None:
    line = json.dumps(_record(captureData__endpointOutput__data=json.dumps(answer)))
    with pytest.raises(CorruptCaptureRecordError, match=reason):
        decode_capture_line(line, "x")


def _batch_record(answers: list[Any]) -> dict[str, Any]:
    """A batch request of the chunked batch (one image per answer) as data capture writes it: both base64."""
    images = [base64.b64encode(_png()).decode("ascii") for _ in answers]
    return _record(
        captureData__endpointInput={
            "observedContentType": "application/vnd.scones.batch+json",
            "mode": "INPUT",
            "data": base64.b64encode(json.dumps(images).encode()).decode("ascii"),
            "encoding": "BASE64",
        },
        captureData__endpointOutput={
            "observedContentType": "application/vnd.scones.batch+json",
            "mode": "OUTPUT",
            "data": base64.b64encode(json.dumps(answers).encode()).decode("ascii"),
            "encoding": "BASE64",
        },
    )


def test_a_batch_record_is_one_prediction_per_answered_image() -> None:
    answers = [
        {"probabilities": [0.1, 0.9], "in_distribution": 4.0, "out_of_distribution": False},
        {"error": "InvalidImageError", "message": "image 1 of the batch: truncated"},
        {"probabilities": [0.7, 0.3], "in_distribution": -2.0, "out_of_distribution": True},
    ]
    predictions = decode_capture_records(_line(_batch_record(answers)), "f:1")
    assert [p.probabilities for p in predictions] == [(0.1, 0.9), (0.7, 0.3)]
    assert [p.out_of_distribution for p in predictions] == [False, True]
    assert [p.location for p in predictions] == ["f:1[0]", "f:1[2]"]
    # One InferenceId per request, the first image's key: only its ground truth is known.
    assert [p.true_class for p in predictions] == [1, None]
    assert all(p.input_bytes == _png() for p in predictions)


def test_a_single_image_record_is_one_prediction_and_a_broken_batch_is_corrupt() -> None:
    (prediction,) = decode_capture_records(_line(_record()), "f:1")
    assert prediction.probabilities == (0.12, 0.88)
    broken = _batch_record([{"probabilities": [0.1, 0.9], "in_distribution": None, "out_of_distribution": False}])
    broken["captureData"]["endpointOutput"]["data"] = base64.b64encode(b"[]").decode()
    with pytest.raises(CorruptCaptureRecordError, match="same length"):
        decode_capture_records(_line(broken), "f:1")
