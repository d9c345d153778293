"""SageMaker data-capture settings, encoding and object layout."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime

import pytest

from scones.local.runtime.data_capture import (
    CapturedInvocation,
    CaptureSettings,
    DataCaptureConfigError,
    capture_record,
)

CONFIG = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 100,
    "DestinationS3Uri": "s3://bucket/some/prefix/",
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
}


def test_disabled_or_absent_capture_is_off() -> None:
    assert CaptureSettings.from_endpoint_config(None) is None
    assert CaptureSettings.from_endpoint_config({**CONFIG, "EnableCapture": False}) is None


def test_destination_must_be_s3() -> None:
    with pytest.raises(DataCaptureConfigError, match="s3://"):
        CaptureSettings.from_endpoint_config({**CONFIG, "DestinationS3Uri": "/tmp/capture"})


def test_object_key_follows_sagemakers_layout() -> None:
    settings = CaptureSettings.from_endpoint_config(CONFIG)
    assert settings is not None and settings.bucket == "bucket"
    when = datetime(2026, 11, 22, 10, 11, 12, 345000, tzinfo=UTC)
    key = settings.object_key("ep", "AllTraffic", when, "abc")
    assert key == "some/prefix/ep/AllTraffic/2026/11/22/10/11-12-345-abc.jsonl"


def test_sampling_percentage_is_respected() -> None:
    rng = random.Random(7)
    none = CaptureSettings.from_endpoint_config({**CONFIG, "InitialSamplingPercentage": 0})
    half = CaptureSettings.from_endpoint_config({**CONFIG, "InitialSamplingPercentage": 50})
    assert none is not None and half is not None
    assert not any(none.sampled(rng) for _ in range(1000))
    assert 400 < sum(half.sampled(rng) for _ in range(1000)) < 600


def test_without_a_content_type_header_everything_is_base64() -> None:
    settings = CaptureSettings.from_endpoint_config(CONFIG)
    assert settings is not None
    assert settings.encode(b"[0.1, 0.9]", "application/json") == (base64.b64encode(b"[0.1, 0.9]").decode(), "BASE64")


def test_content_type_header_decides_the_encoding() -> None:
    with_header = CaptureSettings.from_endpoint_config(
        {**CONFIG, "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}
    )
    assert with_header is not None
    # Only the listed types are captured as text once a header is configured.
    assert with_header.encode(b"[0.1, 0.9]", "application/json") == (base64.b64encode(b"[0.1, 0.9]").decode(), "BASE64")
    assert with_header.encode(b"1,2", "text/csv") == ("1,2", "CSV")


def test_record_shape() -> None:
    settings = CaptureSettings.from_endpoint_config(
        {
            **CONFIG,
            "CaptureOptions": [{"CaptureMode": "Output"}],
            "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
        }
    )
    assert settings is not None
    when = datetime(2026, 11, 22, 10, 11, 12, tzinfo=UTC)
    invocation = CapturedInvocation(b"\x89PNG", "image/png", b"[0.2, 0.8]", "application/json", None, when)
    record = capture_record(settings, invocation, "event-1")
    assert record == {
        "captureData": {
            "endpointOutput": {
                "observedContentType": "application/json",
                "mode": "OUTPUT",
                "data": "[0.2, 0.8]",
                "encoding": "JSON",
            }
        },
        "eventMetadata": {"eventId": "event-1", "inferenceTime": "2026-11-22T10:11:12Z"},
        "eventVersion": "0",
    }
