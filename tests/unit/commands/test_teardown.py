"""`scones teardown` against the in-process emulator: a stack's versioned buckets (objects overwritten and
deleted, several DeleteObjects batches: 10 here, 1000 on S3) and its registry versions are shown, kept when
the user says no, and deleted when the user says yes, after which S3 and SageMaker delete the bucket and the
group, which is what `terraform destroy` then asks of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result

from scones import teardown
from scones.aws import make_session
from scones.cli import main
from scones.local.server import LocalAWS
from scones.release import registry
from scones.teardown import TeardownError, empty_bucket, stack_buckets
from tests.support.local_fixtures import client

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.5-cpu-py311"
ACCOUNT, REGION = "123456789012", "us-east-1"


@dataclass(frozen=True)
class Stack:
    env: str
    data: str
    capture: str
    group: str
    versions: int  # in the data bucket; the capture bucket holds one


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(teardown, "DELETE_BATCH", 10)


def make_stack(aws: LocalAWS, env: str) -> Stack:
    """An environment's two buckets, versioned, and its registry with two versions (one emulator for the
    module: each test empties the stack of an environment of its own)."""
    (data, capture), group = stack_buckets(env, ACCOUNT, REGION), f"scones-{env}-models"
    s3 = client("s3", aws.url)
    for bucket in (data, capture):
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for index in range(22):  # three versions of one key, one deleted
        s3.put_object(Bucket=data, Key=f"data/test/{index}.png", Body=b"v1")
    for body in (b"v2", b"v3"):
        s3.put_object(Bucket=data, Key="data/test/0.png", Body=body)
    s3.delete_object(Bucket=data, Key="data/test/1.png")  # a delete marker
    s3.put_object(Bucket=capture, Key="classifier/AllTraffic/2026/12/04/00/a.jsonl", Body=b"{}")
    client("sagemaker", aws.url).create_model_package_group(ModelPackageGroupName=group)
    session = make_session(endpoint_url=aws.url, region=REGION)
    for body in (b"model one", b"model two"):
        key = f"models/{body.decode().replace(' ', '-')}.tar.gz"
        s3.put_object(Bucket=data, Key=key, Body=body)
        registry.register(
            session,
            group=group,
            model_data_url=f"s3://{data}/{key}",
            image_uri=IMAGE,
            environment={},
            metrics={"accuracy": 0.9},
            source="test",
            approval=registry.APPROVED,
        )
    return Stack(env, data, capture, group, 22 + 2 + 1 + 2)


def _teardown(aws: LocalAWS, *args: str, answer: str | None = None) -> Result:
    return CliRunner().invoke(main, ["teardown", *args, "--endpoint-url", aws.url], input=answer)


def _versions(aws: LocalAWS, bucket: str) -> int:
    pages = client("s3", aws.url).get_paginator("list_object_versions").paginate(Bucket=bucket)
    return sum(len(page.get("Versions", [])) + len(page.get("DeleteMarkers", [])) for page in pages)


def test_shows_what_it_would_delete_and_keeps_it_when_told_no(aws: LocalAWS) -> None:
    stack = make_stack(aws, "prod")
    result = _teardown(aws, "--env", "prod", answer="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    assert f"{stack.group}: 2 registry versions" in result.output
    assert f"s3://{stack.data}: {stack.versions} object versions and delete markers" in result.output
    assert f"s3://{stack.capture}: 1 object versions and delete markers" in result.output
    assert _versions(aws, stack.data) == stack.versions and _versions(aws, stack.capture) == 1
    assert len(registry.version_arns(make_session(endpoint_url=aws.url, region=REGION), stack.group)) == 2


def test_empties_the_stack_so_that_its_buckets_and_registry_can_be_deleted(aws: LocalAWS) -> None:
    stack = make_stack(aws, "dev")
    result = _teardown(aws, "--env", "dev", answer="y\n")
    assert result.exit_code == 0, result.output
    assert f"s3://{stack.data}: empty ({stack.versions} object versions and delete markers deleted)" in result.output
    assert f"s3://{stack.data}: 10/{stack.versions} deleted" in result.output  # progress, batch by batch
    assert f"{stack.group}: 2 registry versions deleted" in result.output
    assert "Next: make destroy ENV=dev" in result.output
    s3, sagemaker = client("s3", aws.url), client("sagemaker", aws.url)
    for bucket in (stack.data, stack.capture):
        assert _versions(aws, bucket) == 0
        s3.delete_bucket(Bucket=bucket)
    sagemaker.delete_model_package_group(ModelPackageGroupName=stack.group)

    again = _teardown(aws, "--env", "dev", "--yes")
    assert again.exit_code == 0, again.output
    assert f"s3://{stack.data}: no such bucket" in again.output
    assert f"{stack.group}: no such model package group" in again.output
    assert "Nothing to delete." in again.output


def test_empties_a_named_bucket_without_asking_when_told_yes(aws: LocalAWS) -> None:
    s3 = client("s3", aws.url)
    s3.create_bucket(Bucket="my-tfstate")
    s3.put_bucket_versioning(Bucket="my-tfstate", VersioningConfiguration={"Status": "Enabled"})
    for _ in range(3):
        s3.put_object(Bucket="my-tfstate", Key="dev/terraform.tfstate", Body=b"{}")
    result = _teardown(aws, "--bucket", "my-tfstate", "--yes")
    assert result.exit_code == 0, result.output
    assert "registry" not in result.output and "make destroy" not in result.output
    assert _versions(aws, "my-tfstate") == 0


def test_needs_something_to_empty(aws: LocalAWS) -> None:
    result = _teardown(aws)
    assert result.exit_code == 2 and "give --env ENV and/or --bucket NAME" in result.output


def test_an_unknown_environment_is_refused_by_name(aws: LocalAWS) -> None:
    result = _teardown(aws, "--env", "staging", "--yes")
    assert result.exit_code != 0 and "staging" in result.output


class _RefusingS3:
    """An S3 client whose DeleteObjects reports a version it could not delete, as S3 does for one it may not."""

    def list_object_versions(self, **_: Any) -> dict[str, Any]:
        return {"Versions": [{"Key": "k", "VersionId": "v1"}]}

    def delete_objects(self, **_: Any) -> dict[str, Any]:
        return {"Errors": [{"Key": "k", "VersionId": "v1", "Code": "AccessDenied", "Message": "Access Denied"}]}


def test_a_version_s3_refuses_to_delete_is_a_named_error() -> None:
    with pytest.raises(TeardownError, match=r"s3://b: 1 versions not deleted, e.g. k \(AccessDenied: Access Denied\)"):
        empty_bucket(_RefusingS3(), "b")


def test_a_missing_bucket_while_emptying_is_a_named_error(aws: LocalAWS) -> None:
    with pytest.raises(TeardownError, match="cannot empty s3://no-such-bucket after 0 deletions"):
        empty_bucket(client("s3", aws.url), "no-such-bucket")
    with pytest.raises(ClientError):
        client("s3", aws.url).head_bucket(Bucket="no-such-bucket")
