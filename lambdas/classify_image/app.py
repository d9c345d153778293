"""ClassifyImage: send the decoded image to the SageMaker endpoint and attach its probabilities."""

from __future__ import annotations

import functools
import json
import os
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lambda_common import images
from lambda_common.errors import (
    ConfigurationError,
    EndpointInvocationError,
    InvalidInferencesError,
    describe_aws_error,
)
from lambda_common.events import ImageRecord, validate_inferences
from lambda_common.runtime import client, make_handler

# InvokeEndpoint's InferenceId: 1 to 64 characters matching \A\S[\p{Print}]*\z, where \p{Print} is the
# Java regex class of printable ASCII (https://docs.aws.amazon.com/sagemaker/latest/APIReference/
# API_runtime_InvokeEndpoint.html). The key's tail keeps the class folder and file name, which is what
# monitoring needs to recover the ground truth; anything else (spaces, non-ASCII letters) becomes "_".
_INFERENCE_ID_MAX = 64


# The endpoint call ends, answered or failed, inside the function's timeout (30 s, the stack's `functions`
# map; tests/terraform/test_plans.py checks the two agree), so a slow or silent model is an
# EndpointInvocationError the state machine retries and reports, not a Lambda timeout without a cause.
# boto3's defaults (60 s connect, 60 s read, legacy retries) would outlast it several times over. Worst case:
# ENDPOINT_ATTEMPTS x (connect + read), plus the standard mode's backoff before the one retry (under 1 s).
# https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
ENDPOINT_CONNECT_TIMEOUT = 2.0
ENDPOINT_READ_TIMEOUT = 11.0
ENDPOINT_ATTEMPTS = 2
ENDPOINT_WORST_CASE_SECONDS = ENDPOINT_ATTEMPTS * (ENDPOINT_CONNECT_TIMEOUT + ENDPOINT_READ_TIMEOUT) + 1.0


@functools.cache
def endpoint_client() -> Any:
    config = Config(
        connect_timeout=ENDPOINT_CONNECT_TIMEOUT,
        read_timeout=ENDPOINT_READ_TIMEOUT,
        retries={"mode": "standard", "total_max_attempts": ENDPOINT_ATTEMPTS},
    )
    return client("sagemaker-runtime", config)


def _endpoint_name() -> str:
    name = os.environ.get("ENDPOINT_NAME", "").strip()
    if not name:
        raise ConfigurationError("ENDPOINT_NAME is not set for classify_image")
    return name


def inference_id(s3_key: str) -> str:
    printable = "".join(ch if "!" <= ch <= "~" else "_" for ch in s3_key)
    return printable[-_INFERENCE_ID_MAX:] or "unnamed"


def classify(record: ImageRecord) -> ImageRecord:
    where = record.location
    data = images.decode(record.image_data, where=where)
    content_type = images.content_type_of(data, where=where)
    endpoint = _endpoint_name()
    try:
        response = endpoint_client().invoke_endpoint(
            EndpointName=endpoint,
            ContentType=content_type,
            Accept="application/json",
            Body=data,
            InferenceId=inference_id(record.s3_key or ""),
        )
        payload = response["Body"].read()
    except ClientError as exc:
        raise EndpointInvocationError(f"endpoint {endpoint!r} failed for {where}: {describe_aws_error(exc)}") from None
    except BotoCoreError as exc:
        raise EndpointInvocationError(f"endpoint {endpoint!r} unreachable for {where}: {exc}") from None
    try:
        parsed = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInferencesError(
            f"endpoint {endpoint!r} answered {where} with non-JSON: {payload[:80]!r}"
        ) from None
    record.inferences = validate_inferences(parsed, where=where)
    return record


handler = make_handler("classify_image", classify)
