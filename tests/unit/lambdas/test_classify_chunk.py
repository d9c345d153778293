"""ClassifyChunk, the batch's chunked variant: per-item results with the per-item design's verdicts and error
names, one endpoint request per chunk, and a chunk-wide failure only for what is not any one image's fault."""

from __future__ import annotations

import base64
import io
import json
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
    state: dict[str, Any] = {"requests": [], "status": 200}

    def invoke_endpoint(self: SageMakerRuntimeResponse) -> tuple[int, dict[str, str], str]:
        headers = {k.lower(): v for k, v in self.headers.items()}
        images = [base64.b64decode(image) for image in json.loads(self.raw_body)]
        state["requests"].append({"headers": headers, "images": images})
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
