"""FilterLowConfidence: pass confident predictions of vehicle photos through, raise for the rest
(lambda_common.judging says how, and publishes each decision as metrics)."""

from __future__ import annotations

from lambda_common.events import ImageRecord
from lambda_common.judging import judge
from lambda_common.runtime import make_handler


def filter_low_confidence(record: ImageRecord) -> ImageRecord:
    return judge(record, function="filter_low_confidence")


# Any event that carries inferences: the S3 location is only logged and reported.
handler = make_handler("filter_low_confidence", filter_low_confidence, location_required=False)
