"""scones.release.registry against the in-process emulator: register once per artifact, read back what was
registered, approve, and refuse what cannot be deployed or belongs elsewhere, by name."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from scones.aws import make_session
from scones.local.server import LocalAWS
from scones.release import registry
from tests.support.local_fixtures import client

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.5-cpu-py311"
BUCKET = "registry-lib"
METRICS = {"accuracy": 0.93, "coverage": 0.8, "accepted_accuracy": 0.97, "test_images": 200}


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        client("s3", emulator.url).create_bucket(Bucket=BUCKET)
        yield emulator


@pytest.fixture
def session(aws: LocalAWS) -> Any:
    return make_session(endpoint_url=aws.url, region="us-east-1")


def _group(aws: LocalAWS, name: str) -> str:
    client("sagemaker", aws.url).create_model_package_group(ModelPackageGroupName=name)
    return name


def _artifact(aws: LocalAWS, key: str, body: bytes) -> str:
    client("s3", aws.url).put_object(Bucket=BUCKET, Key=key, Body=body)
    return f"s3://{BUCKET}/{key}"


def _register(session: Any, group: str, url: str, approval: str = registry.APPROVED, **extra: Any) -> Any:
    arguments: dict[str, Any] = {
        "group": group,
        "model_data_url": url,
        "image_uri": IMAGE,
        "environment": {"SAGEMAKER_PROGRAM": "inference.py"},
        "metrics": METRICS,
        "source": "local run build/train/1",
        "approval": approval,
    } | extra
    return registry.register(session, **arguments)


def test_register_records_the_artifact_metrics_and_source_and_is_idempotent(aws: LocalAWS, session: Any) -> None:
    group = _group(aws, "lib-idempotent")
    url = _artifact(aws, "models/a.tar.gz", b"artifact a")
    version, created = _register(session, group, url)
    assert created
    assert version == registry.ModelVersion(
        arn=f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{group}/1",
        group=group,
        version=1,
        approval="Approved",
        model_data_url=url,
        image_uri=IMAGE,
        sha256=hashlib.sha256(b"artifact a").hexdigest(),
        metrics=METRICS,
        source="local run build/train/1",
    )
    # The same bytes under another key, another source: the version it already has, unchanged.
    again, created = _register(session, group, _artifact(aws, "models/copy.tar.gz", b"artifact a"), source="job-2")
    assert (again, created) == (version, False)
    other, created = _register(session, group, _artifact(aws, "models/b.tar.gz", b"artifact b"))
    assert created and other.version == 2
    assert registry.describe(session, version.arn, group=group) == version


def test_a_pending_version_must_be_approved_before_it_is_deployed(aws: LocalAWS, session: Any) -> None:
    group = _group(aws, "lib-prod")
    version, _ = _register(session, group, _artifact(aws, "models/p.tar.gz", b"prod"), approval=registry.PENDING)
    assert version.approval == "PendingManualApproval"
    with pytest.raises(registry.VersionNotApprovedError, match=f"scones approve {version.arn}"):
        registry.require_approved(session, version.arn, group=group)
    assert registry.latest(session, group, approval=registry.APPROVED) is None
    approved = registry.approve(session, version.arn, group=group, description="reviewed by ops")
    assert approved.approval == "Approved" and approved.metrics == METRICS and approved.sha256 == version.sha256
    described = client("sagemaker", aws.url).describe_model_package(ModelPackageName=version.arn)
    assert described["ApprovalDescription"] == "reviewed by ops"
    assert registry.require_approved(session, version.arn, group=group) == approved
    assert registry.latest(session, group, approval=registry.APPROVED) == approved


def test_latest_is_the_newest_version(aws: LocalAWS, session: Any) -> None:
    group = _group(aws, "lib-latest")
    assert registry.latest(session, group) is None
    _register(session, group, _artifact(aws, "models/l1.tar.gz", b"l1"))
    newest, _ = _register(session, group, _artifact(aws, "models/l2.tar.gz", b"l2"), approval=registry.PENDING)
    assert registry.latest(session, group) == newest
    assert registry.latest(session, group, approval=registry.APPROVED).version == 1  # type: ignore[union-attr]


def test_bad_input_gets_a_named_error_and_registers_nothing(aws: LocalAWS, session: Any) -> None:
    group = _group(aws, "lib-bad")
    url = _artifact(aws, "models/ok.tar.gz", b"ok")
    version, _ = _register(session, group, url)
    other = version.arn.replace(f"/{group}/", "/lib-elsewhere/")
    with pytest.raises(registry.VersionFromAnotherGroupError, match="lib-elsewhere"):
        registry.describe(session, other, group=group)
    with pytest.raises(registry.VersionFromAnotherGroupError):
        registry.approve(session, other, group=group)
    with pytest.raises(registry.ModelVersionNotFoundError):
        registry.describe(session, version.arn.replace("/1", "/7"))
    with pytest.raises(registry.InvalidVersionArnError):
        registry.describe(session, f"arn:aws:sagemaker:us-east-1:123456789012:model-package-group/{group}")
    with pytest.raises(registry.ArtifactNotFoundError, match=r"missing\.tar\.gz does not exist"):
        _register(session, group, f"s3://{BUCKET}/models/missing.tar.gz")
    with pytest.raises(registry.ModelGroupNotFoundError, match="apply the environment's stack"):
        _register(session, "lib-no-such-group", url)
    with pytest.raises(registry.InvalidCandidateError, match="is not an ECR image URI"):
        _register(session, group, url, image_uri="pytorch-inference:latest")
    with pytest.raises(registry.InvalidCandidateError, match="approval"):
        _register(session, group, url, approval="Yes")
    with pytest.raises(registry.InvalidCandidateError, match="metric"):
        _register(session, group, _artifact(aws, "models/m.tar.gz", b"m"), metrics={"notes": "x" * 300})
    assert [v.version for v in [registry.latest(session, group)] if v] == [1]
    assert issubclass(registry.VersionNotApprovedError, registry.RegistryError)
