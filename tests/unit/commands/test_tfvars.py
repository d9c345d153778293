"""`scones tfvars`: validated URIs into terraform/envs/<env>/model.auto.tfvars.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner, Result
from moto import mock_aws

from scones.cli import main
from scones.tfvars import InvalidImageUriError, InvalidModelDataUrlError, validate_image_uri, validate_model_data_url

IC_IMAGE = "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1"
PT_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6-cpu-py312"
ARTIFACT = "s3://scones-models/models/job-1/output/model.tar.gz"
ROLE = "arn:aws:iam::123456789012:role/scones-sagemaker"


@pytest.fixture
def envs(tmp_path: Path) -> Path:
    for name in ("local", "dev"):
        (tmp_path / name).mkdir()
    return tmp_path


def _tfvars(envs: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["tfvars", "--tfvars-dir", str(envs), *args])


def _file(envs: Path, env: str = "dev") -> dict:
    return json.loads((envs / env / "model.auto.tfvars.json").read_text())


def test_writes_both_keys_and_shows_the_change(envs: Path) -> None:
    result = _tfvars(envs, "--env", "dev", "--model-data-url", ARTIFACT, "--model-image-uri", PT_IMAGE)
    assert result.exit_code == 0, result.output
    assert _file(envs) == {"model_data_url": ARTIFACT, "model_image_uri": PT_IMAGE}
    assert f'model_data_url: (unset) -> "{ARTIFACT}"' in result.output
    assert not (envs / "local" / "model.auto.tfvars.json").exists()


def test_keeps_unrelated_keys_and_reports_old_to_new(envs: Path) -> None:
    path = envs / "dev" / "model.auto.tfvars.json"
    path.write_text(json.dumps({"endpoint_instance_type": "ml.m5.large", "model_image_uri": PT_IMAGE}))
    result = _tfvars(envs, "--env", "dev", "--model-data-url", ARTIFACT, "--model-image-uri", IC_IMAGE)
    assert result.exit_code == 0, result.output
    assert _file(envs) == {
        "endpoint_instance_type": "ml.m5.large",
        "model_image_uri": IC_IMAGE,
        "model_data_url": ARTIFACT,
    }
    assert f'model_image_uri: "{PT_IMAGE}" -> "{IC_IMAGE}"' in result.output
    assert "endpoint_instance_type" not in result.output

    again = _tfvars(envs, "--env", "dev", "--model-data-url", ARTIFACT, "--model-image-uri", IC_IMAGE)
    assert again.exit_code == 0 and "unchanged" in again.output


def test_unknown_env_names_the_known_ones(envs: Path) -> None:
    result = _tfvars(envs, "--env", "staging", "--model-data-url", ARTIFACT, "--model-image-uri", PT_IMAGE)
    assert result.exit_code == 1
    assert "no Terraform environment 'staging'" in result.output and "known: dev, local" in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("models/model.tar.gz", "is not an S3 URI"),
        ("s3://scones-models/", "has no object key"),
        ("s3://scones-models/models/model.pt", "must point at a .tar.gz"),
        ("s3://Bad_Bucket/model.tar.gz", "not a valid S3 bucket name"),
    ],
)
def test_bad_model_data_url_leaves_the_file_alone(envs: Path, url: str, message: str) -> None:
    path = envs / "dev" / "model.auto.tfvars.json"
    path.write_text('{"model_data_url": "s3://keep/me.tar.gz"}')
    result = _tfvars(envs, "--env", "dev", "--model-data-url", url, "--model-image-uri", PT_IMAGE)
    assert result.exit_code == 1 and message in result.output
    assert path.read_text() == '{"model_data_url": "s3://keep/me.tar.gz"}'
    with pytest.raises(InvalidModelDataUrlError):
        validate_model_data_url(url)


@pytest.mark.parametrize(
    "uri",
    ["pytorch-inference:2.6", "docker.io/library/python:3.12", "811284229777.dkr.ecr.us-east-1.amazonaws.com/", "x"],
)
def test_bad_image_uri(envs: Path, uri: str) -> None:
    result = _tfvars(envs, "--env", "dev", "--model-data-url", ARTIFACT, "--model-image-uri", uri)
    assert result.exit_code == 1 and "is not an ECR image URI" in result.output
    assert not (envs / "dev" / "model.auto.tfvars.json").exists()
    with pytest.raises(InvalidImageUriError):
        validate_image_uri(uri)


def test_accepts_digest_and_china_region_images() -> None:
    validate_image_uri("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/my/model@sha256:" + "a" * 64)
    validate_image_uri(IC_IMAGE)


def test_corrupt_existing_file_is_not_overwritten(envs: Path) -> None:
    path = envs / "dev" / "model.auto.tfvars.json"
    path.write_text("{not json")
    result = _tfvars(envs, "--env", "dev", "--model-data-url", ARTIFACT, "--model-image-uri", PT_IMAGE)
    assert result.exit_code == 1 and "is not valid JSON" in result.output
    assert path.read_text() == "{not json"


def test_needs_exactly_one_source(envs: Path) -> None:
    assert _tfvars(envs, "--env", "dev").exit_code == 2
    both = _tfvars(envs, "--env", "dev", "--training-job", "j", "--model-data-url", ARTIFACT)
    assert both.exit_code == 2 and "exactly one source" in both.output
    no_image = _tfvars(envs, "--env", "dev", "--model-data-url", ARTIFACT)
    assert no_image.exit_code == 2 and "--model-image-uri" in no_image.output


def test_from_train_result_json(envs: Path, tmp_path: Path) -> None:
    result_file = tmp_path / "result.json"
    result_file.write_text(json.dumps({"model_data_url": ARTIFACT, "model_image_uri": PT_IMAGE, "metrics": {}}))
    result = _tfvars(envs, "--env", "local", "--from-json", str(result_file))
    assert result.exit_code == 0, result.output
    assert _file(envs, "local") == {"model_data_url": ARTIFACT, "model_image_uri": PT_IMAGE}

    no_artifact = tmp_path / "moto.json"
    no_artifact.write_text(
        json.dumps({"model_data_url": ARTIFACT, "model_image_uri": IC_IMAGE, "artifact_exists": False})
    )
    result = _tfvars(envs, "--env", "local", "--from-json", str(no_artifact))
    assert result.exit_code == 1 and "wrote no model artifact" in result.output
    assert _file(envs, "local")["model_image_uri"] == PT_IMAGE


@pytest.fixture
def sagemaker() -> Iterator[boto3.client]:
    with mock_aws():
        yield boto3.client("sagemaker", region_name="us-east-1")


def _create_job(sm: boto3.client, name: str, image: str, tags: list[dict] | None = None) -> None:
    sm.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": image, "TrainingInputMode": "File"},
        RoleArn=ROLE,
        OutputDataConfig={"S3OutputPath": "s3://scones-models/models/"},
        ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
        **({"Tags": tags} if tags else {}),
    )


def test_from_training_job_uses_the_tagged_inference_image(envs: Path, sagemaker: boto3.client) -> None:
    training = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.6-gpu-py312"
    _create_job(sagemaker, "scones-pytorch-1", training, [{"Key": "scones:model-image-uri", "Value": PT_IMAGE}])
    result = _tfvars(envs, "--env", "dev", "--training-job", "scones-pytorch-1")
    assert result.exit_code == 0, result.output
    assert _file(envs) == {
        "model_data_url": "s3://scones-models/models/scones-pytorch-1/output/model.tar.gz",
        "model_image_uri": PT_IMAGE,
    }


def test_from_untagged_job_derives_the_image_from_the_sdk(envs: Path, sagemaker: boto3.client) -> None:
    _create_job(sagemaker, "seed-job", IC_IMAGE)
    result = _tfvars(envs, "--env", "dev", "--training-job", "seed-job")
    assert result.exit_code == 0, result.output
    assert _file(envs)["model_image_uri"] == IC_IMAGE

    _create_job(sagemaker, "pt-job", "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5-gpu-py311")
    assert _tfvars(envs, "--env", "local", "--training-job", "pt-job").exit_code == 0
    assert _file(envs, "local")["model_image_uri"] == (
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.5-cpu-py311"
    )


def test_unknown_training_job(envs: Path, sagemaker: boto3.client) -> None:
    result = _tfvars(envs, "--env", "dev", "--training-job", "nope")
    assert result.exit_code == 1 and "training job 'nope'" in result.output


def test_check_exists(envs: Path, sagemaker: boto3.client) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="scones-models")
    args = ["--env", "dev", "--model-data-url", ARTIFACT, "--model-image-uri", PT_IMAGE, "--check-exists"]
    missing = _tfvars(envs, *args)
    assert missing.exit_code == 1 and "does not exist" in missing.output
    assert not (envs / "dev" / "model.auto.tfvars.json").exists()
    s3.put_object(Bucket="scones-models", Key="models/job-1/output/model.tar.gz", Body=b"tar")
    assert _tfvars(envs, *args).exit_code == 0


VERSION = "arn:aws:sagemaker:eu-west-1:111111111111:model-package/scones-dev-models/7"


def test_a_registry_version_replaces_the_artifact_and_back(envs: Path) -> None:
    path = envs / "dev" / "model.auto.tfvars.json"
    path.write_text(json.dumps({"model_data_url": ARTIFACT, "model_image_uri": PT_IMAGE, "threshold": 0.9}))
    result = _tfvars(envs, "--env", "dev", "--model-package-arn", VERSION)
    assert result.exit_code == 0, result.output
    # The stack refuses an artifact beside a version: both are nulled, other keys kept.
    assert _file(envs) == {
        "model_data_url": None,
        "model_image_uri": None,
        "threshold": 0.9,
        "model_package_arn": VERSION,
    }
    assert f'model_package_arn: (unset) -> "{VERSION}"' in result.output
    assert f'model_data_url: "{ARTIFACT}" -> null' in result.output
    # And back to an artifact (a rollback to a model deployed before the registry): the version is nulled.
    result = _tfvars(envs, "--env", "dev", "--model-data-url", ARTIFACT, "--model-image-uri", PT_IMAGE)
    assert result.exit_code == 0, result.output
    assert _file(envs) == {
        "model_data_url": ARTIFACT,
        "model_image_uri": PT_IMAGE,
        "threshold": 0.9,
        "model_package_arn": None,
    }


def test_a_version_alone_writes_no_nulls_of_keys_the_file_never_had(envs: Path) -> None:
    assert _tfvars(envs, "--env", "local", "--model-package-arn", VERSION).exit_code == 0
    assert _file(envs, "local") == {"model_package_arn": VERSION}
    assert "unchanged" in _tfvars(envs, "--env", "local", "--model-package-arn", VERSION).output


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sagemaker:eu-west-1:111111111111:model-package/scones-dev-models",  # no version
        "arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/scones-dev-models",
        "scones-dev-models/7",
    ],
)
def test_bad_model_package_arn_leaves_the_file_alone(envs: Path, arn: str) -> None:
    result = _tfvars(envs, "--env", "dev", "--model-package-arn", arn)
    assert result.exit_code == 1 and "is not a model registry version" in result.output
    assert not (envs / "dev" / "model.auto.tfvars.json").exists()


def test_a_version_takes_no_other_source_or_image(envs: Path) -> None:
    both = _tfvars(envs, "--env", "dev", "--model-package-arn", VERSION, "--model-data-url", ARTIFACT)
    assert both.exit_code == 2 and "exactly one source" in both.output
    image = _tfvars(envs, "--env", "dev", "--model-package-arn", VERSION, "--model-image-uri", PT_IMAGE)
    assert image.exit_code == 2 and "--model-image-uri" in image.output
    assert not (envs / "dev" / "model.auto.tfvars.json").exists()
