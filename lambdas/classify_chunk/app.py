"""ClassifyChunk: the batch's chunked variant, one call for a chunk of images instead of three per image.

The batch state machine's Distributed Map with an ItemBatcher (terraform/modules/batch,
`batch_items_per_chunk`) hands each child a chunk, `{"Items": [{"s3_key": ...}, ...], "BatchInput":
{"s3_bucket": ...}}` ("ItemBatcher (Map)", https://docs.aws.amazon.com/step-functions/latest/dg/
input-output-itembatcher.html). For each image this does what SerializeImage, ClassifyImage and
FilterLowConfidence do, with their code (lambda_common: s3_images, endpoint, predictions, judging), but the
readable images of the chunk go to the endpoint in ONE request (its batch content type), and nothing is
base64-encoded into a state's payload.

An artifact packed before batch requests existed refuses the batch content type (a quick ModelError): the
chunk then asks for each readable image by itself, all at once, as ClassifyImage would (with its own fallback
to plain JSON for an artifact older still), so a stack upgraded before its model is released keeps running
batches (one request per image, the per-item design's cost) and says so in a WARNING line.

The answer is `{"results": [...]}`, one per item in order: `{"s3_key", "verdict", "inferences", "ood"}`
(verdict classified, low_confidence or out_of_distribution, as the per-item design's child output) or, for
an image of its own failing, `{"s3_key", "error", "cause"}` with the error name the per-item design's child
would have failed with (ImageNotFoundError, InvalidImageError, ...). What fails the chunk as a whole (the
endpoint refusing or unreachable, a misconfigured function, an event that is not a chunk) is raised: the
child fails and each of its items counts as failed, with that error name.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from lambda_common.endpoint import MediaTypeRefused, ask, ask_batch
from lambda_common.errors import (
    ConfigurationError,
    InvalidEventError,
    InvalidImageError,
    OutOfDistributionError,
    ThresholdConfidenceNotMetError,
    WorkflowError,
)
from lambda_common.events import ImageRecord
from lambda_common.judging import judge
from lambda_common.logs import configured_level, log
from lambda_common.predictions import BATCH_MEDIA_TYPE, parse_answer
from lambda_common.s3_images import read_image

FUNCTION = "classify_chunk"
# S3 reads in flight per chunk: the reads are latency, not CPU.
READ_THREADS = 8


def _records(event: Any) -> list[ImageRecord]:
    if not isinstance(event, dict) or not isinstance(event.get("Items"), list) or not event["Items"]:
        raise InvalidEventError('a chunk is {"Items": [...], "BatchInput": {...}} with at least one item')
    shared = event.get("BatchInput") or {}
    if not isinstance(shared, dict):
        raise InvalidEventError("the chunk's BatchInput must be an object")
    records = []
    for position, item in enumerate(event["Items"]):
        fields = {**shared, **item} if isinstance(item, dict) else {}
        bucket, key = fields.get("s3_bucket"), fields.get("s3_key")
        if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
            raise InvalidEventError(f"item {position} of the chunk has no s3_bucket and s3_key (strings)")
        records.append(ImageRecord(s3_bucket=bucket, s3_key=key))
    return records


def _result(record: ImageRecord, verdict: str) -> dict[str, Any]:
    ood = None if record.ood is None else record.ood.as_dict()
    return {"s3_key": record.s3_key, "verdict": verdict, "inferences": record.inferences, "ood": ood}


def _failed(record: ImageRecord, exc: Exception) -> dict[str, Any]:
    return {"s3_key": record.s3_key, "error": type(exc).__name__, "cause": str(exc)}


def _judged(record: ImageRecord, answer: Any) -> dict[str, Any]:
    """The item's result from its part of the endpoint's answer."""
    try:
        if isinstance(answer, dict) and "error" in answer:
            raise InvalidImageError(f"the model could not read {record.location}: {answer.get('message')}")
        record.inferences, record.ood = parse_answer(answer, where=record.location)
        judge(record, function=FUNCTION)
    except OutOfDistributionError:
        return _result(record, "out_of_distribution")
    except ThresholdConfidenceNotMetError:
        return _result(record, "low_confidence")
    except ConfigurationError:
        raise  # the function's, not the image's
    except WorkflowError as exc:
        return _failed(record, exc)
    return _result(record, "classified")


def _answers(records: list[ImageRecord], images: list[tuple[bytes, str]]) -> list[Any]:
    """The endpoint's answer for each image: one batch request, or one request per image, all at once, when the
    artifact predates batch requests (an endpoint failure in any of them still fails the chunk)."""
    first = records[0]
    try:
        return ask_batch([data for data, _ in images], first_key=first.s3_key or "", where=first.location)
    except MediaTypeRefused as refused:
        fallback = "one request per image"
        log(
            "WARNING",
            function=FUNCTION,
            s3_key=first.s3_key,
            refused=BATCH_MEDIA_TYPE,
            error=str(refused),
            fallback=fallback,
        )

    def one(position: int) -> Any:
        record, (data, content_type) = records[position], images[position]
        return ask(data, content_type, s3_key=record.s3_key or "", where=record.location, function=FUNCTION)[0]

    with ThreadPoolExecutor(max_workers=len(images)) as pool:  # every request at once: the timeout's budget
        return list(pool.map(one, range(len(images))))


def classify_chunk(event: Any) -> dict[str, Any]:
    records = _records(event)
    results: list[dict[str, Any] | None] = [None] * len(records)

    def read(position: int) -> tuple[bytes, str] | None:
        record = records[position]
        try:
            return read_image(record.s3_bucket or "", record.s3_key or "", where=record.location)
        except WorkflowError as exc:  # missing, unreadable, not an image: this item's failure
            results[position] = _failed(record, exc)
            return None

    with ThreadPoolExecutor(max_workers=min(READ_THREADS, len(records))) as pool:
        read_images = list(pool.map(read, range(len(records))))
    readable = [(position, image) for position, image in enumerate(read_images) if image is not None]
    if readable:
        answers = _answers([records[position] for position, _ in readable], [image for _, image in readable])
        for (position, _), answer in zip(readable, answers, strict=True):
            results[position] = _judged(records[position], answer)
    return {"results": results}


def classify_chunk_handler(event: Any, context: Any) -> dict[str, Any]:
    started = time.perf_counter()
    configured_level()
    common = {"function": FUNCTION, "request_id": getattr(context, "aws_request_id", None)}
    try:
        answer = classify_chunk(event)
    except Exception as exc:
        duration = round((time.perf_counter() - started) * 1000, 2)
        log("ERROR", **common, outcome="error", error=type(exc).__name__, message=str(exc), duration_ms=duration)
        raise
    failed = sum(1 for result in answer["results"] if "error" in result)
    duration = round((time.perf_counter() - started) * 1000, 2)
    log("INFO", **common, outcome="ok", items=len(answer["results"]), failed=failed, duration_ms=duration)
    return answer


handler = classify_chunk_handler
