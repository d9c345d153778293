"""Whole stacks on a private local emulator for the end-to-end tests, brought up by scones.deploy.

`trained_stack`: the real test images and the committed trained model (tests/fixtures/trained_model), with
the filter's threshold moved between the test images' confidences so both outcomes happen. `tiny_stack`: the
same Terraform with the tiny red/blue model of tests/support/local_fixtures.py and no training,
for a test that changes its stack (its SageMaker role is also granted the artifact's own bucket:
the emulator enforces IAM).

Both stop their emulator when the block ends and, when nothing failed before, check what
`control.down` promises: the daemon, its Lambda sandboxes and model servers all gone, no state
left. Every stack is checked this way, after whatever its tests ran, in any test order.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scones.aws import make_session
from scones.classify import Verdict, classify
from scones.data.s3_sync import sync_folder
from scones.deploy import Deployment, StackConfig, apply_stack, set_model
from scones.evaluation.served_model import load_served_model, one_thread
from scones.local import control
from scones.prepare import prepare_local
from scones.workflow import ExecutionResult, run_executions
from tests.support.local_fixtures import free_port
from tests.support.trained_model import fixture_metadata, trained_model_tarball

# What `scones train --local` names for us-east-1; the emulator serves any image.
MODEL_IMAGE_URI = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.6-cpu-py312"


@dataclass
class Stack:
    deployment: Deployment
    daemon_pid: int
    confidences: dict[str, tuple[float, list[float]]]  # test key -> (top probability, probabilities)
    threshold: float  # the filter's
    flagged: frozenset[str] = frozenset()  # test keys the model's own guard calls out of distribution

    def in_distribution(self) -> dict[str, tuple[float, list[float]]]:
        """The test images the guard passes: the ones whose confidence alone decides the outcome."""
        return {key: value for key, value in self.confidences.items() if key not in self.flagged}

    def client(self, service: str) -> Any:
        return self.deployment.session().client(service)

    @property
    def bucket(self) -> str:
        return str(self.deployment.outputs["data_bucket_name"])

    def api(self) -> tuple[str, str]:
        """The classification API's URL on the emulator and the local team's key (the local root's outputs)."""
        outputs = self.deployment.outputs
        return str(outputs["api_url"]), str(outputs["api_key"])

    def batch(self, prefix: str) -> Any:
        """`scones batch --wait --json` over `prefix` with the stack's batch state machine (a click Result)."""
        from click.testing import CliRunner

        from scones.batch_cli import batch_cmd

        arn = str(self.deployment.outputs["stack"]["batch_state_machine_arn"])
        args = ["--prefix", prefix, "--state-machine-arn", arn, "--endpoint-url", self.deployment.url]
        return CliRunner().invoke(batch_cmd, [*args, "--wait", "--json", "--timeout", "300"], catch_exceptions=False)

    def classify(self, target: str) -> Verdict:
        """`target` (a file or s3://bucket/key) through the API, signed with the admin's keys."""
        api_url, api_key = self.api()
        session = self.deployment.session()
        return classify(target, api_url=api_url, api_key=api_key, session=session, region=session.region_name)

    def run(self, *keys: str) -> list[tuple[ExecutionResult, dict[str, Any]]]:
        """One workflow execution per key, all at once: how each ended, and describe_execution's answer ({} for
        an Express execution, which Step Functions does not describe)."""
        sfn = self.client("stepfunctions")
        results = run_executions(
            sfn,
            self.deployment.outputs["state_machine_arn"],
            self.bucket,
            keys,
            concurrency=len(keys),
            timeout_seconds=120,
            name_prefix="e2e",
        )
        described = [
            {} if ":express:" in result.execution_arn else sfn.describe_execution(executionArn=result.execution_arn)
            for result in results
        ]
        return list(zip(results, described, strict=True))


def _choose_threshold(confidences: list[float]) -> float:
    """A threshold with test images on both sides of it, so both outcomes can be exercised."""
    ordered = sorted(confidences)
    low, high = ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]
    assert high > low, f"the model gives every image the same confidence {low}"
    return round((low + high) / 2, 6)


@contextmanager
def trained_stack(out: Path, variables: dict[str, str] | None = None) -> Iterator[Stack]:
    """The committed trained model (tests/fixtures/trained_model, with this checkout's serving code) on the
    real test images, in one apply, with the filter's threshold between the confidences of the images its
    guard passes, and the local root's `variables` set (e.g. batch_max_items). (Training, and a model
    released by the pipeline, are tests/e2e/test_release.py's.)"""
    config = StackConfig(out=out, port=free_port(), data_dir=out / "prepared")
    state, already_running = control.up(config.emulator_dir, port=config.port)
    assert not already_running
    try:
        tarball = trained_model_tarball(out / "model.tar.gz")
        prepare_local(config.source, config.data_dir)
        served = load_served_model(str(tarball), out / "model")
        confidences, flagged = {}, set()
        with one_thread():  # 200 images one at a time: torch's threads only contend (served_model.py)
            for png in sorted((config.data_dir / "test").rglob("*.png")):
                answer = served.answer(png.read_bytes(), "image/png")
                key = f"data/test/{png.parent.name}/{png.name}"
                confidences[key] = (max(answer.probabilities), list(answer.probabilities))
                if answer.out_of_distribution:
                    flagged.add(key)
        # Between the confidences of images the guard passes: a flagged image is rejected before its confidence counts.
        threshold = _choose_threshold([c for key, (c, _) in confidences.items() if key not in flagged])
        session = make_session(endpoint_url=config.url)
        model_data_url = upload_artifact(session, "trained/model.tar.gz", tarball.read_bytes())
        set_model(config, ["--model-data-url", model_data_url, "--model-image-uri", MODEL_IMAGE_URI])
        config.extra_vars = {"threshold": str(threshold), **(variables or {})}
        terraform, seconds = apply_stack(config)
        outputs = terraform.outputs()
        grant_models_bucket(session, outputs["stack"]["sagemaker_role_arn"])
        # The test split where `scones prepare` stages it (data/test/...); the train split serves no test here.
        test_files = [config.data_dir / "test.lst", *sorted((config.data_dir / "test").rglob("*.png"))]
        sync_folder(session.client("s3"), config.data_dir, test_files, outputs["data_bucket_name"], "data")
        trained = {
            "model_data_url": model_data_url,
            "model_image_uri": MODEL_IMAGE_URI,
            "metrics": fixture_metadata()["metrics"],  # as training recorded them in the artifact
        }
        deployment = Deployment(config, terraform, outputs, trained, seconds)
        yield Stack(deployment, state.pid, confidences, threshold, frozenset(flagged))
    finally:
        control.down(config.emulator_dir)
    assert_nothing_left(config, state.pid)


def assert_nothing_left(config: StackConfig, daemon_pid: int) -> None:
    """After `control.down`: no process of the emulator's group (workers included), no state file."""
    assert not control.pid_alive(daemon_pid)
    assert control.processes_in_group(daemon_pid) == []
    assert not (config.emulator_dir / "state.json").exists()


def stack_leftovers(session: Any, prefix: str = "scones-local") -> dict[str, list[str]]:
    """Everything the emulator holds that a stack named `prefix` makes (by kind; [] for none)."""
    sagemaker, autoscaling = session.client("sagemaker"), session.client("application-autoscaling")
    apigateway = session.client("apigateway")
    held = {
        "rest_apis": [api["name"] for api in apigateway.get_rest_apis()["items"]],
        "api_keys": [key["name"] for key in apigateway.get_api_keys()["items"]],
        "usage_plans": [plan["name"] for plan in apigateway.get_usage_plans()["items"]],
        "buckets": [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]],
        "roles": [r["RoleName"] for r in session.client("iam").list_roles()["Roles"]],
        "functions": [f["FunctionName"] for f in session.client("lambda").list_functions()["Functions"]],
        "state_machines": [m["name"] for m in session.client("stepfunctions").list_state_machines()["stateMachines"]],
        "topics": [t["TopicArn"].rsplit(":", 1)[-1] for t in session.client("sns").list_topics()["Topics"]],
        "queues": [url.rsplit("/", 1)[-1] for url in session.client("sqs").list_queues().get("QueueUrls", [])],
        "event_buses": [b["Name"] for b in session.client("events").list_event_buses()["EventBuses"]],
        "alarms": [a["AlarmName"] for a in session.client("cloudwatch").describe_alarms()["MetricAlarms"]],
        "log_groups": [g["logGroupName"] for g in session.client("logs").describe_log_groups()["logGroups"]],
        "models": [m["ModelName"] for m in sagemaker.list_models()["Models"]],
        "endpoint_configs": [c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]],
        "endpoints": [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]],
        "model_package_groups": [
            g["ModelPackageGroupName"] for g in sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
        ],
        "scalable_targets": [
            t["ResourceId"]
            for t in autoscaling.describe_scalable_targets(ServiceNamespace="sagemaker")["ScalableTargets"]
        ],
    }
    return {kind: [name for name in names if prefix in name] for kind, names in held.items()}


MODELS_BUCKET = "scones-e2e-models"  # not the stack's: an artifact can be there before the stack is
# The stack's SageMaker role reads artifacts only under its data bucket's models prefix; the emulator
# enforces IAM, so the role is also allowed MODELS_BUCKET, as an operator would grant a bucket of their own.
MODELS_BUCKET_GRANT = "read-e2e-models"


def upload_artifact(session: Any, key: str, artifact: bytes) -> str:
    s3 = session.client("s3")
    if MODELS_BUCKET not in {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=MODELS_BUCKET)
    s3.put_object(Bucket=MODELS_BUCKET, Key=key, Body=artifact)
    return f"s3://{MODELS_BUCKET}/{key}"


def grant_models_bucket(session: Any, role_arn: str) -> None:
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{MODELS_BUCKET}/*"}
    session.client("iam").put_role_policy(
        RoleName=role_arn.rsplit("/", 1)[-1],
        PolicyName=MODELS_BUCKET_GRANT,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
    )


def local_env_copy(out: Path) -> Path:
    """A copy of terraform/envs/local that a test may add an override file to (`*_override.tf`, which
    Terraform merges into the root's blocks) without touching the checkout: the root's files copied,
    what it reaches through `../../..` (modules, Lambda packages, ASL) linked."""
    repo = Path(__file__).resolve().parents[2]
    env_dir = out / "terraform" / "envs" / "local"
    env_dir.mkdir(parents=True)
    for tf in (repo / "terraform" / "envs" / "local").glob("*.tf"):
        shutil.copy(tf, env_dir)
    (out / "terraform" / "modules").symlink_to(repo / "terraform" / "modules")
    for linked in ("build", "asl"):
        (out / linked).symlink_to(repo / linked)
    return env_dir


@contextmanager
def tiny_stack(
    out: Path, artifact: bytes, variables: dict[str, str] | None = None, env_dir: Path | None = None
) -> Iterator[Stack]:
    """The stack serving `artifact` (a tests.support.local_fixtures.model_artifact), in one apply, of the
    local root or of `env_dir` (a `local_env_copy`), with the root's `variables` set (e.g.
    state_machine_type)."""
    config = StackConfig(out=out, port=free_port(), extra_vars=dict(variables or {}))
    if env_dir is not None:
        config.env_dir = env_dir
    state, already_running = control.up(config.emulator_dir, port=config.port)
    assert not already_running
    try:
        model_data_url = upload_artifact(make_session(endpoint_url=config.url), "tiny/model.tar.gz", artifact)
        set_model(config, ["--model-data-url", model_data_url, "--model-image-uri", MODEL_IMAGE_URI])
        terraform, seconds = apply_stack(config)
        outputs = terraform.outputs()
        grant_models_bucket(make_session(endpoint_url=config.url), outputs["stack"]["sagemaker_role_arn"])
        trained = {"model_data_url": model_data_url, "model_image_uri": MODEL_IMAGE_URI}
        yield Stack(Deployment(config, terraform, outputs, trained, seconds), state.pid, {}, 0.93)
    finally:
        control.down(config.emulator_dir)
    assert_nothing_left(config, state.pid)
