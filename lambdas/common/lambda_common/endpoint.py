"""Calling the SageMaker endpoint: ClassifyImage's one image per call, and the batch chunk's many.

Shared so that both callers get the same client settings, InferenceId, fallback and named errors.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import time
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lambda_common.errors import (
    ConfigurationError,
    EndpointInvocationError,
    InvalidInferencesError,
    aws_error_code,
    describe_aws_error,
)
from lambda_common.logs import log
from lambda_common.predictions import BATCH_MEDIA_TYPE, PLAIN_MEDIA_TYPE, PREDICTION_MEDIA_TYPE
from lambda_common.runtime import client

# InvokeEndpoint's InferenceId: 1 to 64 characters matching \A\S[\p{Print}]*\z, where \p{Print} is the
# Java regex class of printable ASCII (https://docs.aws.amazon.com/sagemaker/latest/APIReference/
# API_runtime_InvokeEndpoint.html). The key's tail keeps the class folder and file name, which is what
# monitoring needs to recover the ground truth; anything else (spaces, non-ASCII letters) becomes "_".
_INFERENCE_ID_MAX = 64


# The endpoint call ends, answered or failed, inside the function's timeout (30 s, the stack's `functions`
# map; tests/terraform/test_plans.py checks the two agree), so a slow or silent model is an
# EndpointInvocationError the state machine retries and reports, not a Lambda timeout without a cause.
# boto3's defaults (60 s connect, 60 s read, legacy retries) would outlast it several times over. Worst case:
# ENDPOINT_ATTEMPTS x (connect + read), plus the standard mode's backoff before the one retry (under 1 s);
# or a refusal of the full answer (below) followed by one plain-JSON attempt.
# https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
ENDPOINT_CONNECT_TIMEOUT = 2.0
ENDPOINT_READ_TIMEOUT = 11.0
ENDPOINT_ATTEMPTS = 2

# What the function asks the endpoint for (ENDPOINT_ACCEPT, set by Terraform from the model image): the full
# answer from the project's own serving code, plain JSON from the built-in image-classification algorithm,
# whose documented response types are application/json and application/jsonlines only.
ACCEPT_TYPES = (PREDICTION_MEDIA_TYPE, PLAIN_MEDIA_TYPE)
# An artifact built before the full answer existed refuses its media type (its output_fn raises: ModelError),
# and one built before batch requests refuses theirs (its input_fn raises). That happens for minutes in every
# upgrade, while the endpoint still serves the old artifact and the new function is live, and for as long as
# an artifact older than the stack serves. The full answer then falls back to plain JSON (the verdict: not
# checked), in one attempt; a batch to one request per image (ClassifyChunk). Only after a refusal that came
# soon enough for the fallback to end inside the function's timeout.
NEWER_MEDIA_TYPES = (PREDICTION_MEDIA_TYPE, BATCH_MEDIA_TYPE)
REFUSAL_FALLBACK_MAX_SECONDS = 14.0
ENDPOINT_WORST_CASE_SECONDS = max(
    ENDPOINT_ATTEMPTS * (ENDPOINT_CONNECT_TIMEOUT + ENDPOINT_READ_TIMEOUT) + 1.0,
    REFUSAL_FALLBACK_MAX_SECONDS + ENDPOINT_CONNECT_TIMEOUT + ENDPOINT_READ_TIMEOUT,
)
# A batch: its one request, or a quick refusal and then every image's own request, all at once.
BATCH_WORST_CASE_SECONDS = max(
    ENDPOINT_ATTEMPTS * (ENDPOINT_CONNECT_TIMEOUT + ENDPOINT_READ_TIMEOUT) + 1.0,
    REFUSAL_FALLBACK_MAX_SECONDS + ENDPOINT_WORST_CASE_SECONDS,
)


@functools.cache
def endpoint_client(attempts: int = ENDPOINT_ATTEMPTS) -> Any:
    config = Config(
        connect_timeout=ENDPOINT_CONNECT_TIMEOUT,
        read_timeout=ENDPOINT_READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": attempts},
    )
    return client("sagemaker-runtime", config)


def endpoint_name() -> str:
    name = os.environ.get("ENDPOINT_NAME", "").strip()
    if not name:
        raise ConfigurationError("ENDPOINT_NAME is not set")
    return name


def accept_type() -> str:
    accept = os.environ.get("ENDPOINT_ACCEPT", "").strip() or PREDICTION_MEDIA_TYPE
    if accept not in ACCEPT_TYPES:
        raise ConfigurationError(f"ENDPOINT_ACCEPT={accept!r} must be one of {', '.join(ACCEPT_TYPES)}")
    return accept


def inference_id(s3_key: str) -> str:
    printable = "".join(ch if "!" <= ch <= "~" else "_" for ch in s3_key)
    return printable[-_INFERENCE_ID_MAX:] or "unnamed"


class MediaTypeRefused(Exception):
    """The model failed at once when asked for the full answer or sent a batch: an artifact that predates it."""


def _invoke(runtime: Any, endpoint: str, data: bytes, content_type: str, accept: str, s3_key: str, where: str) -> bytes:
    started = time.monotonic()
    try:
        response = runtime.invoke_endpoint(
            EndpointName=endpoint,
            ContentType=content_type,
            Accept=accept,
            Body=data,
            InferenceId=inference_id(s3_key),
        )
        return bytes(response["Body"].read())
    except ClientError as exc:
        quick = time.monotonic() - started < REFUSAL_FALLBACK_MAX_SECONDS
        if accept in NEWER_MEDIA_TYPES and aws_error_code(exc) == "ModelError" and quick:
            raise MediaTypeRefused(describe_aws_error(exc)) from None
        raise EndpointInvocationError(f"endpoint {endpoint!r} failed for {where}: {describe_aws_error(exc)}") from None
    except BotoCoreError as exc:
        raise EndpointInvocationError(f"endpoint {endpoint!r} unreachable for {where}: {exc}") from None


def _json(payload: bytes, endpoint: str, where: str) -> Any:
    try:
        return json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInferencesError(
            f"endpoint {endpoint!r} answered {where} with non-JSON: {payload[:80]!r}"
        ) from None


def ask(
    data: bytes, content_type: str, *, s3_key: str, where: str, function: str = "classify_image"
) -> tuple[Any, str]:
    """(the endpoint's parsed JSON answer for one image, the Accept it answered)."""
    endpoint = endpoint_name()
    accept = accept_type()
    try:
        payload = _invoke(endpoint_client(), endpoint, data, content_type, accept, s3_key, where)
    except MediaTypeRefused as refused:
        log("WARNING", function=function, s3_key=s3_key, refused=accept, error=str(refused))
        accept = PLAIN_MEDIA_TYPE
        payload = _invoke(endpoint_client(1), endpoint, data, content_type, accept, s3_key, where)
    return _json(payload, endpoint, where), accept


# A refusal of batch requests is remembered by the sandbox for this long: SageMaker counts each refusal in the
# endpoint's Invocation5XXErrors (a rollback alarm's metric), so a batch over an old artifact refuses once per
# warm sandbox every few minutes, not once per chunk; a release of a newer artifact is used within that time.
BATCH_REFUSAL_MEMORY_SECONDS = 300.0
batch_refused_until: dict[str, float] = {}


def ask_batch(data: list[bytes], *, first_key: str, where: str) -> list[Any]:
    """The endpoint's answer for several images in one call (BATCH_MEDIA_TYPE, the project's serving code
    only): one JSON value per image, in order. A failure is an EndpointInvocationError for all of them;
    MediaTypeRefused when the artifact predates batch requests, or refused them lately (the caller asks image by
    image instead)."""
    endpoint = endpoint_name()
    where = f"a batch of {len(data)} images ({where})"
    if time.monotonic() < batch_refused_until.get(endpoint, 0.0):
        raise MediaTypeRefused(
            f"endpoint {endpoint!r} refused a batch request in the last {BATCH_REFUSAL_MEMORY_SECONDS:.0f} s"
        )
    body = json.dumps([base64.b64encode(image).decode("ascii") for image in data]).encode()
    try:
        payload = _invoke(endpoint_client(), endpoint, body, BATCH_MEDIA_TYPE, BATCH_MEDIA_TYPE, first_key, where)
    except MediaTypeRefused:
        batch_refused_until[endpoint] = time.monotonic() + BATCH_REFUSAL_MEMORY_SECONDS
        raise
    answer = _json(payload, endpoint, where)
    if not isinstance(answer, list) or len(answer) != len(data):
        raise InvalidInferencesError(f"endpoint {endpoint!r} answered {where} with other than a list of {len(data)}")
    return answer
