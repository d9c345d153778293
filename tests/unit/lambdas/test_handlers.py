"""The three Lambda handlers: event shapes, named errors, JSON output, structured logs."""

from __future__ import annotations

import base64
import io
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from moto import mock_aws
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse
from PIL import Image

import lambda_common.endpoint
import lambda_common.runtime
from lambda_common.errors import WorkflowError
from tests.support.lambda_loader import load_app

BUCKET = "scones-test-data"
KEY = "data/test/bicycle/bicycle_s_000030.png"


def png_bytes(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


PNG = png_bytes()
PNG_B64 = base64.b64encode(PNG).decode()


def record(**overrides: Any) -> dict[str, Any]:
    body = {"image_data": "", "s3_bucket": BUCKET, "s3_key": KEY, "inferences": []}
    body.update(overrides)
    return body


def log_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


# ---------------------------------------------------------------- serialize_image


@pytest.fixture
def s3_bucket() -> Iterator[Any]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=PNG)
        yield s3


@pytest.fixture
def serialize(s3_bucket: Any) -> Callable[..., Any]:
    return load_app("serialize_image").handler


SEED_EVENT = {"image_data": "", "s3_bucket": BUCKET, "s3_key": KEY}
SHAPES = {
    "bare seed event": SEED_EVENT,
    "body dict": {"body": SEED_EVENT},
    "body json string": {"body": json.dumps(SEED_EVENT)},
    "lambda:invoke result": {"Payload": {"statusCode": 200, "body": SEED_EVENT}, "StatusCode": 200},
    "lambda:invoke result with string body": {"Payload": {"body": json.dumps(SEED_EVENT)}},
}


@pytest.mark.parametrize("event", SHAPES.values(), ids=SHAPES.keys())
def test_serialize_accepts_every_event_shape(serialize: Callable[..., Any], event: dict[str, Any]) -> None:
    out = serialize(event, None)
    assert out["statusCode"] == 200
    assert out["body"] == {"image_data": PNG_B64, "s3_bucket": BUCKET, "s3_key": KEY, "inferences": [], "ood": None}
    assert json.loads(json.dumps(out)) == out  # the seeds returned bytes here, which Step Functions rejects


def test_serialize_missing_object(serialize: Callable[..., Any]) -> None:
    with pytest.raises(WorkflowError) as info:
        serialize(record(s3_key="data/test/bicycle/nope.png"), None)
    assert type(info.value).__name__ == "ImageNotFoundError"
    assert f"s3://{BUCKET}/data/test/bicycle/nope.png not found" in str(info.value)


def test_serialize_missing_bucket(serialize: Callable[..., Any]) -> None:
    with pytest.raises(WorkflowError) as info:
        serialize(record(s3_bucket="no-such-bucket-here"), None)
    assert type(info.value).__name__ == "ImageNotFoundError"
    assert "bucket does not exist" in str(info.value)


@pytest.fixture
def stubbed_s3(serialize: Callable[..., Any]) -> Iterator[Stubber]:
    """The handler's own S3 client, answering what a test queues (S3's real error shapes)."""
    with Stubber(lambda_common.runtime.client("s3")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def test_serialize_access_denied_is_image_not_found(serialize: Callable[..., Any], stubbed_s3: Stubber) -> None:
    # Without s3:ListBucket (this function's role has only s3:GetObject) S3 answers a GetObject
    # of a missing key with 403 AccessDenied, not 404 NoSuchKey.
    stubbed_s3.add_client_error(
        "get_object", service_error_code="AccessDenied", service_message="Access Denied", http_status_code=403
    )
    with pytest.raises(WorkflowError) as info:
        serialize(record(s3_key="data/test/bicycle/nope.png"), None)
    assert type(info.value).__name__ == "ImageNotFoundError"
    message = str(info.value)
    assert f"object 'data/test/bicycle/nope.png' in bucket '{BUCKET}'" in message
    assert "missing or not readable by this function" in message
    assert "AccessDenied" in message


def test_serialize_access_denied_by_bucket_policy(serialize: Callable[..., Any], s3_bucket: Any) -> None:
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/data/test/*",
    }
    s3_bucket.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    with pytest.raises(WorkflowError) as info:
        serialize(record(), None)
    assert type(info.value).__name__ == "ImageNotFoundError"
    assert "not readable by this function" in str(info.value)


def test_serialize_other_s3_errors_are_named(serialize: Callable[..., Any], stubbed_s3: Stubber) -> None:
    stubbed_s3.add_client_error(
        "get_object", service_error_code="SlowDown", service_message="Reduce your request rate.", http_status_code=503
    )
    with pytest.raises(WorkflowError) as info:
        serialize(record(), None)
    assert type(info.value).__name__ == "ImageReadError"
    assert str(info.value) == f"could not read s3://{BUCKET}/{KEY}: SlowDown: Reduce your request rate."


def test_serialize_network_errors_are_named(serialize: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://s3.amazonaws.com")

    monkeypatch.setattr(lambda_common.runtime.client("s3"), "get_object", unreachable)
    with pytest.raises(WorkflowError) as info:
        serialize(record(), None)
    assert type(info.value).__name__ == "ImageReadError"
    assert f"could not read s3://{BUCKET}/{KEY}: Could not connect" in str(info.value)


def test_serialize_rejects_non_images(serialize: Callable[..., Any], s3_bucket: Any) -> None:
    s3_bucket.put_object(Bucket=BUCKET, Key="data/test/notes.txt", Body=b"hello, not an image")
    with pytest.raises(WorkflowError) as info:
        serialize(record(s3_key="data/test/notes.txt"), None)
    assert type(info.value).__name__ == "InvalidImageError"
    assert "notes.txt is not a PNG or JPEG" in str(info.value)


def test_serialize_rejects_images_too_large_for_a_state(serialize: Callable[..., Any], s3_bucket: Any) -> None:
    s3_bucket.put_object(Bucket=BUCKET, Key="data/big.png", Body=PNG[:8] + b"\0" * 400_000)
    with pytest.raises(WorkflowError) as info:
        serialize(record(s3_key="data/big.png"), None)
    assert type(info.value).__name__ == "InvalidImageError"
    assert "fit in a state payload" in str(info.value)


def test_serialize_accepts_jpeg(serialize: Callable[..., Any], s3_bucket: Any) -> None:
    s3_bucket.put_object(Bucket=BUCKET, Key="data/x.jpg", Body=jpeg_bytes())
    out = serialize(record(s3_key="data/x.jpg"), None)
    assert base64.b64decode(out["body"]["image_data"]) == jpeg_bytes()


BAD_EVENTS = {
    "not an object": (["s3_key"], "must be a JSON object"),
    "no keys": ({"foo": 1}, "no s3_bucket/s3_key"),
    "missing key": ({"s3_bucket": BUCKET}, "missing 's3_key'"),
    "key not a string": ({"s3_bucket": BUCKET, "s3_key": 7}, "'s3_key' must be a string"),
    "empty bucket": ({"s3_bucket": "", "s3_key": KEY}, "'s3_bucket' must not be empty"),
    "body not json": ({"body": "{oops"}, "not JSON"),
    "image_data not a string": ({**SEED_EVENT, "image_data": 5}, "must be a base64 string"),
}


@pytest.mark.parametrize(("event", "message"), BAD_EVENTS.values(), ids=BAD_EVENTS.keys())
def test_bad_events_are_invalid_event_errors(serialize: Callable[..., Any], event: Any, message: str) -> None:
    with pytest.raises(WorkflowError) as info:
        serialize(event, None)
    assert type(info.value).__name__ == "InvalidEventError"
    assert message in str(info.value)


def test_logs_are_json_lines(serialize: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    serialize(SEED_EVENT, None)
    with pytest.raises(WorkflowError):
        serialize(record(s3_key="data/missing.png"), None)
    ok, failed = log_lines(capsys)
    assert ok["function"] == "serialize_image" and ok["outcome"] == "ok" and ok["s3_key"] == KEY
    assert isinstance(ok["duration_ms"], float)
    assert failed["outcome"] == "error" and failed["error"] == "ImageNotFoundError"
    assert failed["s3_key"] == "data/missing.png"


# ---------------------------------------------------------------- classify_image


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto's InvokeEndpoint decodes the body as UTF-8 (and fails on PNG bytes) and answers canned
    text; replace its response handler with one that records the raw request and answers what
    the test configures."""
    state: dict[str, Any] = {"requests": [], "status": 200, "body": json.dumps([0.97, 0.03]), "refuses": ()}

    def invoke_endpoint(self: SageMakerRuntimeResponse) -> tuple[int, dict[str, str], str]:
        name = self.path.split("/")[2]
        headers_in = {k.lower(): v for k, v in self.headers.items()}
        state["requests"].append({"endpoint": name, "body": self.raw_body, "headers": headers_in})
        if headers_in.get("accept") in state["refuses"]:
            # What SageMaker answers when the model's output_fn raises: ModelError, the container's 500 inside.
            error = {
                "__type": "ModelError",
                "message": "Received server error (500) from primary",
                "OriginalStatusCode": 500,
            }
            return 424, {"Content-Type": "application/json", "status": "424"}, json.dumps(error)
        if state["status"] != 200:
            error = {"__type": "ValidationError", "message": f"Endpoint {name} of account 123456789012 not found."}
            headers = {"Content-Type": "application/json", "status": str(state["status"])}
            return state["status"], headers, json.dumps(error)
        return 200, {"Content-Type": "application/json"}, state["body"]

    monkeypatch.setattr(SageMakerRuntimeResponse, "use_raw_body", True)
    monkeypatch.setattr(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint)
    monkeypatch.setenv("ENDPOINT_NAME", "scones-endpoint")
    with mock_aws():
        yield state


@pytest.fixture
def classify(endpoint: dict[str, Any]) -> Callable[..., Any]:
    return load_app("classify_image").handler


def test_classify_sends_image_bytes_and_returns_floats(classify: Callable[..., Any], endpoint: dict[str, Any]) -> None:
    out = classify({"statusCode": 200, "body": record(image_data=PNG_B64)}, None)
    assert out["body"]["inferences"] == [0.97, 0.03]
    assert out["body"]["image_data"] == PNG_B64
    assert json.loads(json.dumps(out)) == out
    (request,) = endpoint["requests"]
    assert request["endpoint"] == "scones-endpoint"
    assert request["body"] == PNG
    assert request["headers"]["content-type"] == "image/png"
    assert request["headers"]["x-amzn-sagemaker-inference-id"] == KEY  # ground truth for monitoring


def test_classify_detects_jpeg(classify: Callable[..., Any], endpoint: dict[str, Any]) -> None:
    classify(record(image_data=base64.b64encode(jpeg_bytes()).decode()), None)
    assert endpoint["requests"][0]["headers"]["content-type"] == "image/jpeg"


def test_classify_inference_id_keeps_the_key_tail(endpoint: dict[str, Any]) -> None:
    long_key = "a/" * 60 + "motorcycle/bike s_000035.png"
    assert lambda_common.endpoint.inference_id(long_key) == ("a/" * 60 + "motorcycle/bike_s_000035.png")[-64:]
    assert len(lambda_common.endpoint.inference_id(long_key)) == 64


def test_classify_inference_id_is_printable_ascii_as_the_api_requires() -> None:
    # \p{Print} in the API's pattern is Java's printable ASCII: "é" and a no-break space are not in it.
    for key in ("bicycle/vélo 1.png", "motorcycle/\u00a0moto\tbike.png", " leading.png", "ünïcödé"):
        assert re.fullmatch(r"[!-~][ -~]{0,63}", lambda_common.endpoint.inference_id(key)), key
    assert lambda_common.endpoint.inference_id("bicycle/vélo 1.png") == "bicycle/v_lo_1.png"


def test_classify_endpoint_error(classify: Callable[..., Any], endpoint: dict[str, Any]) -> None:
    endpoint["status"] = 400
    with pytest.raises(WorkflowError) as info:
        classify(record(image_data=PNG_B64), None)
    assert type(info.value).__name__ == "EndpointInvocationError"
    assert "'scones-endpoint'" in str(info.value) and "not found" in str(info.value) and KEY in str(info.value)


def test_classify_unreachable_endpoint(endpoint: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import EndpointConnectionError

    def refuse(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://runtime.sagemaker.us-east-1.amazonaws.com")

    app = load_app("classify_image")
    monkeypatch.setattr(lambda_common.endpoint.endpoint_client(), "invoke_endpoint", refuse)
    with pytest.raises(WorkflowError) as info:
        app.handler(record(image_data=PNG_B64), None)
    assert type(info.value).__name__ == "EndpointInvocationError"
    assert "unreachable" in str(info.value) and KEY in str(info.value)
    assert endpoint["requests"] == []


@pytest.fixture
def silent_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """An endpoint that accepts connections and never answers (a hung model): the times it was called."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    calls: list[float] = []  # when each connection came
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            calls.append(time.monotonic())
            held.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", f"http://127.0.0.1:{server.getsockname()[1]}")
    monkeypatch.setenv("ENDPOINT_NAME", "scones-endpoint")
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "t"),
        ("AWS_SECRET_ACCESS_KEY", "t"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    yield calls
    server.close()
    for connection in held:
        connection.close()


def test_a_hung_model_is_an_endpoint_error_within_the_functions_timeout(
    silent_endpoint: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = load_app("classify_image")
    # The production budget is 2 x (2 s + 11 s); scaled down here, the same config path.
    monkeypatch.setattr(lambda_common.endpoint, "ENDPOINT_READ_TIMEOUT", 0.3)
    with pytest.raises(WorkflowError) as info:
        app.handler(record(image_data=PNG_B64), None)
    assert type(info.value).__name__ == "EndpointInvocationError"
    assert "Read timeout" in str(info.value) and KEY in str(info.value)
    # One retry, then the error: what ENDPOINT_ATTEMPTS promises, and no more.
    assert len(silent_endpoint) == lambda_common.endpoint.ENDPOINT_ATTEMPTS == 2


def test_warm_invocations_reuse_one_client(
    classify: Callable[..., Any], endpoint: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like Lambda's warm containers: the client is built on the first invocation only."""
    created: list[str] = []
    real = boto3.client

    def counting(service: str, *args: Any, **kwargs: Any) -> Any:
        created.append(service)
        return real(service, *args, **kwargs)

    lambda_common.runtime.client.cache_clear()
    monkeypatch.setattr(boto3, "client", counting)
    for _ in range(3):
        assert classify(record(image_data=PNG_B64), None)["body"]["inferences"] == [0.97, 0.03]
    assert created == ["sagemaker-runtime"]
    assert len(endpoint["requests"]) == 3


def test_classify_without_image_data(classify: Callable[..., Any]) -> None:
    with pytest.raises(WorkflowError) as info:
        classify(record(), None)
    assert type(info.value).__name__ == "InvalidImageError"
    assert "run SerializeImage first" in str(info.value)


def test_classify_bad_base64(classify: Callable[..., Any]) -> None:
    with pytest.raises(WorkflowError) as info:
        classify(record(image_data="not base64!!"), None)
    assert type(info.value).__name__ == "InvalidImageError"


def test_classify_without_endpoint_name(classify: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENDPOINT_NAME")
    with pytest.raises(WorkflowError) as info:
        classify(record(image_data=PNG_B64), None)
    assert type(info.value).__name__ == "ConfigurationError"


MALFORMED = {
    "empty list": ("[]", "are empty"),
    "not a list": ('"bicycle"', "must be a list"),
    "an object of another shape": ('{"p": 1}', "object without probabilities"),
    "non-numeric": ('["a", 0.5]', "not a number"),
    "boolean": ("[true, 0.5]", "not a number"),
    "NaN": ("[NaN, 0.5]", "is nan"),
    "above one": ("[1.5, 0.1]", "outside [0, 1]"),
    "negative": ("[-0.1, 0.1]", "outside [0, 1]"),
    "not JSON": ("bicycle", "non-JSON"),
}


@pytest.mark.parametrize(("body", "message"), MALFORMED.values(), ids=MALFORMED.keys())
def test_classify_rejects_malformed_inferences(
    classify: Callable[..., Any], endpoint: dict[str, Any], body: str, message: str
) -> None:
    endpoint["body"] = body
    with pytest.raises(WorkflowError) as info:
        classify(record(image_data=PNG_B64), None)
    assert type(info.value).__name__ == "InvalidInferencesError"
    assert message in str(info.value)


def test_classify_accepts_a_batch_of_one(classify: Callable[..., Any], endpoint: dict[str, Any]) -> None:
    endpoint["body"] = "[[0.2, 0.8]]"
    assert classify(record(image_data=PNG_B64), None)["body"]["inferences"] == [0.2, 0.8]


PREDICTION_TYPE = "application/vnd.scones.prediction+json"
ANSWERS = {
    "flagged": (
        {"probabilities": [0.99, 0.01], "in_distribution": -3.5, "out_of_distribution": True},
        {"score": -3.5, "flagged": True, "checked": True},
    ),
    "in distribution": (
        {"probabilities": [0.99, 0.01], "in_distribution": 2.25, "out_of_distribution": False},
        {"score": 2.25, "flagged": False, "checked": True},
    ),
    "no fitted guard": (
        {"probabilities": [0.99, 0.01], "in_distribution": None, "out_of_distribution": False},
        {"score": None, "flagged": False, "checked": False},
    ),
    "sanity check, no score": (
        {"probabilities": [0.99, 0.01], "in_distribution": None, "out_of_distribution": True},
        {"score": None, "flagged": True, "checked": True},
    ),
    "batch of one": (
        [{"probabilities": [0.99, 0.01], "in_distribution": 1.0, "out_of_distribution": False}],
        {"score": 1.0, "flagged": False, "checked": True},
    ),
    "plain list": ([0.99, 0.01], {"score": None, "flagged": False, "checked": False}),
}


@pytest.mark.parametrize(("answer", "ood"), ANSWERS.values(), ids=ANSWERS.keys())
def test_classify_asks_for_the_full_answer_and_reads_both_forms(
    classify: Callable[..., Any], endpoint: dict[str, Any], answer: Any, ood: dict[str, Any]
) -> None:
    endpoint["body"] = json.dumps(answer)
    body = classify(record(image_data=PNG_B64), None)["body"]
    assert (body["inferences"], body["ood"]) == ([0.99, 0.01], ood)
    assert endpoint["requests"][0]["headers"]["accept"] == PREDICTION_TYPE


def test_classify_asks_the_built_in_algorithm_for_plain_json(
    classify: Callable[..., Any], endpoint: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("ENDPOINT_ACCEPT", "application/json")
    body = classify(record(image_data=PNG_B64), None)["body"]
    assert body["ood"] == {"score": None, "flagged": False, "checked": False}
    assert [r["headers"]["accept"] for r in endpoint["requests"]] == ["application/json"]
    assert any(line.get("ood") == "not checked" for line in log_lines(capsys))
    monkeypatch.setenv("ENDPOINT_ACCEPT", "application/jsonlines")
    with pytest.raises(WorkflowError) as info:
        classify(record(image_data=PNG_B64), None)
    assert type(info.value).__name__ == "ConfigurationError" and "ENDPOINT_ACCEPT" in str(info.value)


def test_an_artifact_that_refuses_the_full_answer_is_asked_for_plain_json(
    classify: Callable[..., Any], endpoint: dict[str, Any], capsys: Any
) -> None:
    endpoint["refuses"] = (PREDICTION_TYPE,)
    body = classify(record(image_data=PNG_B64), None)["body"]
    assert (body["inferences"], body["ood"]["checked"]) == ([0.97, 0.03], False)
    assert [r["headers"]["accept"] for r in endpoint["requests"]] == [PREDICTION_TYPE, "application/json"]
    assert [line["level"] for line in log_lines(capsys) if line.get("refused")] == ["WARNING"]
    # A model that fails whatever it is asked still ends in the named error.
    endpoint["refuses"] = (PREDICTION_TYPE, "application/json")
    with pytest.raises(WorkflowError) as info:
        classify(record(image_data=PNG_B64), None)
    assert type(info.value).__name__ == "EndpointInvocationError" and "ModelError" in str(info.value)


def test_a_refusal_too_late_for_a_second_call_is_an_endpoint_error(
    endpoint: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = load_app("classify_image")
    # Both calls must end inside the function's timeout: a refusal after the allowance is not retried.
    monkeypatch.setattr(lambda_common.endpoint, "REFUSAL_FALLBACK_MAX_SECONDS", 0.0)
    endpoint["refuses"] = (PREDICTION_TYPE,)
    with pytest.raises(WorkflowError) as info:
        app.handler(record(image_data=PNG_B64), None)
    assert type(info.value).__name__ == "EndpointInvocationError"
    assert len(endpoint["requests"]) == 1


MALFORMED_ANSWERS = {
    "no out_of_distribution": ({"probabilities": [0.5, 0.5], "in_distribution": 1.0}, "without probabilities"),
    "flag not a bool": (
        {"probabilities": [0.5, 0.5], "in_distribution": 1.0, "out_of_distribution": "no"},
        "true or false",
    ),
    "score not a number": (
        {"probabilities": [0.5, 0.5], "in_distribution": "high", "out_of_distribution": False},
        "finite number",
    ),
    "bad probabilities": (
        {"probabilities": [1.5, 0.5], "in_distribution": 1.0, "out_of_distribution": False},
        "outside [0, 1]",
    ),
}


@pytest.mark.parametrize(("answer", "message"), MALFORMED_ANSWERS.values(), ids=MALFORMED_ANSWERS.keys())
def test_classify_rejects_malformed_full_answers(
    classify: Callable[..., Any], endpoint: dict[str, Any], answer: Any, message: str
) -> None:
    endpoint["body"] = json.dumps(answer)
    with pytest.raises(WorkflowError) as info:
        classify(record(image_data=PNG_B64), None)
    assert type(info.value).__name__ == "InvalidInferencesError" and message in str(info.value)


# ---------------------------------------------------------------- filter_low_confidence


@pytest.fixture
def filter_handler(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    monkeypatch.delenv("THRESHOLD", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "scones-filter")
    return load_app("filter_low_confidence").handler


@pytest.mark.parametrize("top", [0.93, 0.9300001, 1.0])
def test_filter_passes_at_or_above_threshold(filter_handler: Callable[..., Any], top: float) -> None:
    event = {"statusCode": 200, "body": record(image_data=PNG_B64, inferences=[1 - top, top], ood=IN_DISTRIBUTION)}
    out = filter_handler(event, None)
    assert out == {"statusCode": 200, "body": event["body"]}


@pytest.mark.parametrize("top", [0.9299999, 0.5])
def test_filter_raises_below_threshold(filter_handler: Callable[..., Any], top: float) -> None:
    with pytest.raises(WorkflowError) as info:
        filter_handler(record(inferences=[top, 1 - top]), None)
    assert type(info.value).__name__ == "ThresholdConfidenceNotMetError"
    # Lambda's errorMessage is str(exception): a JSON object whose details need no parsing of prose.
    details = json.loads(str(info.value))
    assert details == {
        "message": f"top probability {1 - top if top < 0.5 else top:.4f} < threshold 0.93 for s3://{BUCKET}/{KEY}",
        "confidence": max(top, 1 - top),
        "threshold": 0.93,
        "inferences": [top, 1 - top],
        "s3_bucket": BUCKET,
        "s3_key": KEY,
    }


IN_DISTRIBUTION = {"score": 2.0, "flagged": False, "checked": True}
FLAGGED = {"score": -4.0, "flagged": True, "checked": True}
NOT_CHECKED = {"score": None, "flagged": False, "checked": False}


@pytest.mark.parametrize("top", [0.999, 0.5])
def test_filter_rejects_a_flagged_image_before_the_threshold(filter_handler: Callable[..., Any], top: float) -> None:
    with pytest.raises(WorkflowError) as info:
        filter_handler(record(inferences=[top, 1 - top], ood=FLAGGED), None)
    # Flagged and below the threshold too: still the out-of-distribution rejection, checked first.
    assert type(info.value).__name__ == "OutOfDistributionError"
    details = json.loads(str(info.value))
    assert details == {
        "message": f"the model's guard flagged s3://{BUCKET}/{KEY} as unlike its training images "
        f"(score -4.0000; top probability {top:.4f})",
        "score": -4.0,
        "inferences": [top, 1 - top],
        "s3_bucket": BUCKET,
        "s3_key": KEY,
    }


@pytest.mark.parametrize("ood", [None, NOT_CHECKED], ids=["no ood", "not checked"])
def test_filter_without_a_verdict_applies_the_threshold_and_says_so(
    filter_handler: Callable[..., Any], capsys: pytest.CaptureFixture[str], ood: dict[str, Any] | None
) -> None:
    out = filter_handler(record(inferences=[0.99, 0.01], ood=ood), None)
    assert out["body"]["ood"] == ood
    with pytest.raises(WorkflowError) as info:
        filter_handler(record(inferences=[0.6, 0.4], ood=ood), None)
    assert type(info.value).__name__ == "ThresholdConfidenceNotMetError"
    lines = log_lines(capsys)
    assert [line["ood"] for line in lines if "ood" in line] == ["not checked", "not checked"]
    assert [line["OutOfDistribution"] for line in lines if "_aws" in line] == [0, 0]


MALFORMED_OOD = {
    "not an object": ("yes", "must be an object"),
    "missing checked": ({"score": 1.0, "flagged": False}, "missing checked"),
    "flag not a bool": ({"score": 1.0, "flagged": 1, "checked": True}, "true or false"),
    "infinite score": ({"score": float("inf"), "flagged": False, "checked": True}, "finite number"),
    "flagged unchecked": ({"score": None, "flagged": True, "checked": False}, "flagged but not checked"),
}


@pytest.mark.parametrize(("ood", "message"), MALFORMED_OOD.values(), ids=MALFORMED_OOD.keys())
def test_filter_names_a_malformed_verdict(filter_handler: Callable[..., Any], ood: Any, message: str) -> None:
    with pytest.raises(WorkflowError) as info:
        filter_handler(record(inferences=[0.99, 0.01], ood=ood), None)
    assert type(info.value).__name__ == "InvalidInferencesError" and message in str(info.value)


def test_errors_without_details_keep_a_plain_message() -> None:
    from lambda_common.errors import ImageNotFoundError

    assert str(ImageNotFoundError("s3://b/k not found")) == "s3://b/k not found"


def test_filter_threshold_from_environment(filter_handler: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THRESHOLD", "0.6")
    assert filter_handler(record(inferences=[0.65, 0.35]), None)["statusCode"] == 200
    monkeypatch.setenv("THRESHOLD", "1.5")
    with pytest.raises(WorkflowError) as info:
        filter_handler(record(inferences=[0.65, 0.35]), None)
    assert type(info.value).__name__ == "ConfigurationError"


@pytest.mark.parametrize(
    ("event", "where"),
    [
        ({"inferences": [0.2, 0.8]}, "an image with no S3 location"),
        ({"Payload": {"statusCode": 200, "body": {"inferences": [0.2, 0.8]}}}, "an image with no S3 location"),
        ({"body": json.dumps({"s3_key": KEY, "inferences": [0.2, 0.8]})}, f"key {KEY!r}"),
        ({"s3_bucket": None, "s3_key": None, "inferences": [0.2, 0.8]}, "an image with no S3 location"),
    ],
    ids=["bare", "lambda-invoke-result", "key-only", "nulls"],
)
def test_filter_judges_any_event_that_carries_inferences(
    filter_handler: Callable[..., Any], event: dict[str, Any], where: str
) -> None:
    with pytest.raises(WorkflowError) as info:
        filter_handler(event, None)
    details = json.loads(str(info.value))
    assert details["message"] == f"top probability 0.8000 < threshold 0.93 for {where}"
    assert (details["confidence"], details["inferences"]) == (0.8, [0.2, 0.8])
    assert filter_handler({"inferences": [0.01, 0.99]}, None)["body"]["inferences"] == [0.01, 0.99]


def test_only_the_filter_does_without_the_s3_location(filter_handler: Callable[..., Any], endpoint: Any) -> None:
    with pytest.raises(WorkflowError, match="'s3_key' must be a string, got int"):
        filter_handler({"s3_key": 7, "inferences": [0.2, 0.8]}, None)
    for function in ("serialize_image", "classify_image"):
        with pytest.raises(WorkflowError, match="event is missing 's3_bucket'") as info:
            load_app(function).handler({"inferences": [0.2, 0.8], "image_data": PNG_B64}, None)
        assert type(info.value).__name__ == "InvalidEventError"


def test_filter_without_inferences(filter_handler: Callable[..., Any]) -> None:
    with pytest.raises(WorkflowError) as info:
        filter_handler(record(), None)
    assert type(info.value).__name__ == "InvalidInferencesError"
    assert "run ClassifyImage first" in str(info.value)


def test_filter_rejects_nan_inferences(filter_handler: Callable[..., Any]) -> None:
    with pytest.raises(WorkflowError) as info:
        filter_handler(record(inferences=[float("nan"), 0.5]), None)
    assert type(info.value).__name__ == "InvalidInferencesError"


def test_filter_emits_embedded_metrics(filter_handler: Callable[..., Any], capsys: pytest.CaptureFixture[str]) -> None:
    filter_handler(record(inferences=[0.99, 0.01], ood=IN_DISTRIBUTION), None)
    for inferences, ood in (([0.6, 0.4], IN_DISTRIBUTION), ([0.6, 0.4], FLAGGED), ([0.99, 0.01], FLAGGED)):
        with pytest.raises(WorkflowError):
            filter_handler(record(inferences=inferences, ood=ood), None)
    metrics = [line for line in log_lines(capsys) if "_aws" in line]
    # Each rejection is counted once, under its own reason: their sum is the filter's errors.
    assert [(m["LowConfidence"], m["OutOfDistribution"]) for m in metrics] == [(0, 0), (1, 0), (0, 1), (0, 1)]
    assert [m["Confidence"] for m in metrics] == [0.99, 0.6, 0.6, 0.99]
    directive = metrics[0]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "SconesUnlimited"
    assert directive["Dimensions"] == [["FunctionName"]]
    assert {m["Name"] for m in directive["Metrics"]} >= {"LowConfidence", "OutOfDistribution", "Predictions"}
    assert metrics[0]["FunctionName"] == "scones-filter" and metrics[0]["Predictions"] == 1


# ---------------------------------------------------------------- LOG_LEVEL, shared by every function


def test_log_level_filters_log_lines_but_never_metrics(
    filter_handler: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    filter_handler(record(inferences=[0.99, 0.01]), None)
    with pytest.raises(WorkflowError):
        filter_handler(record(inferences=[0.6, 0.4]), None)
    lines = log_lines(capsys)
    assert [line["LowConfidence"] for line in lines if "_aws" in line] == [0, 1]
    logs = [line for line in lines if "_aws" not in line]
    assert [(line["level"], line["outcome"]) for line in logs] == [("ERROR", "error")]

    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    filter_handler(record(inferences=[0.99, 0.01], ood=IN_DISTRIBUTION), None)
    logs = [line for line in log_lines(capsys) if "_aws" not in line]
    assert [line["level"] for line in logs] == ["DEBUG", "INFO"]
    # The event's shape is logged at DEBUG, never its image.
    assert logs[0]["event_keys"] == ["image_data", "inferences", "ood", "s3_bucket", "s3_key"]


def test_an_invalid_log_level_is_a_configuration_error(
    filter_handler: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "VERBOSE")
    with pytest.raises(WorkflowError) as info:
        filter_handler(record(inferences=[0.99, 0.01]), None)
    assert type(info.value).__name__ == "ConfigurationError" and "LOG_LEVEL='VERBOSE'" in str(info.value)
    # ... and that error is itself logged.
    assert [line["error"] for line in log_lines(capsys)] == ["ConfigurationError"]
