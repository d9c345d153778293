"""Bring the whole stack up on the local emulator: what `scones demo`, `scones bench` and the
end-to-end tests all start from.

`emulator` runs a private emulator for the length of a `with` block. `Terraform` drives an
environment root (terraform/envs/local) with the run's own state file, plugin folder and tfvars
folder under the run's output folder, so a demo, a benchmark and the end-to-end tests never share
(or clobber) each other's deployment. `release_stack` applies the stack without a model, then
releases one to it as `make release ENV=local` does (scones.release: data, training, gate,
registry, reviewed plan, apply, verification, smoke test); `set_model` writes a model into the
run's tfvars as `scones tfvars` does, for tests that deploy a given artifact.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from scones.aws import EMULATOR_REGION, EndpointSession, make_session
from scones.local import control
from scones.paths import DEMO_TARBALL, repo_root
from scones.toolchain.binary import find_terraform, go_runtime_settings


class StageError(click.ClickException):
    """A stage of bringing the stack up failed; the message names the stage and the command."""


@dataclass
class StackConfig:
    out: Path  # everything of this run: state, tfvars, logs, the emulator's state folder
    port: int = control.DEFAULT_PORT
    seed: int = 0  # training's seed
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
    def aws_args(self) -> list[str]:
        """The AWS options of a `scones` command that talks to this stack's emulator."""
        return ["--endpoint-url", self.url, "--region", EMULATOR_REGION]

    @property
    def emulator_dir(self) -> Path:
        return self.out / "local"

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


def stage(title: str) -> None:
    click.secho(f"\n==> {title}", bold=True)


def run_stage(cmd: Sequence[str], *, stage: str, env: dict[str, str] | None = None, capture: bool = False) -> str:
    """Run one command; its output on the terminal (or returned with `capture`), its time after it."""
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
        raise StageError(f"{stage} failed (exit {result.returncode}): {' '.join(cmd)}")
    click.echo(f"    ({stage}: {time.monotonic() - started:.1f} s)")
    return result.stdout or ""


def scones_command(*args: str) -> list[str]:
    """`scones ARGS` run by this interpreter (the same package, whatever is on PATH)."""
    return [sys.executable, "-m", "scones.cli", *args]


def terraform_binary() -> str:
    binary = find_terraform()
    if binary is None:
        raise StageError("no terraform: run through `make` (it installs one when none is on PATH)")
    if not os.environ.get("TF_CLI_CONFIG_FILE") or not Path(os.environ["TF_CLI_CONFIG_FILE"]).is_file():
        raise StageError("TF_CLI_CONFIG_FILE is not set to a file: run through `make` (it writes one under build/)")
    return binary


_RESOURCE_DONE = re.compile(r": (Creation|Modifications|Destruction) complete after")


class Terraform:
    """terraform on the config's environment root with the run's own state, plugin folder, tfvars
    and emulator URL."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.binary = terraform_binary()
        self.env = {"TF_DATA_DIR": str(config.out / ".terraform"), **go_runtime_settings()}

    def _cmd(self, *args: str) -> list[str]:
        return [self.binary, f"-chdir={self.config.env_dir}", *args]

    def init(self) -> None:
        run_stage(
            self._cmd(
                "init", "-input=false", "-no-color", "-reconfigure", f"-backend-config=path={self.config.state_file}"
            ),
            stage="terraform init",
            env=self.env,
            capture=True,
        )

    def apply(self, stage: str) -> float:
        """Apply; the plan goes to <out>/<stage>.log, the terminal gets progress and the result line.
        Returns the apply's wall-clock seconds (plan included: what a user waits for)."""
        return self._run_with_progress("apply", stage)

    def destroy(self, stage: str) -> float:
        """Destroy everything the state records, as `apply` applies it (same variables, log and progress)."""
        return self._run_with_progress("destroy", stage)

    def _run_with_progress(self, command: str, stage: str) -> float:
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
        result = {"apply": "applied", "destroy": "destroyed"}[command]
        with (
            log.open("w") as handle,
            subprocess.Popen(
                self._cmd(command, "-input=false", "-auto-approve", "-no-color", *variables),
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
                elif line.startswith(("Apply complete!", "Destroy complete!")):
                    result = line.strip()
        if done:
            click.echo("")
        if process.returncode != 0:
            click.echo(log.read_text()[-4000:], err=True)
            raise StageError(f"{stage} failed (exit {process.returncode}); full log: {log}")
        seconds = time.monotonic() - started
        click.echo(f"    {result} ({stage}: {seconds:.1f} s; plan and log: {log})")
        return seconds

    def resources(self) -> list[str]:
        """The addresses the state records (`terraform state list`)."""
        text = run_stage(self._cmd("state", "list"), stage="terraform state list", env=self.env, capture=True)
        return text.split()

    def outputs(self) -> dict[str, Any]:
        text = run_stage(self._cmd("output", "-json"), stage="terraform output", env=self.env, capture=True)
        return {name: value["value"] for name, value in json.loads(text).items()}


@contextmanager
def emulator(state_dir: Path, port: int, *, keep: bool = False) -> Iterator[str]:
    """A private emulator on `port` for the block (its URL); stopped afterwards, unless `keep` and the block
    succeeded (a failed run never leaves processes behind)."""
    try:
        state, already_running = control.up(state_dir, port=port)
    except control.EmulatorError as exc:  # a port clash or a daemon that died: a one-line error, not a traceback
        raise StageError(str(exc)) from exc
    if already_running:  # someone else's emulator: leave it alone
        raise StageError(
            f"an emulator already runs from {state_dir} on {state.url}; "
            f"stop it first: scones local down --state-dir {state_dir}"
        )
    click.echo(f"    emulator on {state.url} (log: {state_dir / 'emulator.log'})")
    succeeded = False
    try:
        yield state.url
        succeeded = True
    finally:
        if not (keep and succeeded):
            control.down(state_dir)
            click.echo("    emulator stopped")


@dataclass
class Deployment:
    config: StackConfig
    terraform: Terraform
    outputs: dict[str, Any]  # terraform output
    trained: dict[str, Any]  # `scones train --result-json`: model_data_url, model_image_uri, metrics
    first_apply_seconds: float | None = None  # the first `terraform apply`, on a fresh emulator

    @property
    def url(self) -> str:
        return self.config.url

    def session(self) -> EndpointSession:
        return make_session(endpoint_url=self.url)

    @property
    def train_metrics(self) -> dict[str, Any]:
        metrics = self.trained.get("metrics")
        return metrics if isinstance(metrics, dict) else {}


def apply_stack(config: StackConfig) -> tuple[Terraform, float]:
    """init and apply the environment root: storage, IAM, SNS, Lambdas, state machine, alarms, and
    the endpoint when the run's tfvars name a model already. Returns the apply's seconds too."""
    terraform = Terraform(config)
    terraform.init()
    return terraform, terraform.apply("terraform apply #1")


def release_stack(config: StackConfig) -> Deployment:
    """The stack applied without a model, then a release of the local environment on the run's own state
    (`scones release --env local --state-dir <out>`): data, training, evaluation, gate, registry, reviewed
    plan, apply, verification and smoke test, its report under <out>/release/local/."""
    from scones.release.config import load_config
    from scones.release.pipeline import ReleaseRequest, release
    from scones.release.workspace import workspace_for

    stage("terraform apply (storage, IAM, SNS, Lambdas, state machine, alarms, model registry)")
    terraform, first_apply_seconds = apply_stack(config)
    stage("scones release --env local: data, train, evaluate, gate, register, record, plan, apply, verify, smoke")
    workspace = workspace_for(
        "local",
        envs_dir=config.env_dir.parent,
        out=config.out / "release",
        data_dir=config.data_dir,
        endpoint_url=config.url,
        state_dir=config.out,
    )
    request = ReleaseRequest(epochs=config.epochs, seed=config.seed, source=config.source)
    run = release(workspace, load_config(workspace.config_file), request, make_session(endpoint_url=config.url))
    candidate = run.data["candidate"]
    trained = {
        "model_data_url": candidate["model_data_url"],
        "model_image_uri": candidate["model_image_uri"],
        "metrics": candidate.get("training_metrics") or {},
        "model_package_arn": run.data["registry"]["arn"],
    }
    return Deployment(config, terraform, terraform.outputs(), trained, first_apply_seconds)


def set_model(config: StackConfig, source: Sequence[str]) -> None:
    """`scones tfvars` into the run's tfvars folder; `source` names the model
    (["--from-json", FILE] or ["--model-data-url", URL, "--model-image-uri", URI])."""
    (config.tfvars_dir / "local").mkdir(parents=True, exist_ok=True)
    run_stage(
        scones_command("tfvars", "--env", "local", "--tfvars-dir", str(config.tfvars_dir), *source), stage="tfvars"
    )
