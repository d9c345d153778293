"""Helpers for the local emulator tests: real zips, a real model artifact, clients, waiting."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import tarfile
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from scones.aws import NO_HOST_PREFIX

REPO = Path(__file__).resolve().parents[2]
BUILT_LAMBDAS = REPO / "build" / "lambdas"
ACCOUNT_ID = "123456789012"


def client(service: str, url: str, *, max_attempts: int | None = None) -> Any:
    """An admin client of the emulator at `url`; `max_attempts=1` shows the first answer (the SDKs
    retry throttles and 5xx answers)."""
    config = NO_HOST_PREFIX  # StartSyncExecution would go to sync-127.0.0.1
    if max_attempts is not None:
        config = config.merge(Config(retries={"mode": "standard", "total_max_attempts": max_attempts}))
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=config,
    )


def lambda_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, source in files.items():
            archive.writestr(name, textwrap.dedent(source))
    return buffer.getvalue()


def lambda_role(url: str) -> str:
    iam = client("iam", url)
    try:
        return iam.get_role(RoleName="lambda-test")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        return iam.create_role(RoleName="lambda-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]


def create_function(
    url: str, name: str, source: str | bytes, timeout: int = 10, environment: dict[str, str] | None = None
) -> str:
    code = source if isinstance(source, bytes) else lambda_zip({"app.py": source})
    response = client("lambda", url).create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=lambda_role(url),
        Handler="app.handler",
        Code={"ZipFile": code},
        Timeout=timeout,
        Environment={"Variables": environment or {}},
    )
    return str(response["FunctionArn"])


def invoke(url: str, name: str, event: Any, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    response = client("lambda", url).invoke(FunctionName=name, Payload=json.dumps(event), **kwargs)
    return response, json.loads(response["Payload"].read() or b"null")


def wait_for_execution(url: str, execution_arn: str, timeout_seconds: float = 60.0) -> dict[str, Any]:
    sfn = client("stepfunctions", url)
    deadline = time.monotonic() + timeout_seconds
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return dict(described)
        time.sleep(0.1)


def pid_alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


def wait_until_dead(pid: int, timeout_seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# A model artifact in the SageMaker PyTorch layout, with serving code that follows the contract:
# PNG/JPEG in, JSON [p_bicycle, p_motorcycle] out, or with Accept PREDICTION_MEDIA_TYPE the full answer.
# The "model" says bicycle for red images and motorcycle for blue ones, so the tests can check real
# inference happened. Its out-of-distribution guard is a test double of the real one: the score is how much
# the stronger of red and blue outweighs green, and an image below 0.3 (green, grey, black, white) is
# flagged; red, blue and purple (a 50/50 image, low confidence but in distribution) are not.
INFERENCE_PY = """
import base64
import io
import json

import numpy as np
import torch
from PIL import Image


class TinyNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)

    def forward(self, x):
        return self.linear(x.mean(dim=(2, 3)))


def model_fn(model_dir):
    model = TinyNet()
    model.load_state_dict(torch.load(f"{model_dir}/model.pt", map_location="cpu"))
    print("tiny model loaded", flush=True)
    return model.eval()


BATCH = "application/vnd.scones.batch+json"  # a JSON list of base64 images, as the project's serving code


def _tensor(body):
    image = Image.open(io.BytesIO(body)).convert("RGB")
    array = np.asarray(image, dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0)


def input_fn(body, content_type):
    if content_type == BATCH:
        return torch.cat([_tensor(base64.b64decode(image)) for image in json.loads(body)])
    if content_type not in ("image/png", "image/jpeg"):
        raise ValueError(f"unsupported content type {content_type}")
    return _tensor(body)


def predict_fn(data, model):
    with torch.no_grad():
        probabilities = torch.softmax(model(data), dim=1)
    means = data.mean(dim=(2, 3))
    return [(probabilities[n], float(max(means[n, 0], means[n, 2]) - means[n, 1])) for n in range(len(data))]


def _full(probabilities, score):
    values = [float(p) for p in probabilities]
    return {"probabilities": values, "in_distribution": score, "out_of_distribution": score < OOD_THRESHOLD}


def output_fn(prediction, accept):
    if accept == BATCH:
        return json.dumps([_full(probabilities, score) for probabilities, score in prediction])
    ((probabilities, score),) = prediction
    if accept == "application/vnd.scones.prediction+json":
        return json.dumps(_full(probabilities, score))
    return json.dumps([float(p) for p in probabilities])


OOD_THRESHOLD = 0.3
"""


# Serving code that loads but fails on every request: what a candidate that breaks on real traffic does.
FAILING_INFERENCE_PY = """
def model_fn(model_dir):
    return None


def predict_fn(data, model):
    raise RuntimeError("this candidate cannot serve")
"""


def failing_artifact() -> bytes:
    """A model.tar.gz whose code/inference.py loads and then raises on every request."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        data = FAILING_INFERENCE_PY.encode()
        info = tarfile.TarInfo("code/inference.py")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def model_artifact(*, swapped: bool = False) -> bytes:
    """Red means bicycle and blue motorcycle; `swapped` gives the opposite model (a redeploy test)."""
    import torch

    linear = torch.nn.Linear(3, 2)
    weights = [[6.0, 0.0, 0.0], [0.0, 0.0, 6.0]]
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(weights[::-1] if swapped else weights))
        linear.bias.zero_()
    weights = io.BytesIO()
    torch.save({f"linear.{k}": v for k, v in linear.state_dict().items()}, weights)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("model.pt", weights.getvalue()), ("code/inference.py", INFERENCE_PY.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def png(color: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(buffer, format="PNG")
    return buffer.getvalue()


def deploy_endpoint(
    url: str,
    bucket: str,
    endpoint: str,
    artifact: bytes,
    capture: dict[str, Any] | None,
    artifact_key: str = "models/model.tar.gz",
) -> None:
    s3 = client("s3", url)
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if bucket not in existing:
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key=artifact_key, Body=artifact)
    sagemaker = client("sagemaker", url)
    sagemaker.create_model(
        ModelName=f"{endpoint}-model",
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/sagemaker",
        PrimaryContainer={"Image": "pytorch-inference:2.5-cpu", "ModelDataUrl": f"s3://{bucket}/{artifact_key}"},
    )
    config: dict[str, Any] = {
        "EndpointConfigName": f"{endpoint}-config",
        "ProductionVariants": [
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{endpoint}-model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    }
    if capture is not None:
        config["DataCaptureConfig"] = capture
    sagemaker.create_endpoint_config(**config)
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-config")
