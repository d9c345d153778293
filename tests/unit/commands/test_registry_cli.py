"""`scones approve ARN` approves a registry version of the environment's group; `scones registry list` shows the
versions. On the in-process emulator."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scones.aws import make_session
from scones.cli import main
from scones.local.server import LocalAWS
from scones.release import registry
from tests.support.local_fixtures import client

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.5-cpu-py311"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        client("sagemaker", emulator.url).create_model_package_group(ModelPackageGroupName="scones-prod-models")
        client("s3", emulator.url).create_bucket(Bucket="approve-models")
        yield emulator


@pytest.fixture
def pending(aws: LocalAWS) -> str:
    """A new PendingManualApproval version of scones-prod-models, as a prod release registers it."""
    key = f"models/{uuid.uuid4().hex}.tar.gz"
    client("s3", aws.url).put_object(Bucket="approve-models", Key=key, Body=key.encode())
    version, _ = registry.register(
        make_session(endpoint_url=aws.url, region="us-east-1"),
        group="scones-prod-models",
        model_data_url=f"s3://approve-models/{key}",
        image_uri=IMAGE,
        environment={},
        metrics={"accuracy": 0.9},
        source="job-1",
        approval=registry.PENDING,
    )
    return version.arn


def _approve(aws: LocalAWS, *args: str) -> Result:
    return CliRunner().invoke(main, ["approve", *args, "--endpoint-url", aws.url])


def _status(aws: LocalAWS, arn: str) -> Any:
    return client("sagemaker", aws.url).describe_model_package(ModelPackageName=arn)


def test_approves_a_pending_version_with_its_reason(aws: LocalAWS, pending: str) -> None:
    result = _approve(aws, pending, "--env", "prod", "--description", "reviewed in PR 12")
    assert result.exit_code == 0, result.output
    assert f"{pending}: PendingManualApproval -> Approved" in result.output
    described = _status(aws, pending)
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == ("Approved", "reviewed in PR 12")
    again = _approve(aws, pending, "--env", "prod")
    assert again.exit_code == 0 and "already Approved" in again.output


def test_refuses_a_version_of_another_environment_and_changes_nothing(aws: LocalAWS, pending: str) -> None:
    result = _approve(aws, pending, "--env", "dev")
    assert result.exit_code == 1 and "not of scones-dev-models" in result.output
    assert _status(aws, pending)["ModelApprovalStatus"] == "PendingManualApproval"


def test_bad_input_is_named(aws: LocalAWS, pending: str) -> None:
    assert "give --env ENV" in _approve(aws, pending).output
    assert "no Terraform environment 'staging'" in _approve(aws, pending, "--env", "staging").output
    missing = _approve(aws, pending.rsplit("/", 1)[0] + "/99", "--env", "prod")
    assert missing.exit_code == 1 and "/99" in missing.output
    bad = _approve(aws, "scones-prod-models/1", "--group", "scones-prod-models")
    assert bad.exit_code == 1 and "is not a model version ARN" in bad.output


def test_registry_list_shows_every_version_newest_first(aws: LocalAWS, pending: str) -> None:
    result = CliRunner().invoke(main, ["registry", "list", "--env", "prod", "--json", "--endpoint-url", aws.url])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert listed[0]["arn"] == pending and listed[0]["approval"] == "PendingManualApproval"
    assert [v["version"] for v in listed] == sorted((v["version"] for v in listed), reverse=True)
    assert listed[0]["metrics"] == {"accuracy": 0.9} and listed[0]["source"] == "job-1"
    table = CliRunner().invoke(main, ["registry", "list", "--env", "prod", "--endpoint-url", aws.url])
    assert table.exit_code == 0 and pending in table.output and "PendingManualApproval" in table.output
    empty = CliRunner().invoke(main, ["registry", "list", "--env", "local", "--endpoint-url", aws.url])
    assert empty.exit_code == 0 and "scones-local-models: no versions" in empty.output


def _reject(aws: LocalAWS, *args: str) -> Result:
    return CliRunner().invoke(main, ["registry", "reject", *args, "--endpoint-url", aws.url])


def test_rejects_a_version_with_its_reason(aws: LocalAWS, pending: str) -> None:
    result = _reject(aws, pending, "--env", "prod", "--description", "misclassifies night-time images")
    assert result.exit_code == 0, result.output
    assert f"{pending}: PendingManualApproval -> Rejected" in result.output
    described = _status(aws, pending)
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == (
        "Rejected",
        "misclassifies night-time images",
    )


def test_a_rejection_without_a_reason_or_of_another_environment_changes_nothing(aws: LocalAWS, pending: str) -> None:
    assert "Missing option '--description'" in _reject(aws, pending, "--env", "prod").output
    other = _reject(aws, pending, "--env", "dev", "--description", "no")
    assert other.exit_code == 1 and "not of scones-dev-models" in other.output
    assert _status(aws, pending)["ModelApprovalStatus"] == "PendingManualApproval"
