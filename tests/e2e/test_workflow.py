"""End to end on the local emulator: the real Terraform, Lambda zips, state machine and a real
(quickly) trained model, with the same stages `make demo` runs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from scones import CLASS_NAMES
from scones.aws import make_session
from scones.demo import DemoConfig, Deployment, count_notifications, deploy, exercise
from scones.evaluation.served_model import load_served_model
from scones.local import control
from scones.monitor.capture import decode_capture_line
from tests.support.local_fixtures import free_port

pytestmark = pytest.mark.e2e
MISSING_KEY = "data/test/bicycle/no_such_image.png"


@dataclass
class Stack:
    config: DemoConfig
    url: str
    deployment: Deployment
    daemon_pid: int
    confidences: dict[str, tuple[float, list[float]]]  # key -> (top probability, probabilities)
    threshold: float

    def client(self, service: str) -> Any:
        return make_session(endpoint_url=self.url).client(service)

    @property
    def bucket(self) -> str:
        return self.deployment.outputs["data_bucket_name"]


def _choose_threshold(confidences: list[float]) -> float:
    """A threshold with test images on both sides of it, so both outcomes can be exercised
    whatever a two-epoch model happens to learn."""
    ordered = sorted(confidences)
    low, high = ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]
    assert high > low, f"the model gives every image the same confidence {low}"
    return round((low + high) / 2, 6)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    out = tmp_path_factory.mktemp("e2e")
    config = DemoConfig(out=out, port=free_port(), epochs=2, data_dir=out / "prepared")
    state_dir = out / "local"
    state, already_running = control.up(state_dir, port=config.port)
    assert not already_running
    try:
        deployment = deploy(config, state.url)
        served = load_served_model(
            deployment.trained["model_data_url"], out / "model", session=make_session(endpoint_url=state.url)
        )
        confidences = {}
        for png in sorted((config.data_dir / "test").rglob("*.png")):
            probabilities = served.probabilities(png.read_bytes(), "image/png")
            key = f"data/test/{png.parent.name}/{png.name}"
            confidences[key] = (max(probabilities), probabilities)
        threshold = _choose_threshold([c for c, _ in confidences.values()])
        # Changing a variable and applying again updates the filter Lambda's THRESHOLD in place.
        config.extra_vars = {"threshold": str(threshold)}
        deployment.terraform.apply("terraform apply (threshold)")
        yield Stack(config, state.url, deployment, state.pid, confidences, threshold)
    finally:
        control.down(state_dir)


def _run(stack: Stack, key: str) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=stack.deployment.outputs["state_machine_arn"],
        name=f"e2e-{int(time.time() * 1000)}",
        input=json.dumps({"image_data": "", "s3_bucket": stack.bucket, "s3_key": key}),
    )["executionArn"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        execution = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING":
            return execution
        time.sleep(0.2)
    pytest.fail(f"execution for {key} still running after 120 s")


@pytest.fixture(scope="module")
def executions(stack: Stack) -> dict[str, dict[str, Any]]:
    confident = max(stack.confidences, key=lambda k: stack.confidences[k][0])
    unsure = min(stack.confidences, key=lambda k: stack.confidences[k][0])
    return {
        "confident": {"key": confident, **_run(stack, confident)},
        "unsure": {"key": unsure, **_run(stack, unsure)},
        "missing": {"key": MISSING_KEY, **_run(stack, MISSING_KEY)},
    }


@pytest.fixture(scope="module")
def notifications(stack: Stack, executions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return count_notifications(stack.deployment.outputs["notification_queue_url"], stack.url)


def test_confident_image_succeeds_with_the_model_probabilities(
    stack: Stack, executions: dict[str, dict[str, Any]]
) -> None:
    run = executions["confident"]
    assert run["status"] == "SUCCEEDED", run
    output = json.loads(run["output"])
    assert output["statusCode"] == 200
    body = output["body"]
    assert body["s3_key"] == run["key"] and body["s3_bucket"] == stack.bucket
    expected = stack.confidences[run["key"]][1]
    assert body["inferences"] == pytest.approx(expected, abs=1e-5)  # the endpoint served this model
    assert max(body["inferences"]) >= stack.threshold


def test_unsure_image_fails_with_threshold_error_and_one_notification(
    stack: Stack, executions: dict[str, dict[str, Any]], notifications: list[dict[str, Any]]
) -> None:
    run = executions["unsure"]
    assert run["status"] == "FAILED"
    assert run["error"] == "ThresholdConfidenceNotMetError"
    assert run["key"] in run["cause"] and f"< threshold {stack.threshold}" in run["cause"]
    low = [n for n in notifications if n.get("event") == "low_confidence"]
    assert len(low) == 1
    assert low[0]["s3_key"] == run["key"]
    assert low[0]["inferences"] == pytest.approx(stack.confidences[run["key"]][1], abs=1e-5)
    assert low[0]["execution"] == run["executionArn"]


def test_missing_image_fails_with_image_not_found(
    executions: dict[str, dict[str, Any]], notifications: list[dict[str, Any]]
) -> None:
    run = executions["missing"]
    assert run["status"] == "FAILED"
    assert run["error"] == "ImageNotFoundError"
    assert "no_such_image.png not found" in run["cause"]
    failures = [n for n in notifications if n.get("event") == "failure"]
    assert [n["error"] for n in failures] == ["ImageNotFoundError"]
    assert failures[0]["input"]["s3_key"] == MISSING_KEY
    assert len(notifications) == 2


def test_captured_records_match_endpoint_invocations(stack: Stack, executions: dict[str, dict[str, Any]]) -> None:
    s3 = stack.client("s3")
    bucket = stack.deployment.outputs["capture_bucket_name"]
    objects = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    endpoint = stack.deployment.outputs["endpoint_name"]
    records = []
    for obj in objects:
        # <endpoint>/<variant>/YYYY/MM/DD/HH/<file>.jsonl, as SageMaker writes it
        parts = obj["Key"].split("/")
        assert endpoint in parts and obj["Key"].endswith(".jsonl"), obj["Key"]
        assert [len(p) for p in parts[-5:-1]] == [4, 2, 2, 2], obj["Key"]
        text = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
        records += [decode_capture_line(line, obj["Key"]) for line in text.splitlines() if line]
    # Only the two images that reached the endpoint were captured; the missing one never did.
    by_id = {r.inference_id: r for r in records}
    assert len(records) == 2
    assert set(by_id) == {executions["confident"]["key"], executions["unsure"]["key"]}
    for key, record in by_id.items():
        assert record.input_content_type == "image/png"
        assert record.input_bytes == s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()
        assert list(record.probabilities) == pytest.approx(stack.confidences[key][1], abs=1e-5)


def test_lambda_logs_are_structured(stack: Stack, executions: dict[str, dict[str, Any]]) -> None:
    logs = stack.client("logs")
    group = f"/aws/lambda/{stack.deployment.outputs['lambda_function_arns']['serialize_image'].split(':')[-1]}"
    events = logs.filter_log_events(logGroupName=group)["events"]
    lines = [json.loads(e["message"]) for e in events if e["message"].lstrip().startswith("{")]
    outcomes = {(line["s3_key"], line["outcome"]) for line in lines if line.get("function") == "serialize_image"}
    assert (executions["confident"]["key"], "ok") in outcomes
    assert (MISSING_KEY, "error") in outcomes


def test_monitor_reports_what_the_endpoint_captured(
    stack: Stack, executions: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from scones.monitor.cli import monitor_cmd

    out = tmp_path / "monitor"
    args = [
        "--s3-uri",
        stack.deployment.outputs["capture_s3_uri"],
        "--out",
        str(out),
        "--threshold",
        str(stack.threshold),
    ]
    # The same AWS options every scones command takes (the demo passes them all).
    result = CliRunner().invoke(monitor_cmd, [*args, "--endpoint-url", stack.url, "--region", "us-east-1"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["records"] == 2 and summary["corrupt_records"] == 0
    # The unsure image sits below the threshold the stack was applied with; the confident one above.
    assert summary["below_threshold"]["count"] == 1
    assert (out / "report.html").stat().st_size > 10_000


def test_demo_stages_after_deploy_write_the_summary(
    stack: Stack, executions: dict[str, dict[str, Any]], notifications: list[dict[str, Any]]
) -> None:
    """What `make demo` does once the stack is up: invoke, evaluate, monitor, summary.json."""
    config = replace(stack.config, count=4, seed=1)
    summary = exercise(config, stack.deployment, stack.url)
    assert json.loads((config.out / "summary.json").read_text()) == summary
    assert summary["executions"] == 4
    assert summary["succeeded"] + summary["low_confidence"] + summary["failed"] == 4
    assert summary["failed"] == 0  # every picked key is a real test image
    # One SNS message per low-confidence execution (the earlier tests' were drained already).
    assert summary["notifications"] == summary["low_confidence"]
    # Every one of the 4 executions reached the endpoint, on top of the 2 captured earlier.
    assert summary["captured_records"] == 2 + 4
    evaluation = json.loads((config.out / "evaluate" / "evaluation.json").read_text())
    assert summary["test_accuracy"] == evaluation["accuracy"]
    assert evaluation["count"] == 200  # the whole real test split
    invoked = json.loads((config.out / "invoke.json").read_text())
    assert len(invoked["rows"]) == 4
    assert all(row["key"].startswith("data/test/") for row in invoked["rows"])
    assert Path(summary["report"]).is_file()


def test_bench_measures_a_deployed_stack(stack: Stack, executions: dict[str, dict[str, Any]]) -> None:
    """What `make bench` measures once the stack is up (a few runs rather than its 50 and 100)."""
    from scones.bench import format_table, measure

    results = measure(stack.config, stack.deployment, stack.url, latency_runs=3, warmup=1, batch=4)
    # The same accuracy as the deployed model's own answers on every test image.
    correct = [
        CLASS_NAMES[probabilities.index(max(probabilities))] == key.split("/")[-2]
        for key, (_, probabilities) in stack.confidences.items()
    ]
    assert results["test_images"] == len(correct) == 200
    assert results["test_accuracy"] == pytest.approx(sum(correct) / len(correct))
    assert results["workflow_runs"] == 3
    assert 0 < results["workflow_p50_ms"] <= results["workflow_p95_ms"]
    assert results["batch_images_per_second"] > 0 and results["batch_executions"] == 4
    assert results["train_seconds"] == stack.deployment.trained["metrics"]["train_seconds"]
    assert "workflow_p50_ms" in format_table(results)


def test_redeploying_an_existing_artifact_needs_no_retraining(
    stack: Stack, executions: dict[str, dict[str, Any]]
) -> None:
    """`scones tfvars` with another artifact URI, then apply: a new model behind the same endpoint."""
    from click.testing import CliRunner

    from scones.cli import main as scones_main

    s3 = stack.client("s3")
    old_url = stack.deployment.trained["model_data_url"]
    bucket, _, old_key = old_url.removeprefix("s3://").partition("/")
    new_key = "models/redeployed/model.tar.gz"
    s3.copy_object(Bucket=bucket, Key=new_key, CopySource={"Bucket": bucket, "Key": old_key})
    written = json.loads(stack.config.tfvars_file.read_text())
    args = [
        "tfvars", "--env", "local", "--tfvars-dir", str(stack.config.tfvars_dir),
        "--model-data-url", f"s3://{bucket}/{new_key}", "--model-image-uri", written["model_image_uri"],
    ]  # fmt: skip
    result = CliRunner().invoke(scones_main, args)
    assert result.exit_code == 0, result.output
    assert f'model_data_url: "{old_url}" -> "s3://{bucket}/{new_key}"' in result.output
    stack.deployment.terraform.apply("terraform apply (redeploy)")

    sagemaker = stack.client("sagemaker")
    endpoint = stack.deployment.outputs["endpoint_name"]
    config_name = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    model_name = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"][0][
        "ModelName"
    ]
    model = sagemaker.describe_model(ModelName=model_name)
    assert model["PrimaryContainer"]["ModelDataUrl"] == f"s3://{bucket}/{new_key}"
    key = executions["confident"]["key"]
    answer = stack.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="image/png", Body=s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()
    )
    assert json.loads(answer["Body"].read()) == pytest.approx(stack.confidences[key][1], abs=1e-5)


def test_emulator_down_leaves_no_process(stack: Stack, executions: dict[str, dict[str, Any]]) -> None:
    assert control.processes_in_group(stack.daemon_pid), "the emulator and its workers should be running"
    control.down(stack.config.out / "local")
    assert not control.pid_alive(stack.daemon_pid)
    assert control.processes_in_group(stack.daemon_pid) == []
    assert not Path(stack.config.out / "local" / "state.json").exists()
