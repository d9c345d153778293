"""ClassifyImage: send the decoded image to the SageMaker endpoint and attach its probabilities and its
out-of-distribution verdict (`ood`). The endpoint call itself is lambda_common.endpoint's."""

from __future__ import annotations

from lambda_common import images
from lambda_common.endpoint import ask
from lambda_common.events import ImageRecord
from lambda_common.logs import log
from lambda_common.predictions import parse_answer
from lambda_common.runtime import make_handler


def classify(record: ImageRecord) -> ImageRecord:
    where = record.location
    data = images.decode(record.image_data, where=where)
    content_type = images.content_type_of(data, where=where)
    parsed, accept = ask(data, content_type, s3_key=record.s3_key or "", where=where)
    record.inferences, record.ood = parse_answer(parsed, where=where)
    if not record.ood.checked:
        # The built-in algorithm, or an artifact without a fitted guard: only the threshold will judge it.
        log("INFO", function="classify_image", s3_key=record.s3_key, ood="not checked", accept=accept)
    return record


handler = make_handler("classify_image", classify)
