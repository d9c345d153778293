"""`make demo`: the whole workflow, end to end, on the local emulator.

Each stage runs the same command a user would (`scones ...`, `terraform ...`), so the demo is
also a smoke test of the CLI. The emulator is always stopped, whatever fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from scones.local import control
from scones.paths import DEMO_TARBALL, repo_root
from scones.toolchain.binary import find_terraform


class DemoStageError(click.ClickException):
    """A stage of the demo failed; the message names the stage and the command."""


@dataclass
class DemoConfig:
    out: Path
    port: int = control.DEFAULT_PORT
    count: int = 40
    seed: int = 0
    epochs: int | None = None  # None: the default local recipe
    data_dir: Path = field(default_factory=lambda: repo_root() / "data" / "prepared")
    source: Path = field(default_factory=lambda: repo_root() / DEMO_TARBALL)
    env_dir: Path = field(default_factory=lambda: repo_root() / "terraform" / "envs" / "local")
    extra_vars: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # terraform runs with -chdir=env_dir: a relative path would resolve against that folder.
        self.out, self.data_dir = self.out.resolve(), self.data_dir.resolve()
        self.source, self.env_dir = self.source.resolve(), self.env_dir.resolve()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def state_file(self) -> Path:
        return self.out / "terraform.tfstate"

    @property
    def tfvars_dir(self) -> Path:
        """Where `scones tfvars` writes local/model.auto.tfvars.json: the run's own folder, so a
        run never leaves a model URI in terraform/envs/local that outlives its emulator."""
        return self.out / "tfvars"

    @property
    def tfvars_file(self) -> Path:
        return self.tfvars_dir / "local" / "model.auto.tfvars.json"


def _stage(title: str) -> None:
    click.secho(f"\n==> {title}", bold=True)


def run(cmd: Sequence[str], *, stage: str, env: dict[str, str] | None = None, capture: bool = False) -> str:
    started = time.monotonic()
    result = subprocess.run(
        list(cmd),
        env={**os.environ, **(env or {})},
        text=True,
        stdout=subprocess.PIPE if capture else None,
        check=False,
    )
    if result.returncode != 0:
        if capture and result.stdout:
            click.echo(result.stdout, err=True)  # swallowed on success, needed to see why it failed
        raise DemoStageError(f"{stage} failed (exit {result.returncode}): {' '.join(cmd)}")
    click.echo(f"    ({stage}: {time.monotonic() - started:.1f} s)")
    return result.stdout or ""


def scones(*args: str) -> list[str]:
    return [sys.executable, "-m", "scones.cli", *args]


def terraform_binary() -> str:
    binary = find_terraform()
    if binary is None:
        raise DemoStageError("no terraform: run the demo through `make demo` (it installs one when none is on PATH)")
    if not os.environ.get("TF_CLI_CONFIG_FILE") or not Path(os.environ["TF_CLI_CONFIG_FILE"]).is_file():
        raise DemoStageError("TF_CLI_CONFIG_FILE is not set to a file: run the demo through `make demo`")
    return binary


_RESOURCE_DONE = re.compile(r": (Creation|Modifications|Destruction) complete after")


class LocalTerraform:
    """terraform on envs/local with the run's own state, plugin folder and emulator URL, so a demo,
    a benchmark and the end-to-end test never share (or clobber) each other's deployment."""

    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.binary = terraform_binary()
        self.env = {"TF_DATA_DIR": str(config.out / ".terraform")}

    def _cmd(self, *args: str) -> list[str]:
        return [self.binary, f"-chdir={self.config.env_dir}", *args]

    def init(self) -> None:
        run(
            self._cmd(
                "init", "-input=false", "-no-color", "-reconfigure", f"-backend-config=path={self.config.state_file}"
            ),
            stage="terraform init",
            env=self.env,
            capture=True,
        )

    def apply(self, stage: str) -> None:
        """Apply; the plan goes to <out>/<stage>.log, the terminal gets progress and the result line."""
        variables = [f"-var=emulator_url={self.config.url}"]
        variables += [f"-var={name}={value}" for name, value in self.config.extra_vars.items()]
        # Passed explicitly (later files win over terraform/envs/local/*.auto.tfvars.json, which a
        # manual deployment may have left); before training, "no model" is stated just as explicitly.
        var_file = self.config.tfvars_file
        if not var_file.is_file():
            var_file = self.config.out / "no-model.tfvars.json"
            var_file.write_text(json.dumps({"model_data_url": None, "model_image_uri": None}) + "\n")
        variables.append(f"-var-file={var_file}")
        log = self.config.out / (re.sub(r"[^a-z0-9]+", "-", stage.lower()).strip("-") + ".log")
        started = time.monotonic()
        done = 0
        result = "applied"
        # The full plan goes to the log; the terminal gets a running count of finished resources.
        with (
            log.open("w") as handle,
            subprocess.Popen(
                self._cmd("apply", "-input=false", "-auto-approve", "-no-color", *variables),
                env={**os.environ, **self.env},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ) as process,
        ):
            assert process.stdout is not None
            for line in process.stdout:
                handle.write(line)
                if _RESOURCE_DONE.search(line):
                    done += 1
                    click.echo(f"\r    {done} resources done, {time.monotonic() - started:.0f} s", nl=False)
                elif line.startswith("Apply complete!"):
                    result = line.strip()
        if done:
            click.echo("")
        if process.returncode != 0:
            click.echo(log.read_text()[-4000:], err=True)
            raise DemoStageError(f"{stage} failed (exit {process.returncode}); full log: {log}")
        click.echo(f"    {result} ({stage}: {time.monotonic() - started:.1f} s; plan and log: {log})")

    def outputs(self) -> dict[str, Any]:
        text = run(
            self._cmd("output", "-json"),
            stage="terraform output",
            env=self.env,
            capture=True,
        )
        return {name: value["value"] for name, value in json.loads(text).items()}


@contextmanager
def emulator(config: DemoConfig) -> Iterator[str]:
    state_dir = config.out / "local"
    state, already_running = control.up(state_dir, port=config.port)
    if already_running:  # someone else's emulator: leave it alone
        raise DemoStageError(
            f"an emulator already runs from {state_dir} on {state.url}; "
            f"stop it first: scones local down --state-dir {state_dir}"
        )
    click.echo(f"    emulator on {state.url} (log: {state_dir / 'emulator.log'})")
    try:
        yield state.url
    finally:
        control.down(state_dir)
        click.echo("    emulator stopped")


def count_notifications(queue_url: str, endpoint_url: str) -> list[dict[str, Any]]:
    """Drain the SQS queue subscribed to the topic: each message is one SNS notification."""
    from scones.aws import make_session

    sqs = make_session(endpoint_url=endpoint_url).client("sqs")
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            messages.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


@dataclass
class Deployment:
    terraform: LocalTerraform
    outputs: dict[str, Any]
    trained: dict[str, Any]
    aws: list[str]


def deploy(config: DemoConfig, url: str) -> Deployment:
    """Apply the stack, stage the data, train, write tfvars, apply again with the endpoint."""
    aws = ["--endpoint-url", url, "--region", "us-east-1"]
    terraform = LocalTerraform(config)

    _stage("terraform apply (storage, IAM, SNS, Lambdas, state machine, alarms)")
    terraform.init()
    terraform.apply("terraform apply #1")
    bucket = terraform.outputs()["data_bucket_name"]

    _stage("scones prepare: the real CIFAR-100 bicycles and motorcycles -> S3")
    run(
        scones("prepare", "--source", str(config.source), "--out", str(config.data_dir), "--bucket", bucket, *aws),
        stage="prepare",
    )

    _stage("scones train --local: the PyTorch recipe on this machine")
    train_json = config.out / "train.json"
    epochs = ["--epochs", str(config.epochs)] if config.epochs else []
    run(
        scones(
            "train", "--local", "--bucket", bucket, "--data-dir", str(config.data_dir),
            "--seed", str(config.seed), "--result-json", str(train_json), *epochs, *aws,
        ),
        stage="train",
    )  # fmt: skip
    trained = json.loads(train_json.read_text())

    _stage("scones tfvars + terraform apply (SageMaker model, endpoint config with data capture, endpoint)")
    (config.tfvars_dir / "local").mkdir(parents=True, exist_ok=True)
    tfvars = ["--tfvars-dir", str(config.tfvars_dir)]
    run(scones("tfvars", "--env", "local", "--from-json", str(train_json), *tfvars), stage="tfvars")
    terraform.apply("terraform apply #2")
    return Deployment(terraform=terraform, outputs=terraform.outputs(), trained=trained, aws=aws)


def run_demo(config: DemoConfig) -> dict[str, Any]:
    started = time.monotonic()
    shutil.rmtree(config.out, ignore_errors=True)
    config.out.mkdir(parents=True)

    _stage("local AWS emulator")
    with emulator(config) as url:
        deployment = deploy(config, url)
        return exercise(config, deployment, url, started=started)


def exercise(config: DemoConfig, deployment: Deployment, url: str, *, started: float | None = None) -> dict[str, Any]:
    """Invoke, evaluate and monitor a deployed stack; write and return `<out>/summary.json`
    (`seconds` counts from `started`, a time.monotonic() reading, or from this call)."""
    started = time.monotonic() if started is None else started
    outputs, trained, aws = deployment.outputs, deployment.trained, deployment.aws
    bucket = outputs["data_bucket_name"]

    _stage(f"scones invoke: {config.count} executions on random test images")
    invoke_json = config.out / "invoke.json"
    run(
        scones(
            "invoke", "--count", str(config.count), "--seed", str(config.seed),
            "--state-machine-arn", outputs["state_machine_arn"], "--bucket", bucket,
            "--json", str(invoke_json), *aws,
        ),
        stage="invoke",
    )  # fmt: skip
    invoked = json.loads(invoke_json.read_text())

    _stage("scones evaluate: the deployed artifact on the test split")
    evaluate_dir = config.out / "evaluate"
    run(
        scones(
            "evaluate", trained["model_data_url"], "--data-dir", str(config.data_dir), "--split", "test",
            "--out", str(evaluate_dir), "--endpoint-url", url,
        ),
        stage="evaluate",
    )  # fmt: skip
    evaluation = json.loads((evaluate_dir / "evaluation.json").read_text())

    _stage("scones monitor: what the endpoint captured")
    monitor_dir = config.out / "monitor"
    run(
        scones("monitor", "--s3-uri", outputs["capture_s3_uri"], "--out", str(monitor_dir), *aws),
        stage="monitor",
    )
    monitored = json.loads((monitor_dir / "summary.json").read_text())
    notifications = count_notifications(outputs["notification_queue_url"], url)

    summary = {
        "executions": invoked["executions"],
        "succeeded": invoked["succeeded"],
        "low_confidence": invoked["low_confidence"],
        "failed": invoked["failed"],
        "notifications": len(notifications),
        "captured_records": monitored["records"],
        "test_accuracy": evaluation["accuracy"],
        "coverage_at_threshold": evaluation["at_threshold"]["coverage"],
        "accepted_accuracy": evaluation["at_threshold"]["accepted_accuracy"],
        "succeeded_accuracy": invoked.get("succeeded_accuracy"),
        "model_data_url": trained["model_data_url"],
        "report": str(monitor_dir / "report.html"),
        "seconds": round(time.monotonic() - started, 1),
    }
    (config.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


@click.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the demo writes everything [default: <repo>/build/demo].",
)
@click.option("--port", type=click.IntRange(1, 65535), default=control.DEFAULT_PORT, show_default=True)
@click.option("--count", type=click.IntRange(min=1), default=40, show_default=True, help="Workflow executions.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Override the local recipe's epochs.")
def main(out: Path | None, port: int, count: int, seed: int, epochs: int | None) -> None:
    """Run the end-to-end demo on the local emulator."""
    config = DemoConfig(out=out or repo_root() / "build" / "demo", port=port, count=count, seed=seed, epochs=epochs)
    summary = run_demo(config)
    _stage("summary")
    for key in ("executions", "succeeded", "low_confidence", "failed", "notifications", "captured_records"):
        click.echo(f"    {key:<18}{summary[key]}")
    click.echo(f"    {'test_accuracy':<18}{summary['test_accuracy']:.3f}")
    click.echo(f"    report            {summary['report']}")
    click.echo(f"    summary           {config.out / 'summary.json'}  ({summary['seconds']} s)")


if __name__ == "__main__":
    main()
