"""ClassifyChunk, the batch's chunked variant: per-item results with the per-item design's verdicts and error
names, one endpoint request per chunk, and a chunk-wide failure only for what is not any one image's fault."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse
from PIL import Image

from lambda_common.errors import WorkflowError
from tests.support.lambda_loader import load_app

BUCKET = "scones-test-data"
BATCH_TYPE = "application/vnd.scones.batch+json"


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(buffer, format="PNG")
    return buffer.getvalue()


CONFIDENT, UNSURE, STRANGE, UNREADABLE_BY_MODEL = png((200, 0, 0)), png((0, 200, 0)), png((0, 0, 200)), png((9, 9, 9))
# What the fake model answers for each image (the serving code's per-image objects and errors).
ANSWERS = {
    CONFIDENT: {"probabilities": [0.97, 0.03], "in_distribution": 5.0, "out_of_distribution": False},
    UNSURE: {"probabilities": [0.55, 0.45], "in_distribution": 5.0, "out_of_distribution": False},
    STRANGE: {"probabilities": [0.99, 0.01], "in_distribution": -9.0, "out_of_distribution": True},
    UNREADABLE_BY_MODEL: {"error": "InvalidImageError", "message": "image 0 of the batch: truncated"},
}
OBJECTS = {
    "data/test/bicycle/confident.png": CONFIDENT,
    "data/test/bicycle/unsure.png": UNSURE,
    "data/test/bicycle/strange.png": STRANGE,
    "data/test/bicycle/truncated.png": UNREADABLE_BY_MODEL,
    "data/test/notes.txt": b"not an image",
}


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    # "refuses": the media types an older artifact's serving code does not know (its input_fn or output_fn
    # raises, and SageMaker answers ModelError at once).
    state: dict[str, Any] = {"requests": [], "status": 200, "refuses": ()}

    def invoke_endpoint(self: SageMakerRuntimeResponse) -> tuple[int, dict[str, str], str]:
        headers = {k.lower(): v for k, v in self.headers.items()}
        batch = headers["content-type"] == BATCH_TYPE
        images = [base64.b64decode(image) for image in json.loads(self.raw_body)] if batch else [self.raw_body]
        state["requests"].append({"headers": headers, "images": images})
        if {headers["content-type"], headers["accept"]} & set(state["refuses"]):
            error = {"__type": "ModelError", "message": "Received server error (500) from primary"}
            return 424, {"Content-Type": "application/json", "status": "424"}, json.dumps(error)
        if not batch:  # one image: its full answer, or plain JSON (the probabilities) when that is asked for
            answer = ANSWERS[self.raw_body]
            plain = headers["accept"] == "application/json"
            return 200, {"Content-Type": headers["accept"]}, json.dumps(answer["probabilities"] if plain else answer)
        if state["status"] != 200:
            error = {"__type": "ValidationError", "message": "Endpoint scones-endpoint not found."}
            return (
                state["status"],
                {"Content-Type": "application/json", "status": str(state["status"])},
                json.dumps(error),
            )
        return 200, {"Content-Type": BATCH_TYPE}, json.dumps([ANSWERS[image] for image in images])

    monkeypatch.setattr(SageMakerRuntimeResponse, "use_raw_body", True)
    monkeypatch.setattr(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint)
    monkeypatch.setenv("ENDPOINT_NAME", "scones-endpoint")
    monkeypatch.setenv("THRESHOLD", "0.93")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for key, body in OBJECTS.items():
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        yield state


@pytest.fixture
def chunk(endpoint: dict[str, Any]) -> Callable[..., Any]:
    return load_app("classify_chunk").handler


def event(*keys: str) -> dict[str, Any]:
    return {"Items": [{"s3_key": key} for key in keys], "BatchInput": {"s3_bucket": BUCKET}}


def test_each_item_gets_the_verdict_or_error_the_per_item_design_gives_it(
    chunk: Callable[..., Any], endpoint: dict[str, Any]
) -> None:
    keys = [*OBJECTS, "data/test/bicycle/missing.png"]
    results = chunk(event(*keys), None)["results"]
    assert [result["s3_key"] for result in results] == keys
    assert [result.get("verdict") or result["error"] for result in results] == [
        "classified",
        "low_confidence",
        "out_of_distribution",
        "InvalidImageError",  # the model could not read it
        "InvalidImageError",  # not a PNG or JPEG: never sent
        "ImageNotFoundError",
    ]
    assert results[0]["inferences"] == [0.97, 0.03]
    assert results[0]["ood"] == {"score": 5.0, "flagged": False, "checked": True}
    assert "not a PNG or JPEG" in results[4]["cause"] and "not found" in results[5]["cause"]
    # One endpoint request for the chunk, holding only the readable images, in order.
    (request,) = endpoint["requests"]
    assert request["headers"]["content-type"] == request["headers"]["accept"] == BATCH_TYPE
    assert request["images"] == [CONFIDENT, UNSURE, STRANGE, UNREADABLE_BY_MODEL]


def test_a_chunk_without_a_readable_image_makes_no_endpoint_request(
    chunk: Callable[..., Any], endpoint: dict[str, Any]
) -> None:
    results = chunk(event("data/test/notes.txt"), None)["results"]
    assert [result["error"] for result in results] == ["InvalidImageError"]
    assert endpoint["requests"] == []


def test_an_endpoint_failure_fails_the_whole_chunk_with_its_error_name(
    chunk: Callable[..., Any], endpoint: dict[str, Any]
) -> None:
    endpoint["status"] = 400
    with pytest.raises(WorkflowError) as info:
        chunk(event("data/test/bicycle/confident.png", "data/test/bicycle/unsure.png"), None)
    assert type(info.value).__name__ == "EndpointInvocationError"
    assert "a batch of 2 images" in str(info.value)


def test_an_artifact_that_predates_batch_requests_is_asked_image_by_image(
    chunk: Callable[..., Any], endpoint: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """A stack upgraded before its model is released: the served artifact refuses the batch content type, and
    the chunk gets the same verdicts from one request per image (docs/upgrading.md)."""
    endpoint["refuses"] = (BATCH_TYPE,)
    keys = ["data/test/bicycle/confident.png", "data/test/bicycle/unsure.png", "data/test/bicycle/strange.png"]
    results = chunk(event(*keys, "data/test/notes.txt"), None)["results"]
    assert [result.get("verdict") or result["error"] for result in results] == [
        "classified",
        "low_confidence",
        "out_of_distribution",
        "InvalidImageError",
    ]
    assert results[0]["ood"] == {"score": 5.0, "flagged": False, "checked": True}
    batch, *singles = endpoint["requests"]
    assert batch["headers"]["content-type"] == BATCH_TYPE
    assert sorted(request["images"][0] for request in singles) == sorted([CONFIDENT, UNSURE, STRANGE])
    assert {request["headers"]["content-type"] for request in singles} == {"image/png"}
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (warning,) = [line for line in lines if line.get("level") == "WARNING"]
    assert (warning["refused"], warning["fallback"]) == (BATCH_TYPE, "one request per image")


def test_a_refusal_is_remembered_so_later_chunks_ask_image_by_image_at_once(
    chunk: Callable[..., Any], endpoint: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each refusal is a 5xx on the endpoint (a rollback alarm's metric): one per sandbox every few minutes."""
    import lambda_common.endpoint

    endpoint["refuses"] = (BATCH_TYPE,)
    keys = ("data/test/bicycle/confident.png", "data/test/bicycle/unsure.png")
    for _ in range(3):
        chunk(event(*keys), None)
    batches = [r for r in endpoint["requests"] if r["headers"]["content-type"] == BATCH_TYPE]
    assert len(batches) == 1 and len(endpoint["requests"]) == 1 + 3 * len(keys)
    # Once the memory has passed, a batch is tried again (a newer artifact may serve by then).
    endpoint["refuses"] = ()
    now = time.monotonic()
    monkeypatch.setattr(time, "monotonic", lambda: now + lambda_common.endpoint.BATCH_REFUSAL_MEMORY_SECONDS + 1)
    chunk(event(*keys), None)
    assert endpoint["requests"][-1]["headers"]["content-type"] == BATCH_TYPE


def test_an_artifact_older_still_is_asked_for_plain_json_and_judged_by_the_threshold(
    chunk: Callable[..., Any], endpoint: dict[str, Any]
) -> None:
    endpoint["refuses"] = (BATCH_TYPE, "application/vnd.scones.prediction+json")
    results = chunk(event("data/test/bicycle/confident.png", "data/test/bicycle/unsure.png"), None)["results"]
    assert [result["verdict"] for result in results] == ["classified", "low_confidence"]
    assert all(result["ood"]["checked"] is False for result in results)


def test_an_endpoint_failure_after_the_fallback_still_fails_the_whole_chunk(
    chunk: Callable[..., Any], endpoint: dict[str, Any]
) -> None:
    endpoint["refuses"] = (BATCH_TYPE, "application/vnd.scones.prediction+json", "application/json")
    with pytest.raises(WorkflowError) as info:
        chunk(event("data/test/bicycle/confident.png", "data/test/bicycle/unsure.png"), None)
    assert type(info.value).__name__ == "EndpointInvocationError"
    assert "ModelError" in str(info.value)


@pytest.mark.parametrize(
    "bad",
    [
        {"s3_bucket": BUCKET, "s3_key": "a.png"},  # a single item's event, not a chunk
        {"Items": [], "BatchInput": {"s3_bucket": BUCKET}},
        {"Items": [{"s3_key": "a.png"}]},  # no bucket anywhere
        {"Items": [{"s3_key": 3}], "BatchInput": {"s3_bucket": BUCKET}},
    ],
)
def test_an_event_that_is_not_a_chunk_is_an_invalid_event_error(chunk: Callable[..., Any], bad: Any) -> None:
    with pytest.raises(WorkflowError) as info:
        chunk(bad, None)
    assert type(info.value).__name__ == "InvalidEventError"


def test_a_bad_threshold_fails_the_chunk_not_its_items(
    chunk: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THRESHOLD", "2")
    with pytest.raises(WorkflowError) as info:
        chunk(event("data/test/bicycle/confident.png"), None)
    assert type(info.value).__name__ == "ConfigurationError"


def test_each_judged_item_is_a_prediction_metric_and_the_call_one_log_line(
    chunk: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    chunk(event("data/test/bicycle/confident.png", "data/test/bicycle/unsure.png", "data/test/notes.txt"), None)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    metrics = [line for line in lines if "_aws" in line]
    assert [(line["Predictions"], line["LowConfidence"]) for line in metrics] == [(1, 0), (1, 1)]
    (summary,) = [line for line in lines if line.get("outcome") == "ok"]
    assert (summary["function"], summary["items"], summary["failed"]) == ("classify_chunk", 3, 1)
