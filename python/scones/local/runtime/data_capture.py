"""SageMaker data capture: which invocations to capture, the JSONL record, and where it goes.

Record format and object layout follow SageMaker's:
`<DestinationS3Uri>/<endpoint>/<variant>/YYYY/MM/DD/HH/<mm-ss-SSS>-<uuid>.jsonl`, one JSON
record per line. The emulator writes one object per invocation, so nothing is lost if it stops.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# "If no headers are specified Amazon SageMaker AI will by default base64 encode when capturing the data"
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CaptureContentTypeHeader.html): only the
# types a CaptureContentTypeHeader lists are captured as text, everything else base64.


class DataCaptureConfigError(Exception):
    """The endpoint config's DataCaptureConfig cannot be used (e.g. no s3:// destination)."""


@dataclass(frozen=True)
class CaptureSettings:
    sampling_percentage: float
    bucket: str
    prefix: str
    capture_input: bool
    capture_output: bool
    json_types: tuple[str, ...]
    csv_types: tuple[str, ...]

    @classmethod
    def from_endpoint_config(cls, config: dict[str, Any] | None) -> CaptureSettings | None:
        """Settings from the API's DataCaptureConfig; None when capture is off."""
        if not config or not config.get("EnableCapture", True):
            return None
        destination = str(config.get("DestinationS3Uri", ""))
        if not destination.startswith("s3://") or len(destination) <= len("s3://"):
            raise DataCaptureConfigError(f"DestinationS3Uri must be an s3:// URI, got {destination!r}")
        bucket, _, prefix = destination[len("s3://") :].partition("/")
        modes = {str(option.get("CaptureMode", "")).lower() for option in config.get("CaptureOptions") or []}
        header = config.get("CaptureContentTypeHeader") or {}
        return cls(
            sampling_percentage=float(config.get("InitialSamplingPercentage", 100)),
            bucket=bucket,
            prefix=prefix.strip("/"),
            capture_input="input" in modes if modes else True,
            capture_output="output" in modes if modes else True,
            json_types=tuple(header.get("JsonContentTypes") or ()),
            csv_types=tuple(header.get("CsvContentTypes") or ()),
        )

    def sampled(self, rng: random.Random) -> bool:
        return rng.random() * 100 < self.sampling_percentage

    def encode(self, data: bytes, content_type: str) -> tuple[str, str]:
        """(data as stored, encoding): JSON/CSV as text for the configured types, else BASE64."""
        media_type = content_type.split(";")[0].strip().lower()
        for types, encoding in ((self.json_types, "JSON"), (self.csv_types, "CSV")):
            if media_type in {t.lower() for t in types}:
                try:
                    return data.decode("utf-8"), encoding
                except UnicodeDecodeError:
                    break
        return base64.b64encode(data).decode("ascii"), "BASE64"

    def object_key(self, endpoint: str, variant: str, when: datetime, event_id: str) -> str:
        stamp = when.strftime("%Y/%m/%d/%H")
        name = f"{when.strftime('%M-%S')}-{when.microsecond // 1000:03d}-{event_id}.jsonl"
        parts = [self.prefix, endpoint, variant, stamp, name] if self.prefix else [endpoint, variant, stamp, name]
        return "/".join(parts)


@dataclass(frozen=True)
class CapturedInvocation:
    request_body: bytes
    request_content_type: str
    response_body: bytes
    response_content_type: str
    inference_id: str | None
    when: datetime


def capture_record(settings: CaptureSettings, invocation: CapturedInvocation, event_id: str) -> dict[str, Any]:
    capture: dict[str, Any] = {}
    if settings.capture_input:
        data, encoding = settings.encode(invocation.request_body, invocation.request_content_type)
        capture["endpointInput"] = {
            "observedContentType": invocation.request_content_type,
            "mode": "INPUT",
            "data": data,
            "encoding": encoding,
        }
    if settings.capture_output:
        data, encoding = settings.encode(invocation.response_body, invocation.response_content_type)
        capture["endpointOutput"] = {
            "observedContentType": invocation.response_content_type,
            "mode": "OUTPUT",
            "data": data,
            "encoding": encoding,
        }
    metadata: dict[str, Any] = {"eventId": event_id}
    if invocation.inference_id:
        metadata["inferenceId"] = invocation.inference_id
    metadata["inferenceTime"] = invocation.when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"captureData": capture, "eventMetadata": metadata, "eventVersion": "0"}


def new_event_id() -> str:
    return str(uuid.uuid4())


def to_jsonl(records: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records).encode("utf-8")
