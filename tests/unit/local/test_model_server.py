"""sagemaker-runtime InvokeEndpoint on the local emulator: the artifact's own serving code, data capture."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from scones.local.server import LocalAWS
from tests.support.local_fixtures import client, deploy_endpoint, model_artifact, pid_alive, png

RED = (250, 10, 10)
BLUE = (10, 10, 250)


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


@pytest.fixture(scope="module")
def artifact() -> bytes:
    return model_artifact()


def _capture(bucket: str, percentage: int = 100, modes: tuple[str, ...] = ("Input", "Output")) -> dict[str, Any]:
    return {
        "EnableCapture": True,
        "InitialSamplingPercentage": percentage,
        "DestinationS3Uri": f"s3://{bucket}/data-capture",
        "CaptureOptions": [{"CaptureMode": mode} for mode in modes],
        # What the stack configures (terraform/modules/endpoint): without it SageMaker captures all base64.
        "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
    }


def _captured(url: str, bucket: str, endpoint: str) -> list[tuple[str, dict[str, Any]]]:
    s3 = client("s3", url)
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"data-capture/{endpoint}/").get("Contents", [])
    records = []
    for obj in listed:
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
        records.extend((obj["Key"], json.loads(line)) for line in body.splitlines() if line)
    return records


def _invoke(url: str, endpoint: str, body: bytes, **kwargs: Any) -> dict[str, Any]:
    return dict(
        client("sagemaker-runtime", url).invoke_endpoint(
            **{
                "EndpointName": endpoint,
                "Body": body,
                "ContentType": "image/png",
                "Accept": "application/json",
                **kwargs,
            }
        )
    )


def test_png_is_classified_by_the_artifacts_inference_code_and_captured(aws: LocalAWS, artifact: bytes) -> None:
    deploy_endpoint(aws.url, "capture-all", "classifier", artifact, _capture("capture-all"))
    image = png(RED)
    response = _invoke(aws.url, "classifier", image, InferenceId="data/test/bicycle/red.png")
    probabilities = json.loads(response["Body"].read())
    assert response["ContentType"] == "application/json"
    assert response["InvokedProductionVariant"] == "AllTraffic"
    assert probabilities[0] > 0.9 and abs(sum(probabilities) - 1) < 1e-6
    assert json.loads(_invoke(aws.url, "classifier", png(BLUE))["Body"].read())[1] > 0.9

    records = _captured(aws.url, "capture-all", "classifier")
    assert len(records) == 2
    key, record = next((k, r) for k, r in records if r["eventMetadata"].get("inferenceId"))
    assert re.fullmatch(
        r"data-capture/classifier/AllTraffic/\d{4}/\d{2}/\d{2}/\d{2}/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl", key
    )
    endpoint_input = record["captureData"]["endpointInput"]
    assert endpoint_input["observedContentType"] == "image/png"
    assert endpoint_input["mode"] == "INPUT"
    assert endpoint_input["encoding"] == "BASE64"
    assert base64.b64decode(endpoint_input["data"]) == image
    endpoint_output = record["captureData"]["endpointOutput"]
    assert endpoint_output["observedContentType"] == "application/json"
    assert endpoint_output["mode"] == "OUTPUT"
    assert endpoint_output["encoding"] == "JSON"
    assert json.loads(endpoint_output["data"]) == probabilities
    assert record["eventMetadata"]["inferenceId"] == "data/test/bicycle/red.png"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", record["eventMetadata"]["inferenceTime"])
    assert record["eventVersion"] == "0"


PREDICTION_TYPE = "application/vnd.scones.prediction+json"


def test_the_requests_accept_reaches_output_fn_and_its_answer_is_captured(aws: LocalAWS, artifact: bytes) -> None:
    """ClassifyImage's Accept goes through the emulator's HTTP path to the artifact's output_fn; the full
    answer comes back under that media type and is captured base64 (a type the header cannot list)."""
    deploy_endpoint(aws.url, "capture-full", "full", artifact, _capture("capture-full"))
    response = _invoke(aws.url, "full", png((10, 250, 10)), Accept=PREDICTION_TYPE, InferenceId="green.png")
    assert response["ContentType"] == PREDICTION_TYPE
    answer = json.loads(response["Body"].read())
    assert set(answer) == {"probabilities", "in_distribution", "out_of_distribution"}
    assert answer["out_of_distribution"] is True and answer["in_distribution"] < 0.3
    plain = json.loads(_invoke(aws.url, "full", png(RED), Accept="*/*")["Body"].read())
    assert isinstance(plain, list) and plain[0] > 0.9  # */* is plain JSON, as for the SageMaker SDK
    records = {r["eventMetadata"].get("inferenceId"): r for _, r in _captured(aws.url, "capture-full", "full")}
    output = records["green.png"]["captureData"]["endpointOutput"]
    assert (output["observedContentType"], output["encoding"]) == (PREDICTION_TYPE, "BASE64")
    assert json.loads(base64.b64decode(output["data"])) == answer


@pytest.mark.parametrize("content_type", [PREDICTION_TYPE, "application/json; charset=utf-8", "json"])
def test_capture_content_types_must_match_the_documented_pattern(aws: LocalAWS, content_type: str) -> None:
    sagemaker = client("sagemaker", aws.url)
    capture = {**_capture("bad-types"), "CaptureContentTypeHeader": {"JsonContentTypes": [content_type]}}
    variant = {"VariantName": "AllTraffic", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}
    with pytest.raises(sagemaker.exceptions.ClientError, match="failed to satisfy constraint") as info:
        sagemaker.create_endpoint_config(
            EndpointConfigName="bad-types", ProductionVariants=[variant], DataCaptureConfig=capture
        )
    assert info.value.response["Error"]["Code"] == "ValidationException"
    assert "jsonContentTypes.1.member" in str(info.value)


def test_model_is_loaded_once_and_served_warm(aws: LocalAWS, artifact: bytes) -> None:
    deploy_endpoint(aws.url, "warm-model", "warm", artifact, None)
    for _ in range(3):
        _invoke(aws.url, "warm", png(RED))
    pids = aws.models.worker_pids()
    assert len(pids) >= 1 and all(pid_alive(p) for p in pids)
    logs = client("logs", aws.url)
    streams = logs.describe_log_streams(logGroupName="/aws/sagemaker/Endpoints/warm")["logStreams"]
    messages = [
        e["message"]
        for s in streams
        for e in logs.get_log_events(logGroupName="/aws/sagemaker/Endpoints/warm", logStreamName=s["logStreamName"])[
            "events"
        ]
    ]
    # model_fn prints once per load; three invocations, one load.
    assert messages.count("tiny model loaded") == 1


def test_sampling_zero_writes_no_capture(aws: LocalAWS, artifact: bytes) -> None:
    deploy_endpoint(aws.url, "capture-none", "unsampled", artifact, _capture("capture-none", percentage=0))
    for _ in range(3):
        _invoke(aws.url, "unsampled", png(BLUE))
    assert _captured(aws.url, "capture-none", "unsampled") == []


def test_capture_options_input_only(aws: LocalAWS, artifact: bytes) -> None:
    deploy_endpoint(aws.url, "capture-input", "input-only", artifact, _capture("capture-input", modes=("Input",)))
    _invoke(aws.url, "input-only", png(RED))
    [(_, record)] = _captured(aws.url, "capture-input", "input-only")
    assert set(record["captureData"]) == {"endpointInput"}


def test_unknown_endpoint_gives_sagemakers_validation_error(aws: LocalAWS) -> None:
    runtime = client("sagemaker-runtime", aws.url)
    with pytest.raises(runtime.exceptions.ClientError) as raised:
        runtime.invoke_endpoint(EndpointName="no-such-endpoint", Body=png(RED), ContentType="image/png")
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"] == "Endpoint no-such-endpoint of account 123456789012 not found."


def test_inference_code_error_gives_model_error(aws: LocalAWS, artifact: bytes) -> None:
    deploy_endpoint(aws.url, "model-errors", "picky", artifact, _capture("model-errors"))
    runtime = client("sagemaker-runtime", aws.url)
    with pytest.raises(runtime.exceptions.ModelError) as raised:
        runtime.invoke_endpoint(EndpointName="picky", Body=b"hello", ContentType="text/plain")
    assert "unsupported content type text/plain" in raised.value.response["Error"]["Message"]
    assert raised.value.response["OriginalStatusCode"] == 500
    # A failed invocation is not captured, and the model server keeps serving.
    assert _captured(aws.url, "model-errors", "picky") == []
    assert json.loads(_invoke(aws.url, "picky", png(RED))["Body"].read())[0] > 0.9


def test_missing_artifact_is_a_validation_error(aws: LocalAWS, artifact: bytes) -> None:
    deploy_endpoint(aws.url, "artifact-gone", "orphan", artifact, None)
    client("s3", aws.url).delete_object(Bucket="artifact-gone", Key="models/model.tar.gz")
    runtime = client("sagemaker-runtime", aws.url)
    with pytest.raises(runtime.exceptions.ClientError) as raised:
        runtime.invoke_endpoint(EndpointName="orphan", Body=png(RED), ContentType="image/png")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "s3://artifact-gone/models/model.tar.gz" in raised.value.response["Error"]["Message"]


def test_update_endpoint_serves_the_new_config_s_model(aws: LocalAWS, artifact: bytes) -> None:
    deploy_endpoint(aws.url, "redeploy", "redeployed", artifact, None)
    assert json.loads(_invoke(aws.url, "redeployed", png(RED))["Body"].read())[0] > 0.9
    # What `terraform apply` does after `scones tfvars` records a new model: new model and
    # config (name_prefix + create_before_destroy), then UpdateEndpoint.
    s3, sagemaker = client("s3", aws.url), client("sagemaker", aws.url)
    s3.put_object(Bucket="redeploy", Key="models/v2/model.tar.gz", Body=model_artifact(swapped=True))
    sagemaker.create_model(
        ModelName="redeployed-model-v2",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/sagemaker",
        PrimaryContainer={"Image": "pytorch-inference:2.5-cpu", "ModelDataUrl": "s3://redeploy/models/v2/model.tar.gz"},
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": "redeployed-model-v2",
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    sagemaker.create_endpoint_config(EndpointConfigName="redeployed-config-v2", ProductionVariants=[variant])
    sagemaker.update_endpoint(EndpointName="redeployed", EndpointConfigName="redeployed-config-v2")

    described = sagemaker.describe_endpoint(EndpointName="redeployed")
    assert (described["EndpointConfigName"], described["EndpointStatus"]) == ("redeployed-config-v2", "InService")
    assert json.loads(_invoke(aws.url, "redeployed", png(RED))["Body"].read())[1] > 0.9


def test_update_endpoint_to_a_missing_config_is_a_validation_error(aws: LocalAWS, artifact: bytes) -> None:
    deploy_endpoint(aws.url, "update-missing", "updated-to-nothing", artifact, None)  # its own: any test order
    sagemaker = client("sagemaker", aws.url)
    with pytest.raises(sagemaker.exceptions.ClientError) as raised:
        sagemaker.update_endpoint(EndpointName="updated-to-nothing", EndpointConfigName="no-such-config")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "no-such-config" in raised.value.response["Error"]["Message"]
