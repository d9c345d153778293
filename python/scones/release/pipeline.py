"""The release, stage by stage: data, train, evaluate, gate, register, record, plan, apply, verify,
smoke, and rollback on any failure after the apply (issue 19's numbering). Each stage's outcome and
time is printed and kept in the run's report.json (scones.release.report), which also makes a release
resumable: re-running after a failure continues the environment's unfinished run, reusing what its
training, evaluation and registration produced, so nothing that costs money is done twice.

What is deployed is read from Terraform's state (the root's `stack` output, docs/model-record.md), so
the previous model, the one a rollback restores, is known on a fresh CI runner with no local files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from scones.paths import DEMO_TARBALL, repo_root
from scones.release import alarms, candidate, gate, registry
from scones.release.config import ReleaseConfig
from scones.release.errors import (
    GateRefusedError,
    ReleaseError,
    RollbackFailedError,
    RolledBackError,
    SmokeTestError,
)
from scones.release.plan_file import PlanSummary, write_summary
from scones.release.report import STAGES, Run, new_run, unfinished_run
from scones.release.smoke import smoke_test
from scones.release.terraform import Terraform
from scones.release.verify import verify_endpoint
from scones.release.workspace import Workspace
from scones.tfvars import update_tfvars

# The record's keys: which model the endpoint serves, a registry version or (a stack deployed before the
# registry) an artifact and image.
RECORD_KEYS = ("model_package_arn", "model_data_url", "model_image_uri")


@dataclass(frozen=True)
class ReleaseRequest:
    model_data_url: str | None = None  # release this artifact instead of training
    model_image_uri: str | None = None  # with model_data_url; default: the PyTorch inference image
    model_package_arn: str | None = None  # release this registry version instead of training
    epochs: int | None = None  # overrides the configuration's training.epochs
    seed: int = 0  # local training's seed (its validation carve and initialisation)
    source: Path = repo_root() / DEMO_TARBALL  # the images `scones prepare` stages

    def inputs(self, config: ReleaseConfig) -> dict[str, Any]:
        """What a resumed run must share with the new attempt."""
        return {
            "model_data_url": self.model_data_url,
            "model_image_uri": self.model_image_uri,
            "model_package_arn": self.model_package_arn,
            "epochs": self.epochs or config.epochs,
            "seed": self.seed,
        }


def deployed_record(stack: dict[str, Any]) -> dict[str, Any]:
    """The model the state records as deployed (all None: no endpoint)."""
    return {key: stack.get(key) for key in RECORD_KEYS}


def describe_record(record: dict[str, Any]) -> str:
    return record.get("model_package_arn") or record.get("model_data_url") or "no model"


class Release:
    def __init__(
        self,
        workspace: Workspace,
        config: ReleaseConfig,
        request: ReleaseRequest,
        session: Any,
        *,
        terraform: Terraform | None = None,
        echo: Callable[[str], None] = click.echo,
    ) -> None:
        self.workspace, self.config, self.request, self.session = workspace, config, request, session
        self.terraform = terraform or Terraform(workspace)
        self.echo = echo
        self.run: Run
        self.fired_alarms: list[str] = []  # the endpoint's rollback alarms a failed check found in ALARM
        self.applied: dict[str, Any] = {}  # the stack's outputs after the apply (verify reads them)

    # -- the stage runner ---------------------------------------------------------------------------

    def stage(self, name: str, body: Callable[[], tuple[str, str, Any]], *, reuse: bool = False) -> Any:
        """Run one stage; `body` returns (outcome, detail, result). `reuse`: a finished result of an
        earlier attempt of this run is taken as it is (the stage costs money or time)."""
        number = STAGES[name]
        if reuse and (kept := self.run.result(name)) is not None:
            self.echo(f"[{number}] {name}: done in an earlier attempt of this run, reused")
            return kept
        self.echo(click.style(f"[{number}] {name}", bold=True))
        started = time.monotonic()
        try:
            outcome, detail, result = body()
        except click.ClickException as exc:
            seconds = time.monotonic() - started
            self.run.record_stage(name, "failed", seconds, exc.message)
            self.echo(click.style(f"    failed: {exc.message} ({seconds:.1f} s)", fg="red"))
            raise
        seconds = time.monotonic() - started
        self.run.record_stage(name, outcome, seconds, detail, result)
        self.echo(f"    {outcome}: {detail} ({seconds:.1f} s)")
        return result

    # -- the release --------------------------------------------------------------------------------

    def preflight(self) -> dict[str, Any]:
        """Bad input is refused here, before anything changes: the stack's state, the given artifact."""
        self.terraform.ensure_initialised()
        stack = self.terraform.stack()
        if self.request.model_data_url is not None:
            candidate.check_given_artifact(self.session, self.request.model_data_url, self.request.model_image_uri)
        if self.request.model_package_arn is not None:
            group = stack["model_package_group_name"]
            registry.refuse_rejected(registry.describe(self.session, self.request.model_package_arn, group=group))
        return stack

    def open_run(self) -> None:
        inputs = self.request.inputs(self.config)
        previous = unfinished_run(self.workspace.out)
        if previous is not None and previous.data.get("inputs") == inputs:
            self.echo(f"resuming the unfinished release {previous.folder} (status {previous.data['status']})")
            previous.set(status="running", error=None)
            self.run = previous
            return
        if previous is not None:
            self.echo(f"the unfinished release {previous.folder} had other inputs: starting a new one")
            previous.finish("abandoned", "superseded by a release with other inputs")
        self.run = new_run(self.workspace.out, inputs)
        self.run.set(config=self.config.as_dict())

    def execute(self) -> Run:
        stack = self.preflight()
        self.open_run()
        self.echo(f"release {self.workspace.env}: {self.run.folder}")
        try:
            self._release(stack)
        except click.ClickException as exc:
            status = "refused" if isinstance(exc, GateRefusedError) else "failed"
            self.run.finish("rolled_back" if isinstance(exc, RolledBackError) else status, exc.message)
            self.echo(f"report: {self.run.report_file} and {self.run.folder / 'summary.md'}")
            raise
        return self.run

    def _release(self, stack: dict[str, Any]) -> None:
        self.stage("data", lambda: self._data(stack))
        chosen = self.stage("train", lambda: self._train(stack), reuse=True)
        evaluation = self.stage("evaluate", lambda: self._evaluate(chosen), reuse=True)
        # What was deployed when this run began, kept in the run: a resumed run may find its own candidate
        # deployed already, and must still roll back to what was there before it.
        deployed = self.run.data.get("deployed") or {**deployed_record(stack), "metrics": self._deployed_metrics(stack)}
        previous = {key: deployed.get(key) for key in RECORD_KEYS}
        self.run.set(candidate={**chosen, "metrics": evaluation}, deployed=deployed)
        self.stage("gate", lambda: self._gate(evaluation, deployed["metrics"]))
        registered = self.stage("register", lambda: self._register(stack, chosen, evaluation), reuse=True)
        self.stage("record", lambda: self._record(chosen, registered))
        changes = self.stage("plan", lambda: self._plan("release"))
        if not changes["has_changes"]:
            self.stage("apply", lambda: ("skipped", "the plan changes nothing: this model is deployed already", None))
            self.stage("verify", lambda: self._verify(stack))  # nothing applied: the state read at the start
            self.run.finish("unchanged")
            return
        try:
            self.stage("apply", lambda: self._apply("release"))
            self.stage("verify", self._verify)
            self.stage("smoke", self._smoke)
        except click.ClickException as exc:
            self._rollback(previous, self._with_fired_alarms(stack, exc.message))
        self.run.finish("released")

    # -- the stages ---------------------------------------------------------------------------------

    def _aws_args(self) -> list[str]:
        if self.workspace.endpoint_url is None:
            return ["--region", self.session.region_name]
        return ["--endpoint-url", self.workspace.endpoint_url, "--region", self.session.region_name]

    def _data(self, stack: dict[str, Any]) -> tuple[str, str, Any]:
        bucket = stack["data_bucket_name"]
        candidate.run_command(
            candidate.scones_command(
                "prepare", "--source", str(self.request.source), "--out", str(self.workspace.data_dir),
                "--bucket", bucket, "--prefix", stack.get("data_prefix") or "data", *self._aws_args(),
            ),
            "scones prepare",
        )  # fmt: skip
        return (
            "done",
            f"s3://{bucket}/{stack.get('data_prefix') or 'data'}/ up to date (unchanged objects skipped)",
            None,
        )

    def _train(self, stack: dict[str, Any]) -> tuple[str, str, Any]:
        if self.request.model_package_arn is not None:
            version = registry.describe(self.session, self.request.model_package_arn)
            chosen = {
                "model_data_url": version.model_data_url,
                "model_image_uri": version.image_uri,
                "source": f"registry version {version.arn} ({version.source})",
                "model_package_arn": version.arn,
            }
            return "skipped", f"releasing version {version.version} of {version.group} (--model-package-arn)", chosen
        if self.request.model_data_url is not None:
            image = self.request.model_image_uri or candidate.default_image_uri(self.session.region_name)
            chosen = {
                "model_data_url": self.request.model_data_url,
                "model_image_uri": image,
                "source": "--model-data-url",
            }
            return "skipped", f"releasing {self.request.model_data_url} (--model-data-url)", chosen
        epochs = self.request.epochs or self.config.epochs
        if self.workspace.is_local:
            chosen = candidate.train_local(
                bucket=stack["data_bucket_name"],
                data_dir=self.workspace.data_dir,
                run_dir=self.run.folder,
                aws_args=self._aws_args(),
                epochs=epochs,
                seed=self.request.seed,
            )
        else:
            chosen = candidate.train_on_sagemaker(
                self.session,
                stack,
                epochs=epochs,
                job_name=self.run.data.get("training_job"),
                remember_job=lambda job: self.run.set(training_job=job),
                echo=self.echo,
            )
        return "done", f"{chosen['model_data_url']} ({chosen['source']})", chosen

    def _evaluate(self, chosen: dict[str, Any]) -> tuple[str, str, Any]:
        report = candidate.evaluate(
            chosen["model_data_url"],
            self.workspace.data_dir,
            self.config.threshold,
            self.session,
            self.run.folder,
            cache=self.workspace.out.parent / "evaluations",
        )
        metrics = gate.candidate_metrics(report)
        accepted = metrics["accepted_accuracy"]
        detail = (
            f"accuracy {metrics['accuracy']:.4f}, coverage {metrics['coverage']:.4f} at {metrics['threshold']}, "
            f"accepted accuracy {'none' if accepted is None else format(accepted, '.4f')} on {metrics['count']} images"
        )
        return "done", detail, metrics

    def _deployed_metrics(self, stack: dict[str, Any]) -> dict[str, Any]:
        """The deployed model's registered evaluation figures ({} when it has none to compare with: nothing
        deployed, or a model deployed before the registry)."""
        arn = stack.get("model_package_arn")
        return dict(registry.describe(self.session, arn).metrics) if arn else {}

    def _gate(self, metrics: dict[str, Any], deployed: dict[str, Any]) -> tuple[str, str, Any]:
        decision = gate.decide(metrics, deployed, self.config)
        for check in decision.checks:
            self.echo(f"    {check.line()}")
        self.run.set(gate=decision.as_dict())
        if not decision.passed:
            raise GateRefusedError(f"gate: the candidate is refused: {decision.reason()}")
        compared = (
            "and the deployed model's figures" if decision.compared_with_deployed else "(nothing to compare with)"
        )
        return "passed", f"every floor {compared} met", decision.as_dict()

    def _register(self, stack: dict[str, Any], chosen: dict[str, Any], metrics: dict[str, Any]) -> tuple[str, str, Any]:
        group = stack["model_package_group_name"]
        if chosen.get("model_package_arn"):
            version, created = registry.describe(self.session, chosen["model_package_arn"], group=group), False
        else:
            version, created = registry.register(
                self.session,
                group=group,
                model_data_url=chosen["model_data_url"],
                image_uri=chosen["model_image_uri"],
                environment={},
                metrics=metrics,
                source=chosen["source"],
                approval=self.config.approval_status,
            )
        result = {
            "arn": version.arn,
            "group": version.group,
            "version": version.version,
            "approval": version.approval,
            "sha256": version.sha256,
            "created": created,
        }
        self.run.set(registry=result)
        detail = f"version {version.version} of {group}, {version.approval}" + (
            "" if created else " (already registered)"
        )
        return ("done" if created else "skipped"), detail, result

    def _record(self, chosen: dict[str, Any], registered: dict[str, Any]) -> tuple[str, str, Any]:
        group = registered["group"]
        # Checked at every attempt, never taken from an earlier one: a prod release stops here until the
        # version is approved (scones approve), and a re-run after the approval resumes from here.
        version = registry.require_approved(self.session, registered["arn"], group=group)
        self.run.set(registry={**registered, "approval": version.approval})
        values = {"model_package_arn": version.arn, "model_data_url": None, "model_image_uri": None}
        self.workspace.tfvars_file.parent.mkdir(parents=True, exist_ok=True)
        changes = update_tfvars(self.workspace.tfvars_file, values)
        detail = f"{self.workspace.tfvars_file}: " + (
            ", ".join(f"{key} -> {new}" for key, _, new in changes) if changes else "unchanged"
        )
        return "done", detail, values

    def _plan_and_summary(self, plan_file: Path) -> PlanSummary:
        """Plan to `plan_file` and write its summary. A plan Terraform reports as changing nothing
        (-detailed-exitcode 0) has nothing to summarise, so `terraform show` is spared."""
        changes = self.terraform.plan(plan_file)
        return write_summary(plan_file, self.terraform.show_json(plan_file) if changes else {})

    def _plan(self, name: str) -> tuple[str, str, Any]:
        plan_file = self.run.folder / f"{name}.tfplan"
        summary = self._plan_and_summary(plan_file)
        self.echo(summary.markdown().rstrip())
        result = {**summary.as_dict(), "has_changes": summary.has_changes, "plan_file": str(plan_file)}
        self.run.set(plan={**result, "markdown": summary.markdown()})
        return "done", f"{summary.headline()} ({plan_file}.summary.md)", result

    def _apply(self, name: str) -> tuple[str, str, Any]:
        plan_file = self.run.folder / f"{name}.tfplan"
        self.terraform.apply(plan_file)
        return "done", f"applied {plan_file.name} (the reviewed plan, not a new one)", None

    def _verify(self, stack: dict[str, Any] | None = None) -> tuple[str, str, Any]:
        """`stack`: the state's outputs when nothing was applied; else what the apply recorded is read."""
        stack = self.applied = stack or self.terraform.stack()  # the smoke test reads them too
        if not stack.get("endpoint_deployed"):
            return "skipped", "no endpoint in this configuration", None
        seen = verify_endpoint(self.session.client("sagemaker"), stack["endpoint_name"], stack["endpoint_config_name"])
        self.run.set(verification=seen)
        return "done", f"{seen['endpoint_name']} InService on {seen['endpoint_config_name']}", seen

    def _smoke(self) -> tuple[str, str, Any]:
        stack = self.applied
        result = smoke_test(
            self.session, stack, self.config.smoke_count, capture_timeout_seconds=self.config.capture_timeout_seconds
        )
        self.run.set(smoke=result.as_dict())
        if not result.passed:
            raise SmokeTestError(f"smoke test: {result.reason()}")
        return "passed", result.reason() + f" ({result.details.get('line', '')})", result.as_dict()

    def _with_fired_alarms(self, stack: dict[str, Any], reason: str) -> str:
        """The reason of a failure after the apply, naming the endpoint's rollback alarms in ALARM."""
        if not stack.get("endpoint_name"):
            return reason
        self.fired_alarms = alarms.alarms_in_alarm(
            self.session, stack["endpoint_name"], emulator_url=self.workspace.endpoint_url
        )
        if not self.fired_alarms:
            return reason
        return f"{reason}; rollback alarm(s) in ALARM: {', '.join(self.fired_alarms)}"

    def _rollback(self, previous: dict[str, Any], reason: str) -> None:
        """Restore the previous model, apply, check that it serves; RolledBackError with the reason."""
        restored = dict(previous)
        served = describe_record(restored)

        def body() -> tuple[str, str, Any]:
            update_tfvars(self.workspace.tfvars_file, restored)
            if self.fired_alarms:
                alarms.wait_until_clear(
                    self.session, self.fired_alarms, emulator_url=self.workspace.endpoint_url, echo=self.echo
                )
            plan_file = self.run.folder / "rollback.tfplan"
            self._plan_and_summary(plan_file)
            self.terraform.apply(plan_file)
            checks: dict[str, Any] = {}
            if any(previous.values()):
                stack = self.terraform.stack()
                sagemaker = self.session.client("sagemaker")
                checks["verification"] = verify_endpoint(
                    sagemaker, stack["endpoint_name"], stack["endpoint_config_name"]
                )
                smoke = smoke_test(self.session, stack, 2, capture_timeout_seconds=self.config.capture_timeout_seconds)
                checks["smoke"] = smoke.as_dict()
                if smoke.failed:
                    raise SmokeTestError(f"the restored model does not serve: {smoke.reason()}")
            return "done", f"restored {served}; it serves again", {"restored": restored, **checks}

        try:
            self.stage("rollback", body)
        except click.ClickException as exc:
            raise RollbackFailedError(
                f"{reason}; and the rollback failed too: {exc.message}. Restore by hand: docs/model-record.md"
            ) from None
        self.run.set(rollback={"reason": reason, "restored": restored, "detail": f"restored {served}, which serves"})
        raise RolledBackError(f"{reason}; rolled back to {served}")


def release(workspace: Workspace, config: ReleaseConfig, request: ReleaseRequest, session: Any, **kwargs: Any) -> Run:
    """Run (or resume) a release of `workspace.env`; its Run, or a ReleaseError naming the stage."""
    return Release(workspace, config, request, session, **kwargs).execute()


__all__ = ["ReleaseError", "ReleaseRequest", "release"]
