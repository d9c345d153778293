"""`scones tfvars`: write a trained model's URIs, or a model registry version, into
terraform/envs/<env>/model.auto.tfvars.json.

Terraform loads `*.auto.tfvars.json` by itself, so `terraform apply` (or `make apply`) after this
command redeploys the endpoint with that artifact; nothing is retrained.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import ClientError

from scones.aws import InvalidS3UriError, aws_options, make_session, parse_s3_uri
from scones.paths import repo_root

TFVARS_FILE = "model.auto.tfvars.json"
# ECR image URIs as SageMaker takes them: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repo>(:<tag>|@sha256:<digest>)
_ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr(-fips)?\.[a-z0-9-]+\.amazonaws\.com(\.cn)?"
    r"/[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$"
)


class TfvarsError(click.ClickException):
    """Base class of `scones tfvars` errors."""


class UnknownEnvironmentError(TfvarsError):
    """terraform/envs/<env> does not exist."""


class InvalidModelDataUrlError(TfvarsError):
    """model_data_url is not s3://bucket/key.tar.gz."""


class InvalidImageUriError(TfvarsError):
    """model_image_uri is not an ECR image URI."""


class InvalidModelPackageArnError(TfvarsError):
    """model_package_arn is not a versioned model package ARN."""


class ModelArtifactNotFoundError(TfvarsError):
    """--check-exists: the model artifact is not in S3."""


class TrainingJobNotReadyError(TfvarsError):
    """The training job is unknown, not Completed, or we cannot tell its inference image."""


class InvalidTfvarsFileError(TfvarsError):
    """The existing tfvars file (or --from-json file) is not a JSON object; it is left untouched."""


def validate_model_data_url(url: str) -> str:
    try:
        _, key = parse_s3_uri(url)
    except InvalidS3UriError as exc:
        raise InvalidModelDataUrlError(f"model_data_url: {exc}") from None
    if not key.endswith(".tar.gz"):
        raise InvalidModelDataUrlError(f"model_data_url {url!r} must point at a .tar.gz model artifact")
    return url


def validate_image_uri(uri: str) -> str:
    if not _ECR_IMAGE.match(uri):
        raise InvalidImageUriError(
            f"model_image_uri {uri!r} is not an ECR image URI "
            "(<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>)"
        )
    return uri


def validate_model_package_arn(arn: str) -> str:
    from scones.release.registry import VERSION_ARN

    if not VERSION_ARN.match(arn):
        raise InvalidModelPackageArnError(
            f"model_package_arn {arn!r} is not a model registry version "
            "(arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>)"
        )
    return arn


def env_dir(tfvars_dir: Path, env: str) -> Path:
    path = tfvars_dir / env
    if not path.is_dir():
        known = sorted(p.name for p in tfvars_dir.iterdir() if p.is_dir()) if tfvars_dir.is_dir() else []
        raise UnknownEnvironmentError(
            f"no Terraform environment {env!r} in {tfvars_dir} (known: {', '.join(known) or 'none'})"
        )
    return path


def read_tfvars(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InvalidTfvarsFileError(f"{path} is not valid JSON ({exc}); fix or remove it first") from None
    if not isinstance(data, dict):
        raise InvalidTfvarsFileError(f"{path} must hold a JSON object, not {type(data).__name__}")
    return data


def write_atomically(path: Path, data: dict[str, Any]) -> None:
    """Write to a temp file in the same folder, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(data, indent=2) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def update_tfvars(path: Path, values: dict[str, str | None]) -> list[tuple[str, Any, str | None]]:
    """Set `values` in the file, keeping every other key; returns (key, old, new) per change. A None for a key the
    file does not have is no change (Terraform reads both as null) and is not written."""
    current = read_tfvars(path)
    changes = [(key, current.get(key), value) for key, value in values.items() if current.get(key) != value]
    if changes or not path.exists():
        written = {key: value for key, value in values.items() if value is not None or key in current}
        write_atomically(path, {**current, **written})
    return changes


def from_training_job(session: Any, job_name: str) -> tuple[str, str | None]:
    """(artifact URI, inference image or None) of a Completed training job."""
    from scones.training.images import inference_image_for
    from scones.training.sagemaker_train import MODEL_IMAGE_TAG

    sagemaker = session.client("sagemaker")
    try:
        job = sagemaker.describe_training_job(TrainingJobName=job_name)
    except ClientError as exc:
        raise TrainingJobNotReadyError(f"training job {job_name!r}: {exc.response['Error']['Message']}") from None
    if job["TrainingJobStatus"] != "Completed":
        raise TrainingJobNotReadyError(
            f"training job {job_name} is {job['TrainingJobStatus']}, not Completed: it has no model yet"
        )
    artifact = job.get("ModelArtifacts", {}).get("S3ModelArtifacts")
    if not artifact:
        raise TrainingJobNotReadyError(f"training job {job_name} reports no model artifact")
    tags = sagemaker.list_tags(ResourceArn=job["TrainingJobArn"]).get("Tags", [])
    image = next((tag["Value"] for tag in tags if tag["Key"] == MODEL_IMAGE_TAG), None)
    if image is None:  # a job not started by `scones train`: derive from its training image
        image = inference_image_for(job["AlgorithmSpecification"].get("TrainingImage", ""), session.region_name)
    return artifact, image


def from_result_json(path: Path) -> tuple[str | None, str | None]:
    data = read_tfvars(path)
    if data.get("artifact_exists") is False:
        raise TrainingJobNotReadyError(
            f"{path}: training job {data.get('training_job')} wrote no model artifact at {data.get('model_data_url')}"
        )
    return data.get("model_data_url"), data.get("model_image_uri")


def artifact_exists(session: Any, url: str) -> bool:
    bucket, key = parse_s3_uri(url)
    try:
        session.client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}:
            return False
        raise
    return True


@click.command("tfvars")
@click.option("--env", "env", required=True, help="Terraform environment folder name, e.g. local, dev, prod.")
@click.option("--training-job", default=None, help="Take the artifact and inference image of this SageMaker job.")
@click.option("--model-data-url", default=None, help="s3://bucket/key.tar.gz of a trained model.")
@click.option("--model-image-uri", default=None, help="ECR image that serves the model.")
@click.option(
    "--model-package-arn",
    default=None,
    help="A model registry version to deploy instead (model-package/<group>/<version>; nulls the two URIs).",
)
@click.option(
    "--from-json",
    "from_json",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="A `scones train --result-json` file.",
)
@click.option(
    "--tfvars-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder holding one folder per environment [default: <repo>/terraform/envs].",
)
@click.option("--check-exists", is_flag=True, help="Fail unless the model artifact exists in S3.")
@aws_options
def tfvars_cmd(
    env: str,
    training_job: str | None,
    model_data_url: str | None,
    model_image_uri: str | None,
    model_package_arn: str | None,
    from_json: Path | None,
    tfvars_dir: Path | None,
    check_exists: bool,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Point an environment's endpoint at a trained model (no retraining needed to redeploy).

    \b
    scones tfvars --env dev --training-job scones-image-classification-20260101120000
    scones tfvars --env local --model-data-url s3://B/models/local-X/model.tar.gz --model-image-uri URI
    scones tfvars --env local --from-json build/train/result.json
    scones tfvars --env prod --model-package-arn arn:aws:sagemaker:R:A:model-package/scones-prod-models/7

    Other keys in the file are kept; what changed is printed as old -> new.
    """
    sources = sum(x is not None for x in (training_job, from_json, model_data_url, model_package_arn))
    if sources != 1:
        raise click.UsageError(
            "give exactly one source: --training-job NAME, --model-data-url URL (+ --model-image-uri), "
            "--from-json FILE, or --model-package-arn ARN"
        )
    target_dir = env_dir(tfvars_dir or repo_root() / "terraform" / "envs", env)
    if model_package_arn is not None:
        if model_image_uri is not None or check_exists:
            raise click.UsageError("--model-package-arn takes neither --model-image-uri nor --check-exists")
        # The version brings its artifact and image: the stack refuses either beside it.
        arn = validate_model_package_arn(model_package_arn)
        _write(target_dir / TFVARS_FILE, {"model_package_arn": arn, "model_data_url": None, "model_image_uri": None})
        return
    needs_aws = training_job is not None or check_exists
    session = make_session(region=region, endpoint_url=endpoint_url, profile=profile) if needs_aws else None

    data_url: str | None = model_data_url
    image: str | None = None
    if training_job is not None:
        data_url, image = from_training_job(session, training_job)
    elif from_json is not None:
        data_url, image = from_result_json(from_json)
    image = model_image_uri or image  # an explicit image wins over the derived one
    if not data_url:
        raise click.UsageError("no model_data_url: pass --model-data-url")
    if not image:
        raise click.UsageError("no model_image_uri: pass --model-image-uri")
    values: dict[str, str | None] = {
        "model_data_url": validate_model_data_url(data_url),
        "model_image_uri": validate_image_uri(image),
        "model_package_arn": None,  # a registry version excludes an artifact (the stack's precondition)
    }

    if check_exists and not artifact_exists(session, data_url):
        raise ModelArtifactNotFoundError(f"{data_url} does not exist (checked with --check-exists)")
    _write(target_dir / TFVARS_FILE, values)


def _write(path: Path, values: dict[str, str | None]) -> None:
    changes = update_tfvars(path, values)
    if not changes:
        click.echo(f"{path}: unchanged")
        return
    click.echo(f"{path}:")
    for key, old, new in changes:
        click.echo(f"  {key}: {json.dumps(old) if old is not None else '(unset)'} -> {json.dumps(new)}")
