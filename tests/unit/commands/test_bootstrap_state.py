"""`scones bootstrap-state`: the Terraform state bucket in any region (us-east-1 takes no location
constraint, every other region needs one), versioned, encrypted, private, TLS only, and backend.hcl."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner, Result
from moto import mock_aws

from scones.cli import main
from scones.paths import repo_root

BUCKET = "my-tfstate-123456789012"


@pytest.fixture(autouse=True)
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


@pytest.fixture
def envs(tmp_path: Path) -> Path:
    """A copy of terraform/envs' backend examples."""
    for env in ("dev", "prod", "local"):
        (tmp_path / env).mkdir()
        example = repo_root() / "terraform" / "envs" / env / "backend.hcl.example"
        if example.exists():
            shutil.copy(example, tmp_path / env)
    return tmp_path


def bootstrap(envs: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["bootstrap-state", "--bucket", BUCKET, "--envs-dir", str(envs), *args])


def hcl(path: Path) -> dict[str, str]:
    return dict(re.findall(r'^(\w+)\s*=\s*"?([^"\n]*)"?$', path.read_text(), re.MULTILINE))


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2"])
def test_the_bucket_is_created_in_the_region_private_versioned_encrypted_and_tls_only(envs: Path, region: str) -> None:
    result = bootstrap(envs, "--region", region, "--env", "dev")
    assert result.exit_code == 0, result.output
    s3 = boto3.client("s3", region_name=region)
    # S3 reports us-east-1 as no location constraint.
    assert s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == (None if region == "us-east-1" else region)
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    (rule,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(statement["Resource"]) == [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]

    backend = hcl(envs / "dev" / "backend.hcl")
    assert backend == {
        "bucket": BUCKET,
        "key": "scones-unlimited/dev/terraform.tfstate",
        "region": region,
        "encrypt": "true",
        "use_lockfile": "true",
    }


def test_running_it_again_for_another_environment_keeps_the_bucket_and_writes_that_backend(envs: Path) -> None:
    assert bootstrap(envs, "--region", "eu-west-1", "--env", "dev").exit_code == 0
    (envs / "dev" / "backend.hcl").write_text("# mine\n")
    again = bootstrap(envs, "--region", "eu-west-1", "--env", "prod")
    assert again.exit_code == 0, again.output
    assert "already yours" in again.output
    assert hcl(envs / "prod" / "backend.hcl")["key"] == "scones-unlimited/prod/terraform.tfstate"
    assert bootstrap(envs, "--region", "eu-west-1", "--env", "dev").exit_code == 0
    assert (envs / "dev" / "backend.hcl").read_text() == "# mine\n"  # an existing backend.hcl is left alone


def test_kms_encryption(envs: Path) -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert bootstrap(envs, "--region", "eu-west-1", "--kms-key-arn", key).exit_code == 0
    s3 = boto3.client("s3", region_name="eu-west-1")
    (rule,) = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    assert rule["BucketKeyEnabled"] is True
    assert not (envs / "dev" / "backend.hcl").exists()  # no --env: no backend.hcl


def test_local_keeps_its_state_in_a_file(envs: Path) -> None:
    result = bootstrap(envs, "--region", "eu-west-1", "--env", "local")
    assert result.exit_code == 2 and "local keeps its state in a file" in result.output
    assert not boto3.client("s3", region_name="eu-west-1").list_buckets()["Buckets"]


def test_a_bucket_of_ours_in_another_region_is_a_clear_error(envs: Path) -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    result = bootstrap(envs, "--region", "eu-west-1", "--env", "dev")
    assert result.exit_code == 1
    assert (
        result.output
        == f"Error: s3://{BUCKET} is yours already, in us-east-1, not eu-west-1: pass --region us-east-1\n"
    )
    assert not (envs / "dev" / "backend.hcl").exists()
