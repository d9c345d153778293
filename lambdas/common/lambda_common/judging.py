"""The confidence filter's judgement of one classified record (FilterLowConfidence's, and the batch chunk's).

An image the endpoint's guard flagged as out of distribution is rejected first (OutOfDistributionError),
whatever its confidence: a softmax over two classes is confident about a cat too. The rest must reach the
threshold (ThresholdConfidenceNotMetError). A record whose `ood` is missing or not checked (the built-in
algorithm, an older artifact) is judged by the threshold alone, and says so in the log.

Every decision is also published as a CloudWatch embedded-metric-format line, so the shares of
low-confidence and out-of-distribution predictions can be alarmed on without any extra API call. The two
rejections are counted apart: LowConfidence is 1 only for a threshold rejection, OutOfDistribution only for
a flagged image, so their sum is the filter's rejections (the alarms subtract both from its errors).
"""

from __future__ import annotations

import os

from lambda_common.errors import (
    ConfigurationError,
    InvalidInferencesError,
    OutOfDistributionError,
    ThresholdConfidenceNotMetError,
)
from lambda_common.events import ImageRecord
from lambda_common.logs import log
from lambda_common.metrics import Metric, emit
from lambda_common.runtime import env_float

DEFAULT_THRESHOLD = 0.93


def threshold() -> float:
    try:
        value = env_float("THRESHOLD", DEFAULT_THRESHOLD)
    except ValueError:
        raise ConfigurationError(f"THRESHOLD={os.environ.get('THRESHOLD')!r} is not a number") from None
    if not 0.0 < value <= 1.0:
        raise ConfigurationError(f"THRESHOLD={value} must be in (0, 1]")
    return value


def emit_metrics(*, low_confidence: bool, out_of_distribution: bool, confidence: float, s3_key: str | None) -> None:
    emit(
        [
            Metric("LowConfidence", int(low_confidence), "Count"),
            Metric("OutOfDistribution", int(out_of_distribution), "Count"),
            Metric("Predictions", 1, "Count"),
            Metric("Confidence", confidence),
        ],
        {"FunctionName": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "filter_low_confidence")},
        s3_key=s3_key,
    )


def judge(record: ImageRecord, *, function: str) -> ImageRecord:
    """The record when it passes; OutOfDistributionError, ThresholdConfidenceNotMetError or
    InvalidInferencesError when it does not."""
    where = record.location
    if not record.inferences:
        raise InvalidInferencesError(f"no inferences for {where}: run ClassifyImage first")
    limit = threshold()
    confidence = max(record.inferences)
    ood = record.ood
    if ood is None or not ood.checked:
        log(
            "INFO",
            function=function,
            s3_key=record.s3_key,
            ood="not checked",
            reason="the record has no ood verdict" if ood is None else "the endpoint gave no out-of-distribution score",
        )
    flagged = ood is not None and ood.flagged
    low = not flagged and confidence < limit
    emit_metrics(low_confidence=low, out_of_distribution=flagged, confidence=confidence, s3_key=record.s3_key)
    if ood is not None and ood.flagged:
        score = "no score" if ood.score is None else f"score {ood.score:.4f}"
        raise OutOfDistributionError(
            f"the model's guard flagged {where} as unlike its training images ({score}; top probability "
            f"{confidence:.4f})",
            score=ood.score,
            inferences=record.inferences,
            s3_bucket=record.s3_bucket,
            s3_key=record.s3_key,
        )
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
