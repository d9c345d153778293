"""Register and record against the in-process emulator's model registry: a manual-approval environment
registers the candidate PendingManualApproval and stops at the record until it is approved; the record then
names the version; the same artifact again is the same version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scones.aws import make_session
from scones.local.server import LocalAWS
from scones.paths import repo_root
from scones.release import registry
from scones.release.config import load_config
from scones.release.pipeline import Release, ReleaseRequest
from scones.release.workspace import workspace_for
from tests.support.local_fixtures import client

GROUP = "scones-prod-models"
IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6-cpu-py312"
METRICS = {"accuracy": 0.95, "coverage": 0.7, "accepted_accuracy": 0.99, "threshold": 0.93, "count": 200}


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        client("s3", emulator.url).create_bucket(Bucket="models")
        client("s3", emulator.url).put_object(Bucket="models", Key="m/model.tar.gz", Body=b"an artifact")
        client("sagemaker", emulator.url).create_model_package_group(ModelPackageGroupName=GROUP)
        yield emulator


def _manual_release(aws: LocalAWS, tmp_path: Path) -> Release:
    workspace = workspace_for(
        "local", envs_dir=repo_root() / "terraform" / "envs", out=tmp_path, data_dir=tmp_path, state_dir=tmp_path
    )
    config = load_config(repo_root() / "terraform" / "envs" / "prod" / "release.json")  # approval: manual
    session = make_session(endpoint_url=aws.url)
    release = Release(workspace, config, ReleaseRequest(model_data_url="s3://models/m/model.tar.gz"), session,
                      terraform=object(), echo=lambda line: None)  # type: ignore[arg-type]  # fmt: skip
    release.open_run()
    return release


def test_a_manual_environment_stops_at_the_record_until_the_version_is_approved(aws: LocalAWS, tmp_path: Path) -> None:
    release = _manual_release(aws, tmp_path)
    chosen = {"model_data_url": "s3://models/m/model.tar.gz", "model_image_uri": IMAGE, "source": "--model-data-url"}
    stack: dict[str, Any] = {"model_package_group_name": GROUP}

    registered = release.stage("register", lambda: release._register(stack, chosen, METRICS), reuse=True)
    assert (registered["approval"], registered["created"], registered["version"]) == ("PendingManualApproval", True, 1)
    assert registry.describe(release.session, registered["arn"]).metrics["accuracy"] == 0.95

    with pytest.raises(registry.VersionNotApprovedError, match=f"scones approve {registered['arn']}"):
        release.stage("record", lambda: release._record(chosen, registered))
    assert not release.workspace.tfvars_file.exists()  # nothing recorded, nothing to plan
    assert release.run.data["stages"]["record"]["outcome"] == "failed"

    registry.approve(release.session, registered["arn"], group=GROUP)
    release.stage("record", lambda: release._record(chosen, registered))
    assert json.loads(release.workspace.tfvars_file.read_text()) == {"model_package_arn": registered["arn"]}
    assert release.run.data["registry"]["approval"] == "Approved"

    again = _manual_release(aws, tmp_path / "again")
    same = again._register(stack, chosen, METRICS)
    assert same[0] == "skipped" and same[2]["arn"] == registered["arn"] and not same[2]["created"]


class _Recorded:
    """Terraform's state as preflight reads it: the stack's registry group."""

    def ensure_initialised(self) -> bool:
        return False

    def stack(self) -> dict[str, Any]:
        return {"model_package_group_name": GROUP, "data_bucket_name": "models"}


def test_a_rejected_version_is_refused_with_its_reason_and_nothing_is_recorded(aws: LocalAWS, tmp_path: Path) -> None:
    client("s3", aws.url).put_object(Bucket="models", Key="r/model.tar.gz", Body=b"a rejected artifact")
    chosen = {"model_data_url": "s3://models/r/model.tar.gz", "model_image_uri": IMAGE, "source": "--model-data-url"}
    stack: dict[str, Any] = {"model_package_group_name": GROUP}
    first = _manual_release(aws, tmp_path / "first")
    registered = first.stage("register", lambda: first._register(stack, chosen, METRICS), reuse=True)
    rejected = registry.reject(first.session, registered["arn"], group=GROUP, description="fails on night images")
    assert (rejected.approval, rejected.approval_description) == ("Rejected", "fails on night images")

    # The same artifact again: the rejected version, not a new one; the record refuses it with the reason.
    release = _manual_release(aws, tmp_path / "again")
    again = release.stage("register", lambda: release._register(stack, chosen, METRICS), reuse=True)
    assert again["arn"] == registered["arn"] and not again["created"]
    with pytest.raises(registry.VersionRejectedError, match="was Rejected \\(fails on night images\\)"):
        release.stage("record", lambda: release._record(chosen, again))
    assert not release.workspace.tfvars_file.exists()

    # The version by ARN: refused before anything runs.
    by_arn = Release(release.workspace, release.config, ReleaseRequest(model_package_arn=registered["arn"]),
                     release.session, terraform=_Recorded(), echo=lambda line: None)  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(registry.VersionRejectedError, match="no release deploys it"):
        by_arn.preflight()


def test_a_rejection_needs_a_reason_and_changes_nothing_without_one(aws: LocalAWS, tmp_path: Path) -> None:
    client("s3", aws.url).put_object(Bucket="models", Key="n/model.tar.gz", Body=b"another artifact")
    release = _manual_release(aws, tmp_path)
    chosen = {"model_data_url": "s3://models/n/model.tar.gz", "model_image_uri": IMAGE, "source": "--model-data-url"}
    registered = release._register({"model_package_group_name": GROUP}, chosen, METRICS)[2]
    with pytest.raises(registry.InvalidCandidateError, match="needs its reason"):
        registry.reject(release.session, registered["arn"], group=GROUP, description="  ")
    assert registry.describe(release.session, registered["arn"]).approval == "PendingManualApproval"
