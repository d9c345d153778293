"""FilterLowConfidence: pass confident predictions through, raise for the rest.

Every decision is also published as a CloudWatch embedded-metric-format line, so the share of
low-confidence predictions (the drift signal) can be alarmed on without any extra API call.
"""

from __future__ import annotations

import os

from lambda_common.errors import ConfigurationError, InvalidInferencesError, ThresholdConfidenceNotMetError
from lambda_common.events import ImageRecord
from lambda_common.metrics import Metric, emit
from lambda_common.runtime import env_float, make_handler

DEFAULT_THRESHOLD = 0.93


def threshold() -> float:
    try:
        value = env_float("THRESHOLD", DEFAULT_THRESHOLD)
    except ValueError:
        raise ConfigurationError(f"THRESHOLD={os.environ.get('THRESHOLD')!r} is not a number") from None
    if not 0.0 < value <= 1.0:
        raise ConfigurationError(f"THRESHOLD={value} must be in (0, 1]")
    return value


def emit_metrics(*, low_confidence: bool, confidence: float, s3_key: str | None) -> None:
    emit(
        [
            Metric("LowConfidence", int(low_confidence), "Count"),
            Metric("Predictions", 1, "Count"),
            Metric("Confidence", confidence),
        ],
        {"FunctionName": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "filter_low_confidence")},
        s3_key=s3_key,
    )


def filter_low_confidence(record: ImageRecord) -> ImageRecord:
    where = record.location
    if not record.inferences:
        raise InvalidInferencesError(f"no inferences for {where}: run ClassifyImage first")
    limit = threshold()
    confidence = max(record.inferences)
    low = confidence < limit
    emit_metrics(low_confidence=low, confidence=confidence, s3_key=record.s3_key)
    if low:
        raise ThresholdConfidenceNotMetError(
            f"top probability {confidence:.4f} < threshold {limit} for {where}",
            confidence=confidence,
            threshold=limit,
            inferences=record.inferences,
            s3_bucket=record.s3_bucket,
            s3_key=record.s3_key,
        )
    return record


# Any event that carries inferences: the S3 location is only logged and reported.
handler = make_handler("filter_low_confidence", filter_low_confidence, location_required=False)
