"""End to end on the local emulator: `scones release --env local` on one stack (applied once without a
model), one two-epoch model trained once by the first release (the train stage), and every later scenario
releasing an artifact by URL (issue 19's release tests).

The stack is the local root with prod's rollout: two instances and a canary of one with a baking period
(CANARY below), so a model update is a blue/green deployment that SageMaker (the emulator) rolls back when an
alarm fires; its bakes are played on the emulator's test clock (tests/support/deployment_player.py).

The scenarios run in order on the same stack, each starting from what the one before left deployed: a good
candidate releases end to end; a candidate below the floors stops at the gate; one that passes the gate but
fails in serving trips a rollback alarm during the canary and is rolled back; the same artifact as the first
release's, which the rollback restored, changes nothing (so the rollback left the state matching what serves);
a prod-configured release stops until its version is approved, then resumes; bad input changes nothing.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner, Result

from scones.aws import make_session
from scones.cli import main
from scones.deploy import StackConfig, apply_stack
from scones.local import control
from scones.local.alarms import evaluate_remote
from scones.release import alarms, registry
from scones.workflow import Outcome, run_executions
from tests.support.deployment_player import DeploymentPlayer
from tests.support.e2e_stacks import assert_nothing_left
from tests.support.local_fixtures import free_port

pytestmark = pytest.mark.e2e
STAGES = ["data", "train", "evaluate", "gate", "register", "record", "plan", "apply", "verify", "smoke"]
# Serving code that answers under `scones evaluate` and raises in the endpoint's model server, as code
# needing something the serving image lacks would: the candidate passes the gate and fails on real traffic.
FAILS_IN_SERVING = """

import sys as _sys

_evaluated_predict_fn = predict_fn


def predict_fn(data, model):
    if _sys.argv[0].endswith("model_worker.py"):
        raise RuntimeError("this candidate cannot serve in the serving container")
    return _evaluated_predict_fn(data, model)
"""
# prod's rollout on the emulator: a canary of one of two instances, with a baking period of 1200 s.
CANARY = {
    "traffic_routing": "CANARY",
    "step": {"type": "INSTANCE_COUNT", "value": 1},
    "wait_interval_seconds": 1200,
    "maximum_execution_timeout_seconds": 3600,
}


@dataclass
class ReleaseStack:
    config: StackConfig
    reports: Path
    release_config: Path  # floors a two-epoch model meets
    applied: dict[str, Any]  # the stack's outputs before any release: names that no release changes

    @property
    def session(self) -> Any:
        return make_session(endpoint_url=self.config.url)

    def release(self, *args: str) -> Result:
        return CliRunner().invoke(
            main,
            [
                "release", "--endpoint-url", self.config.url, "--state-dir", str(self.config.out),
                "--out", str(self.reports), "--data-dir", str(self.config.data_dir), "--env", "local",
                *(() if "--config" in args else ("--config", str(self.release_config))), *args,
            ],
        )  # fmt: skip

    def runs(self) -> list[Path]:
        folder = self.reports / "local"
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def last_report(self) -> dict[str, Any]:
        return dict(json.loads((self.runs()[-1] / "report.json").read_text()))

    def outputs(self) -> dict[str, Any]:
        """The stack output as the state records it now (the model deployed)."""
        return recorded_stack(self.config)

    def serving_config(self) -> str:
        described = self.session.client("sagemaker").describe_endpoint(EndpointName=self.applied["endpoint_name"])
        return str(described["EndpointConfigName"])

    def test_images(self, count: int) -> list[str]:
        s3 = self.session.client("s3")
        listed = s3.list_objects_v2(Bucket=self.applied["data_bucket_name"], Prefix="data/test/")["Contents"]
        return [obj["Key"] for obj in listed[:count]]

    def answers(self) -> list[Outcome]:
        stack = self.applied
        results = run_executions(
            self.session.client("stepfunctions"),
            stack["state_machine_arn"],
            stack["data_bucket_name"],
            self.test_images(2),
        )
        return [result.outcome for result in results]

    def invoke(self, count: int) -> int:
        """`count` requests straight to the endpoint, as users would send them; how many failed."""
        s3, runtime = self.session.client("s3"), self.session.client("sagemaker-runtime")
        failed = 0
        for key in self.test_images(count):
            body = s3.get_object(Bucket=self.applied["data_bucket_name"], Key=key)["Body"].read()
            try:
                runtime.invoke_endpoint(EndpointName=self.applied["endpoint_name"], ContentType="image/png", Body=body)
            except ClientError:
                failed += 1
        return failed


def recorded_stack(config: StackConfig) -> dict[str, Any]:
    """The `stack` output in the stack's local state file (what the releases apply to), as `terraform output`
    would print it: the state's `outputs` keep each root output's value, and a look needs no terraform process
    (0.6 CPU-s each)."""
    return dict(json.loads(config.state_file.read_text())["outputs"]["stack"]["value"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReleaseStack]:
    out = tmp_path_factory.mktemp("release")
    config = StackConfig(out=out / "stack", port=free_port(), data_dir=out / "prepared")
    config.out.mkdir()
    config.tfvars_file.parent.mkdir(parents=True)  # the release's record stage keeps these keys
    config.tfvars_file.write_text(
        json.dumps({"endpoint_autoscaling": {"min_capacity": 2}, "endpoint_deployment": CANARY})
    )
    state, already_running = control.up(config.emulator_dir, port=config.port)
    assert not already_running
    try:
        apply_stack(config)  # the stack without a model: the first release deploys one
        # A two-epoch model is sure of few images at the stack's threshold: the repository's floors, with
        # the coverage floor lowered to what it reaches.
        floors = {"accuracy": 0.7, "coverage": 0.02, "accepted_accuracy": 0.8}
        smoke = {"count": 2, "capture_timeout_seconds": 20}
        release_config = _write_config(out / "release.json", floors=floors, smoke=smoke)
        yield ReleaseStack(config, out / "reports", release_config, recorded_stack(config))
    finally:
        control.down(config.emulator_dir)
    assert_nothing_left(config, state.pid)


def _write_config(path: Path, base: Path | None = None, **changes: Any) -> Path:
    """The local environment's release.json (or `base`) with `changes`."""
    base = base or Path(__file__).resolve().parents[2] / "terraform/envs/local/release.json"
    path.write_text(json.dumps({**json.loads(base.read_text()), **changes}))
    return path


@pytest.fixture(scope="module")
def released(stack: ReleaseStack) -> dict[str, Any]:
    """The first release: trains the two-epoch model (the train stage), gates, deploys, verifies it."""
    result = stack.release("--epochs", "2")
    assert result.exit_code == 0, result.output
    return stack.last_report()


def test_a_good_candidate_releases_end_to_end_with_a_complete_report(
    stack: ReleaseStack, released: dict[str, Any]
) -> None:
    assert released["status"] == "released"
    assert list(released["stages"]) == STAGES
    assert all(stage["outcome"] in ("done", "passed", "skipped") for stage in released["stages"].values())
    assert released["stages"]["train"]["outcome"] == "done"  # trained, not given
    assert released["gate"]["passed"]
    assert released["plan"]["counts"]["create"] > 0 and released["plan"]["counts"]["delete"] == 0
    assert released["verification"]["status"] == "InService"
    assert released["smoke"]["passed"] and released["smoke"]["captured"] == released["smoke"]["captures_expected"]
    version = released["registry"]
    assert (version["approval"], version["created"]) == ("Approved", True)
    assert stack.outputs()["model_package_arn"] == version["arn"]  # the state records the registry version
    registered = registry.describe(stack.session, version["arn"])
    assert registered.model_data_url == released["candidate"]["model_data_url"]
    assert registered.metrics["accuracy"] == released["candidate"]["metrics"]["accuracy"]
    summary = (stack.runs()[-1] / "summary.md").read_text()
    for part in ("**released**", "| accuracy |", "Gate: **passed**", "Registry: version 1", "**Plan:**"):
        assert part in summary
    assert "Verification:" in summary and "Smoke test: **passed**" in summary


def test_a_candidate_below_the_floors_is_stopped_at_the_gate(
    stack: ReleaseStack, released: dict[str, Any], tmp_path: Path
) -> None:
    before = stack.serving_config()
    strict = _write_config(
        tmp_path / "strict.json", floors={"accuracy": 0.99, "coverage": 0.9, "accepted_accuracy": 0.99}
    )
    result = stack.release("--config", str(strict), "--model-data-url", released["candidate"]["model_data_url"])
    assert result.exit_code != 0
    assert "gate: the candidate is refused" in result.output
    assert "accuracy           0.8" in result.output and ">= 0.9900  REFUSED" in result.output  # the numbers
    report = stack.last_report()
    assert report["status"] == "refused"
    assert list(report["stages"]) == ["data", "train", "evaluate", "gate"]  # nothing registered, nothing applied
    assert stack.serving_config() == before
    assert registry.latest(stack.session, stack.applied["model_package_group_name"]).arn == released["registry"]["arn"]


def _copy(stack: ReleaseStack, model_data_url: str, name: str, serving_code_suffix: str = "") -> str:
    """A copy of the released artifact next to it in S3 (`name`/model.tar.gz), its serving code extended with
    `serving_code_suffix`, and its own content whatever the suffix (the registry knows artifacts by SHA-256)."""
    s3 = stack.session.client("s3")
    bucket, key = model_data_url.removeprefix("s3://").split("/", 1)
    body = io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    copy = io.BytesIO()
    with tarfile.open(fileobj=body) as original, tarfile.open(fileobj=copy, mode="w:gz") as archive:
        for member in original.getmembers():
            data = original.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.name.endswith("code/inference.py") and data is not None:
                data += f"\n# {name}\n{serving_code_suffix}".encode()
                member.size = len(data)
            archive.addfile(member, io.BytesIO(data) if data is not None else None)
    copy_key = key.replace("model.tar.gz", f"{name}/model.tar.gz")
    s3.put_object(Bucket=bucket, Key=copy_key, Body=copy.getvalue())
    return f"s3://{bucket}/{copy_key}"


def test_a_candidate_failing_in_serving_trips_a_rollback_alarm_during_the_canary_and_is_rolled_back(
    stack: ReleaseStack, released: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    previous, before = released["registry"]["arn"], stack.serving_config()
    # The rollback waits for CloudWatch to clear the alarm the candidate tripped (issue 19): on a test clock
    # whose sleeps move it on, evaluating the emulator's alarms at the later times. (The player evaluates the
    # restore's bake at its end, past the candidate's errors either way: that an alarm forced to OK fires again
    # within the bake and undoes the restore is shown in tests/unit/release/test_rollback_alarms.py.)
    waited: list[float] = []

    def now() -> datetime:  # the real time, moved on by the sleeps the wait did not take
        return datetime.now(UTC) + timedelta(seconds=sum(waited))

    monkeypatch.setattr(alarms, "CLOCK", alarms.Clock(now, waited.append))
    failing = _copy(stack, released["candidate"]["model_data_url"], "fails-in-serving", FAILS_IN_SERVING)
    failed_requests: list[int] = []

    def during_first_bake(index: int, described: dict[str, Any]) -> None:
        failed_requests.append(stack.invoke(4))  # users' requests
        if index == 0:  # the candidate's canary
            evaluate_remote(stack.config.url)  # CloudWatch evaluates the alarms while the canary bakes

    with DeploymentPlayer(stack.config.url, stack.applied["endpoint_name"], during_first_bake) as player:
        result = stack.release("--model-data-url", failing)
    # The canary (one of two instances) took half of the requests, and failed them all; while the release
    # rolled back, both fleets served the previous model.
    assert failed_requests == [2, 0]
    # Two deployments: the candidate's, rolled back by SageMaker during the canary's bake; the release's
    # rollback stage's, of the previous version, which took over.
    candidate, restored = player.played
    assert candidate.failure_reason is not None and "scones-local-endpoint-5xx" in candidate.failure_reason
    assert "step 1 of 2" in candidate.failure_reason  # during the canary, not after all traffic moved
    assert restored.failure_reason is None
    assert result.exit_code != 0
    # verify caught what the provider recorded as a success: the endpoint is back on its old configuration.
    assert f"it serves endpoint configuration {before}, not" in result.output
    assert "rollback alarm(s) in ALARM: scones-local-endpoint-5xx" in result.output
    # Not forced to OK: the restore waited until the errors left the alarm's range (three 300 s periods).
    assert "waiting for the candidate's errors to leave the alarms' range" in result.output
    assert 0 < sum(waited) <= 1500
    assert f"rolled back to {previous}" in result.output
    report = stack.last_report()
    assert report["status"] == "rolled_back"
    assert report["gate"]["passed"]  # its evaluation is the good model's
    assert report["stages"]["apply"]["outcome"] == "done"
    assert report["stages"]["verify"]["outcome"] == "failed"
    assert "smoke" not in report["stages"]  # the candidate never served all the traffic
    assert report["stages"]["rollback"]["outcome"] == "done"
    assert stack.outputs()["model_package_arn"] == previous
    assert stack.serving_config() == stack.outputs()["endpoint_config_name"]
    assert all(outcome not in (Outcome.FAILED, Outcome.TIMED_OUT) for outcome in stack.answers())
    # That the state matches what serves (a plan changes nothing) is the next test's: it releases this
    # restored model again, and its plan must find nothing to change.


def test_a_second_release_of_the_same_artifact_changes_nothing(stack: ReleaseStack, released: dict[str, Any]) -> None:
    """After the rollback, which restored the first release's version: the release's own plan (a refreshed
    plan of the state against the endpoint) finds nothing to change."""
    before = stack.serving_config()
    result = stack.release("--model-data-url", released["candidate"]["model_data_url"])
    assert result.exit_code == 0, result.output
    report = stack.last_report()
    assert report["status"] == "unchanged"
    assert report["registry"]["arn"] == released["registry"]["arn"] and not report["registry"]["created"]
    assert report["plan"]["headline"] == "no changes"
    assert report["stages"]["apply"]["outcome"] == "skipped"
    assert "smoke" not in report["stages"]
    assert stack.serving_config() == before


def test_a_prod_configured_release_refuses_an_unapproved_version_and_resumes_once_it_is_approved(
    stack: ReleaseStack, released: dict[str, Any], tmp_path: Path
) -> None:
    before, deployed = stack.serving_config(), stack.outputs()["model_package_arn"]
    manual = _write_config(tmp_path / "manual.json", base=stack.release_config, approval="manual")
    candidate = _copy(stack, released["candidate"]["model_data_url"], "v-next")
    result = stack.release("--config", str(manual), "--model-data-url", candidate)
    assert result.exit_code != 0
    report = stack.last_report()
    version = report["registry"]
    assert (version["approval"], version["created"]) == ("PendingManualApproval", True)
    assert f"{version['arn']} is PendingManualApproval, not Approved" in result.output
    assert f"scones approve {version['arn']}" in result.output
    assert report["status"] == "failed" and report["stages"]["record"]["outcome"] == "failed"  # resumable
    assert "plan" not in report["stages"]
    assert (stack.serving_config(), stack.outputs()["model_package_arn"]) == (before, deployed)

    # Approved as the message says, the same release again resumes that run: nothing registered twice.
    group = stack.applied["model_package_group_name"]
    versions = len(registry.versions(stack.session, group))
    approval = CliRunner().invoke(
        main, ["approve", version["arn"], "--env", "local", "--endpoint-url", stack.config.url]
    )
    assert approval.exit_code == 0, approval.output
    refused_run = stack.runs()[-1]
    with DeploymentPlayer(stack.config.url, stack.applied["endpoint_name"], lambda index, described: None) as player:
        resumed = stack.release("--config", str(manual), "--model-data-url", candidate)
    assert resumed.exit_code == 0, resumed.output
    assert f"resuming the unfinished release {refused_run}" in resumed.output
    assert "register: done in an earlier attempt of this run, reused" in resumed.output
    assert stack.runs()[-1] == refused_run
    report = stack.last_report()
    assert report["status"] == "released"
    assert (report["registry"]["arn"], report["registry"]["approval"]) == (version["arn"], "Approved")
    assert len(registry.versions(stack.session, group)) == versions
    assert [played.failure_reason for played in player.played] == [None]  # the canary baked and took over
    assert stack.outputs()["model_package_arn"] == version["arn"]
    assert stack.serving_config() == stack.outputs()["endpoint_config_name"] != before


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--env", "staging"], "unknown environment 'staging'"),
        (["--env", "dev"], "backend.hcl is missing"),
        (
            ["--model-data-url", "s3://scones-local-data-123456789012-us-east-1/models/none/model.tar.gz"],
            "does not exist",
        ),
        (
            ["--model-package-arn", "arn:aws:sagemaker:us-east-1:123456789012:model-package/scones-dev-models/1"],
            "is a version of scones-dev-models, not of scones-local-models",
        ),
    ],
    ids=["unknown-environment", "missing-backend-config", "missing-artifact", "version-of-another-group"],
)
def test_bad_input_gets_a_named_error_and_changes_nothing(
    stack: ReleaseStack, released: dict[str, Any], args: list[str], error: str
) -> None:
    before, runs = stack.serving_config(), stack.runs()
    result = stack.release(*args)
    assert result.exit_code != 0
    assert error in result.output
    assert stack.runs() == runs  # not even a report: refused before the release began
    assert stack.serving_config() == before
