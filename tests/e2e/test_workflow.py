"""End to end on the local emulator: the real Terraform, Lambda zips, state machine and a real
trained model (the committed one, tests/fixtures/trained_model), deployed by scones.deploy.

One stack for the whole module, never changed (tests/e2e/test_stack_changes.py has the tests that
redeploy or stop theirs). Three executions run first, and what they left (notifications, captured
records, the monitoring report) is read at once into `observed`; tests that run more executions
(the demo's and the benchmark's stages) request it too, so that snapshot always predates them, and
count only what they add themselves. Any test order gives the same results.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from scones import CLASS_NAMES
from scones.classify import ClassifyError
from scones.cli import main
from scones.data.sampling import pick_keys
from scones.local.notifications import sent_bodies, sent_notifications
from scones.monitor.capture import CapturedPrediction, decode_capture_line
from scones.monitor.cli import monitor_cmd
from scones.workflow import ExecutionResult, Outcome
from tests.support.e2e_stacks import Stack, trained_stack
from tests.support.iam_statements import POLICY, inline_policy, log_text

pytestmark = pytest.mark.e2e
MISSING_KEY = "data/test/bicycle/no_such_image.png"


@dataclass
class Run:
    key: str
    result: ExecutionResult  # as scones.workflow reads it
    execution: dict[str, Any]  # describe_execution's answer


@dataclass
class Observed:
    """What the three executions left, read before any other test could add to it."""

    runs: dict[str, Run]  # confident, unsure, missing
    notifications: list[dict[str, Any]]
    records: list[CapturedPrediction]
    capture_keys: list[str]
    monitor_out: Path
    monitor_output: str


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with trained_stack(tmp_path_factory.mktemp("e2e")) as deployed:
        yield deployed


def _notified(stack: Stack) -> int:
    """How many messages the stack's topic has sent so far (the emulator's record)."""
    return len(sent_notifications(stack.deployment.url, stack.deployment.outputs["sns_topic_arn"]))


def _notifications_since(stack: Stack, count: int) -> list[dict[str, Any]]:
    return sent_bodies(stack.deployment.url, stack.deployment.outputs["sns_topic_arn"], since=count)


def _captured(stack: Stack) -> tuple[list[CapturedPrediction], list[str]]:
    s3 = stack.client("s3")
    bucket = stack.deployment.outputs["capture_bucket_name"]
    keys = [obj["Key"] for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    records = []
    for key in keys:
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        records += [decode_capture_line(line, key) for line in text.splitlines() if line]
    return records, keys


@pytest.fixture(scope="module")
def observed(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Observed:
    candidates = stack.in_distribution()
    confident = max(candidates, key=lambda k: candidates[k][0])
    unsure = min(candidates, key=lambda k: candidates[k][0])
    notified = _notified(stack)
    runs = {
        name: Run(key, result, execution)
        for name, key, (result, execution) in zip(
            ("confident", "unsure", "missing"),
            (confident, unsure, MISSING_KEY),
            stack.run(confident, unsure, MISSING_KEY),
            strict=True,
        )
    }
    notifications = _notifications_since(stack, notified)
    records, capture_keys = _captured(stack)
    monitor_out = tmp_path_factory.mktemp("monitor")
    args = ["--s3-uri", stack.deployment.outputs["capture_s3_uri"], "--out", str(monitor_out)]
    # The threshold the stack was applied with, and the AWS options every scones command takes.
    args += ["--threshold", str(stack.threshold), *stack.deployment.config.aws_args]
    monitored = CliRunner().invoke(monitor_cmd, args)
    assert monitored.exit_code == 0, monitored.output
    return Observed(runs, notifications, records, capture_keys, monitor_out, monitored.output)


def test_confident_image_succeeds_with_the_model_probabilities(stack: Stack, observed: Observed) -> None:
    run = observed.runs["confident"]
    assert run.execution["status"] == "SUCCEEDED", run.execution
    output = json.loads(run.execution["output"])
    assert output["statusCode"] == 200
    body = output["body"]
    assert body["s3_key"] == run.key and body["s3_bucket"] == stack.bucket
    expected = stack.confidences[run.key][1]
    assert body["inferences"] == pytest.approx(expected, abs=1e-5)  # the endpoint served this model
    assert max(body["inferences"]) >= stack.threshold
    assert run.result.outcome is Outcome.SUCCEEDED
    assert run.result.probabilities == pytest.approx(expected, abs=1e-5)
    assert run.result.true_class == run.key.split("/")[-2]


def test_unsure_image_fails_with_threshold_error_and_one_notification(stack: Stack, observed: Observed) -> None:
    run = observed.runs["unsure"]
    assert run.execution["status"] == "FAILED"
    assert run.execution["error"] == "ThresholdConfidenceNotMetError"
    assert run.key in run.execution["cause"] and f"< threshold {stack.threshold}" in run.execution["cause"]
    assert run.result.outcome is Outcome.LOW_CONFIDENCE
    # The filter's error carries its numbers as JSON: read as data, no prose parsed.
    assert run.result.probabilities == pytest.approx(stack.confidences[run.key][1], abs=1e-5)
    assert run.result.details is not None and run.result.details.threshold == stack.threshold
    assert run.result.details.s3_key == run.key
    low = [n for n in observed.notifications if n.get("event") == "low_confidence"]
    assert len(low) == 1
    assert low[0]["s3_key"] == run.key
    assert low[0]["inferences"] == pytest.approx(stack.confidences[run.key][1], abs=1e-5)
    assert low[0]["execution"] == run.execution["executionArn"]


def test_missing_image_fails_with_image_not_found(observed: Observed) -> None:
    run = observed.runs["missing"]
    assert run.execution["status"] == "FAILED"
    assert run.execution["error"] == "ImageNotFoundError"
    assert "no_such_image.png not found" in run.execution["cause"]
    assert run.result.outcome is Outcome.FAILED and run.result.error == "ImageNotFoundError"
    assert run.result.details is None and run.result.probabilities is None
    failures = [n for n in observed.notifications if n.get("event") == "failure"]
    assert [n["error"] for n in failures] == ["ImageNotFoundError"]
    assert failures[0]["input"]["s3_key"] == MISSING_KEY
    assert len(observed.notifications) == 2


# Inputs no caller should send, each once: on AWS, before the state machine wrapped its input, a list,
# a string, a number or null failed the execution with States.Runtime (a Catch cannot see it), so nobody
# was notified. Each must end in a named error and one failure notification.
ODD_INPUTS: dict[str, Any] = {
    "empty-object": {},
    "list": [1, 2],
    "string": "hello",
    "number": 42,
    "null": None,
    "key-not-a-string": {"s3_bucket": "b", "s3_key": 5},
    "body-not-json": {"body": "{not json"},
}


def test_any_input_ends_in_a_named_error_and_a_notification(stack: Stack, observed: Observed) -> None:
    sfn = stack.client("stepfunctions")
    notified = _notified(stack)  # what the tests before this one left
    started = {
        name: sfn.start_execution(
            stateMachineArn=stack.deployment.outputs["state_machine_arn"],
            name=f"odd-{name}-{uuid.uuid4().hex[:8]}",
            input=json.dumps(value),
        )["executionArn"]
        for name, value in ODD_INPUTS.items()
    }
    ended: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 120
    while len(ended) < len(started) and time.monotonic() < deadline:
        for name, arn in started.items():
            execution = sfn.describe_execution(executionArn=arn)
            if execution["status"] != "RUNNING":
                ended[name] = execution
        time.sleep(0.5)
    assert set(ended) == set(started), "executions still running after 120 s"
    errors = {name: (e["status"], e.get("error")) for name, e in ended.items()}
    assert errors == dict.fromkeys(ODD_INPUTS, ("FAILED", "InvalidEventError"))
    failures = [n for n in _notifications_since(stack, notified) if n.get("event") == "failure"]
    assert sorted(n["execution"] for n in failures) == sorted(started.values())
    assert {n["error"] for n in failures} == {"InvalidEventError"}
    # The notification quotes the input as it was sent.
    by_execution = {n["execution"]: n for n in failures}
    assert [by_execution[started[name]]["input"] for name in ODD_INPUTS] == list(ODD_INPUTS.values())


def test_captured_records_match_endpoint_invocations(stack: Stack, observed: Observed) -> None:
    s3 = stack.client("s3")
    endpoint = stack.deployment.outputs["endpoint_name"]
    for key in observed.capture_keys:
        # <endpoint>/<variant>/YYYY/MM/DD/HH/<file>.jsonl, as SageMaker writes it
        parts = key.split("/")
        assert endpoint in parts and key.endswith(".jsonl"), key
        assert [len(p) for p in parts[-5:-1]] == [4, 2, 2, 2], key
    records = observed.records
    # Only the two images that reached the endpoint were captured; the missing one never did.
    by_id = {r.inference_id: r for r in records}
    assert len(records) == 2
    assert set(by_id) == {observed.runs["confident"].key, observed.runs["unsure"].key}
    for key, record in by_id.items():
        assert record.input_content_type == "image/png"
        assert record.input_bytes == s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read()
        assert list(record.probabilities) == pytest.approx(stack.confidences[key][1], abs=1e-5)


def test_lambda_logs_are_structured(stack: Stack, observed: Observed) -> None:
    logs = stack.client("logs")
    group = f"/aws/lambda/{stack.deployment.outputs['lambda_function_arns']['serialize_image'].split(':')[-1]}"
    events = logs.filter_log_events(logGroupName=group)["events"]
    lines = [json.loads(e["message"]) for e in events if e["message"].lstrip().startswith("{")]
    outcomes = {(line["s3_key"], line["outcome"]) for line in lines if line.get("function") == "serialize_image"}
    assert (observed.runs["confident"].key, "ok") in outcomes
    assert (MISSING_KEY, "error") in outcomes


def test_monitor_reports_what_the_endpoint_captured(observed: Observed) -> None:
    summary = json.loads((observed.monitor_out / "summary.json").read_text())
    assert summary["records"] == 2 and summary["corrupt_records"] == 0
    # The unsure image sits below the threshold the stack was applied with; the confident one above.
    assert summary["below_threshold"]["count"] == 1
    assert (observed.monitor_out / "report.html").stat().st_size > 10_000
    assert summary["headline"] in observed.monitor_output


def test_demo_stages_after_deploy_write_the_summary(stack: Stack, observed: Observed) -> None:
    """What `scones demo` does once the stack is up: run, evaluate, monitor, summary.json."""
    from scones.demo import exercise

    # Count only what this test adds: other tests' executions leave records (exercise counts its own
    # notifications from the topic's record).
    captured_before = len(_captured(stack)[0])
    summary = exercise(stack.deployment, count=4, seed=1)
    out = stack.deployment.config.out
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["executions"] == 4
    assert summary["succeeded"] + summary["out_of_distribution"] + summary["low_confidence"] + summary["failed"] == 4
    assert summary["failed"] == 0  # every picked key is a real test image
    # Training and the first apply are reported apart from the demo's own seconds.
    assert summary["train_seconds"] > 0 and summary["first_apply_seconds"] > 0
    # One SNS message per rejection, of either kind.
    assert summary["notifications"] == summary["low_confidence"] + summary["out_of_distribution"]
    assert summary["captured_records"] == captured_before + 4  # every execution reached the endpoint
    evaluation = json.loads((out / "evaluate" / "evaluation.json").read_text())
    assert summary["test_accuracy"] == evaluation["accuracy"]
    assert evaluation["count"] == 200  # the whole real test split
    invoked = json.loads((out / "invoke.json").read_text())
    # The seed picks the images: the same seed, the same images in the same order.
    test_keys = sorted(stack.confidences)
    assert [row["key"] for row in invoked["rows"]] == pick_keys(test_keys, 4, 1)
    for row in invoked["rows"]:
        if row["outcome"] == "succeeded":
            assert row["probabilities"] == pytest.approx(stack.confidences[row["key"]][1], abs=1e-5)
    assert Path(summary["report"]).is_file()
    # Other tests of this module fail executions on purpose, so which alarms fire depends on the
    # order; that they are this stack's alarms does not (tests/e2e/test_alarms.py has the states).
    deployed = {alarm["AlarmName"] for alarm in stack.client("cloudwatch").describe_alarms()["MetricAlarms"]}
    assert (
        set(summary["alarms_in_alarm"]) <= deployed and len(deployed) == 21
    )  # 12, the starter's two, the API function's two, the batch chunk function's two, the API's three


def test_bench_measures_a_deployed_stack(stack: Stack, observed: Observed) -> None:
    """What `scones bench` measures once the stack is up (a few runs rather than its 50 and 100)."""
    from scones.bench import format_table, measure

    results = measure(stack.deployment, latency_runs=3, warmup=1, batch=4, batch_map=6, api_callers=4)
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
    assert results["batch_map_images_per_second"] > 0 and results["batch_map_images"] == 6
    metrics = stack.deployment.train_metrics
    assert results["train_seconds"] == metrics["train_seconds"]
    assert results["train_peak_rss_mb"] == metrics.get("peak_rss_mb")  # training's own measurement
    assert 0 < results["api_p50_ms"] <= results["api_p95_ms"] and results["api_rps_4"] > 0
    assert results["api_requests"] == 3 + 8  # the single requests and 4 callers' two each
    table = format_table(results)
    assert "workflow_p50_ms" in table and "api_p50_ms" in table


def test_a_blank_frame_and_noise_are_rejected_by_the_real_models_guard(stack: Stack, observed: Observed) -> None:
    """The trained artifact's own guard, through the endpoint: a lens-cap frame and sensor noise, which
    the two-class softmax alone scores 0.96-0.99, end as out-of-distribution rejections, notified once each."""
    rng = np.random.default_rng(7)
    frames = {
        "data/ood/blank.png": np.full((32, 32, 3), 12, dtype=np.uint8),
        "data/ood/noise.png": rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8),
    }
    for key, pixels in frames.items():
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        stack.client("s3").put_object(Bucket=stack.bucket, Key=key, Body=buffer.getvalue())
    notified = _notified(stack)
    runs = stack.run(*frames)
    for (result, execution), key in zip(runs, frames, strict=True):
        assert execution["status"] == "FAILED" and execution["error"] == "OutOfDistributionError", execution
        assert result.outcome is Outcome.OUT_OF_DISTRIBUTION and key in execution["cause"]
    rejected = [n for n in _notifications_since(stack, notified) if n.get("event") == "out_of_distribution"]
    assert sorted(n["s3_key"] for n in rejected) == sorted(frames)
    assert all(n["ood"]["flagged"] and n["ood"]["checked"] for n in rejected)


def test_the_commands_a_kept_demo_prints_work(stack: Stack, observed: Observed, tmp_path: Path) -> None:
    """`scones demo --keep-running` prints commands to paste: with the printed exports, each `scones` and
    `terraform` command works on the deployed stack, from any folder. (The stop command is
    tests/unit/commands/test_demo_keep_running.py's; this stack is the module's. The `aws` lines need the
    AWS CLI, which the project does not install: they name the same resources.)"""
    from scones.demo import look_around
    from scones.toolchain.binary import find_terraform

    lines = [line.strip() for line in look_around(stack.deployment)]
    (exports,) = [line for line in lines if line.startswith("eval ")]
    commands = [line.split("    (")[0] for line in lines if line.startswith(("scones ", "TF_DATA_DIR="))]
    assert [c for c in commands if c.startswith("scones local down")], lines
    bin_dir = str(Path(sys.executable).parent)  # the scones of this environment
    terraform = find_terraform()
    assert terraform is not None
    env = {**os.environ, "PATH": f"{bin_dir}:{Path(terraform).parent}:{os.environ['PATH']}"}
    for command in commands:
        if command.startswith("scones local down"):
            continue
        ran = subprocess.run(
            ["bash", "-c", f"set -e; {exports}; {command}"], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert ran.returncode == 0, f"{command}\n{ran.stdout}\n{ran.stderr}"
        if command.startswith("scones invoke"):
            assert "5 executions:" in ran.stdout, ran.stdout
        if "terraform" in command:
            assert stack.deployment.outputs["state_machine_arn"] in ran.stdout


# ------------------------------------------------------------------------------ the classification API


def test_api_a_signed_request_for_a_test_image_gets_its_vehicle(
    stack: Stack, observed: Observed, tmp_path: Path
) -> None:
    # The most confident image the model gets right: its bytes, as a caller outside AWS sends them.
    right = {
        key: probabilities
        for key, (_, probabilities) in stack.in_distribution().items()
        if CLASS_NAMES[int(np.argmax(probabilities))] == key.split("/")[-2]
    }
    key = max(right, key=lambda k: max(right[k]))
    image = tmp_path / Path(key).name
    image.write_bytes(stack.client("s3").get_object(Bucket=stack.bucket, Key=key)["Body"].read())
    verdict = stack.classify(str(image))
    assert verdict.vehicle == key.split("/")[-2]
    assert verdict.accepted is True and verdict.reason is None
    assert [verdict.probabilities[name] for name in CLASS_NAMES] == pytest.approx(right[key], abs=1e-5)
    # The staged copy of the request's image is gone once the workflow has read it.
    assert stack.client("s3").list_objects_v2(Bucket=stack.bucket, Prefix="api/").get("KeyCount", 0) == 0


def test_api_a_role_that_may_not_delete_leaves_the_staged_image_and_says_so(
    stack: Stack, observed: Observed, tmp_path: Path
) -> None:
    """The API function deletes its staged copy as its own role (s3:DeleteObject, checked by the emulator):
    without it the answer is the same, the copy stays under api/ and the function logs why."""
    function = str(stack.deployment.outputs["lambda_function_arns"]["classify_api"]).rsplit(":", 1)[-1]
    role = stack.client("lambda").get_function_configuration(FunctionName=function)["Role"].rsplit("/", 1)[-1]
    iam, s3 = stack.client("iam"), stack.client("s3")
    policy = inline_policy(iam, role)
    (staging,) = [s for s in policy["Statement"] if s.get("Sid") == "StageRequestImages"]
    assert sorted(staging["Action"]) == ["s3:DeleteObject", "s3:PutObject"]
    put_only = {
        **policy,
        "Statement": [{**s, "Action": ["s3:PutObject"]} if s is staging else s for s in policy["Statement"]],
    }
    key = max(stack.in_distribution(), key=lambda k: stack.in_distribution()[k][0])
    image = tmp_path / Path(key).name
    image.write_bytes(s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read())
    iam.put_role_policy(RoleName=role, PolicyName=POLICY, PolicyDocument=json.dumps(put_only))
    try:
        verdict = stack.classify(str(image))
    finally:
        iam.put_role_policy(RoleName=role, PolicyName=POLICY, PolicyDocument=json.dumps(policy))
    assert verdict.accepted is True
    left = [o["Key"] for o in s3.list_objects_v2(Bucket=stack.bucket, Prefix="api/").get("Contents", [])]
    try:
        assert len(left) == 1, left
        logged = log_text(stack.client("logs"), f"/aws/lambda/{function}")
        assert "staged image not deleted" in logged and "s3:DeleteObject" in logged
    finally:
        for leftover in left:
            s3.delete_object(Bucket=stack.bucket, Key=leftover)


def test_api_a_low_confidence_image_is_a_200_not_accepted(stack: Stack, observed: Observed) -> None:
    unsure = min(stack.in_distribution(), key=lambda k: stack.in_distribution()[k][0])
    assert stack.in_distribution()[unsure][0] < stack.threshold
    verdict = stack.classify(f"s3://{stack.bucket}/{unsure}")
    assert (verdict.accepted, verdict.reason) == (False, "low_confidence")
    assert [verdict.probabilities[name] for name in CLASS_NAMES] == pytest.approx(
        stack.confidences[unsure][1], abs=1e-5
    )


def test_api_an_unsigned_request_is_403(stack: Stack, observed: Observed) -> None:
    api_url, api_key = stack.api()
    request = urllib.request.Request(
        f"{api_url}/classify",
        data=json.dumps({"s3_uri": f"s3://{stack.bucket}/{MISSING_KEY}"}).encode(),
        headers={"Content-Type": "application/json", "x-api-key": api_key},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 403


def test_api_a_non_image_is_a_400_invalid_image_error(stack: Stack, observed: Observed, tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_bytes(b"this is a text file, not a PNG")
    with pytest.raises(ClassifyError) as caught:
        stack.classify(str(text))
    assert (caught.value.status, caught.value.error) == (400, "InvalidImageError")


def test_api_scones_classify_json_end_to_end(stack: Stack, observed: Observed) -> None:
    api_url, api_key = stack.api()
    key = max(stack.in_distribution(), key=lambda k: stack.in_distribution()[k][0])
    args = ["classify", f"s3://{stack.bucket}/{key}", "--api-url", api_url, "--api-key", api_key, "--json"]
    result = CliRunner().invoke(main, [*args, *stack.deployment.config.aws_args])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["accepted"] is True
    assert answer["vehicle"] == CLASS_NAMES[int(np.argmax(stack.confidences[key][1]))]
    assert answer["request_id"]
