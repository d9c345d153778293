"""`scones demo` (`make demo`): the whole workflow, end to end, on the local emulator.

Brings the stack up on a private emulator and releases a model to it as `make release ENV=local` does
(`release_stack`: the stack applied without a model, then the release pipeline, scones.release, on the
run's own state), then exercises it: workflow executions
on random test images (scones.workflow), the artifact's evaluation on the test split, the report
of what the endpoint captured and the deployed alarms' states (scones.local.alarms). The emulator
is stopped at the end, whatever fails; with `--keep-running` a demo that succeeded leaves it and the
deployed stack up and prints how to look around (`look_around`). The same seed gives the same images,
executions and counts.
"""

from __future__ import annotations

import json
import shlex
import shutil
import time
from pathlib import Path
from typing import Any

import click

from scones import DEFAULT_THRESHOLD
from scones.aws import EMULATOR_REGION
from scones.data.sampling import list_image_keys, pick_keys
from scones.deploy import Deployment, StackConfig, StageError, emulator, release_stack, stage
from scones.local import control
from scones.local.alarms import evaluate_remote, in_alarm
from scones.local.notifications import sent_bodies, sent_notifications
from scones.paths import repo_root
from scones.workflow import run_executions, summarize, summary_line

TEST_PREFIX = "data/test/"


def run_demo(config: StackConfig, *, count: int, keep_running: bool = False) -> tuple[Deployment, dict[str, Any]]:
    started = time.monotonic()
    # The emulator starts empty: state and tfvars of an earlier run would point at nothing. (A kept
    # emulator of an earlier demo still runs from this folder: `emulator` refuses to start over it.)
    if control.running_state(config.emulator_dir) is None:
        shutil.rmtree(config.out, ignore_errors=True)
    config.out.mkdir(parents=True, exist_ok=True)

    stage("local AWS emulator")
    with emulator(config.emulator_dir, config.port, keep=keep_running):
        deployment = release_stack(config)
        return deployment, exercise(deployment, count=count, seed=config.seed, started=started)


def look_around(deployment: Deployment) -> list[str]:
    """What a newcomer can do with the stack a `--keep-running` demo left up: commands ready to paste, from
    any folder (absolute paths)."""
    config, outputs = deployment.config, deployment.outputs
    state_dir = shlex.quote(str(config.emulator_dir))
    machine, bucket = outputs["state_machine_arn"], outputs["data_bucket_name"]
    data_dir, root = shlex.quote(str(config.out / ".terraform")), shlex.quote(str(config.env_dir))
    terraform = f"TF_DATA_DIR={data_dir} terraform -chdir={root}"
    return [
        f"The emulator and the deployed stack stay up on {config.url}.",
        "Point the AWS CLI and scones at it (test credentials, its region, its URL):",
        f'  eval "$(scones local env --state-dir {state_dir})"',
        "Then try:",
        f"  scones invoke --count 5 --state-machine-arn {machine} --bucket {bucket}",
        f"  aws stepfunctions list-executions --state-machine-arn {machine} --max-items 5",
        f"  aws sagemaker describe-endpoint --endpoint-name {outputs['endpoint_name']}",
        f"  scones local alarms --state-dir {state_dir}",
        f"  scones monitor --s3-uri {outputs['capture_s3_uri']} --out {shlex.quote(str(config.out / 'monitor'))}",
        "  scones local fault --help    (inject a fault, then run scones invoke again)",
        f"  {terraform} output    (the stack's outputs, from its state {config.state_file})",
        "Stop it (the emulator and every process it started):",
        f"  scones local down --state-dir {state_dir}",
        f"Without the exports, give each command --endpoint-url {config.url} --region {EMULATOR_REGION}.",
    ]


def exercise(deployment: Deployment, *, count: int, seed: int, started: float | None = None) -> dict[str, Any]:
    """Run the workflow, evaluate the artifact and report the captures of a deployed stack; write
    and return `<out>/summary.json` (`seconds` counts from `started`, a time.monotonic() reading,
    or from this call)."""
    from scones.evaluation.evaluate import evaluate_artifact  # torch: imported when a stack is up
    from scones.evaluation.plots import write_plots
    from scones.monitor.run import run_monitor
    from scones.monitor.sources import S3CaptureSource

    started = time.monotonic() if started is None else started
    out, outputs, session = deployment.config.out, deployment.outputs, deployment.session()
    bucket = outputs["data_bucket_name"]

    stage(f"workflow: {count} executions on random test images")
    # Count only the notifications these executions cause (from the emulator's record of the topic).
    notified_before = len(sent_notifications(deployment.url, outputs["sns_topic_arn"]))
    picked = pick_keys(list_image_keys(session.client("s3"), bucket, TEST_PREFIX), count, seed)
    results = run_executions(
        session.client("stepfunctions"), outputs["state_machine_arn"], bucket, picked, name_prefix="scones-demo"
    )
    invoked = {"state_machine_arn": outputs["state_machine_arn"], "bucket": bucket, "seed": seed, **summarize(results)}
    (out / "invoke.json").write_text(json.dumps(invoked, indent=2) + "\n")
    click.echo(f"    {summary_line(invoked)}")
    if invoked["timed_out"]:
        raise StageError(f"workflow: {invoked['timed_out']} execution(s) did not finish (see {out / 'invoke.json'})")

    stage("evaluation: the deployed artifact on the test split")
    evaluation = evaluate_artifact(
        deployment.trained["model_data_url"], deployment.config.data_dir, split="test", session=session
    )
    evaluate_dir = out / "evaluate"
    evaluate_dir.mkdir(parents=True, exist_ok=True)
    (evaluate_dir / "evaluation.json").write_text(json.dumps(evaluation, indent=2) + "\n")
    write_plots(evaluation, evaluate_dir)
    click.echo(f"    accuracy {evaluation['accuracy']:.3f} on {evaluation['count']} images ({evaluate_dir})")

    stage("monitoring: what the endpoint captured")
    source = S3CaptureSource(outputs["capture_s3_uri"], session.client("s3"))
    monitored = run_monitor(source, DEFAULT_THRESHOLD, out / "monitor")
    click.echo(f"    {monitored.summary['headline']}")
    notifications = sent_bodies(deployment.url, outputs["sns_topic_arn"], since=notified_before)

    stage("alarms: every deployed alarm, evaluated as CloudWatch would")
    alarming = in_alarm(evaluate_remote(deployment.config.url))
    click.echo(f"    in ALARM: {', '.join(alarming)}" if alarming else "    every alarm OK")

    summary = {
        "executions": invoked["executions"],
        "succeeded": invoked["succeeded"],
        "out_of_distribution": invoked["out_of_distribution"],
        "low_confidence": invoked["low_confidence"],
        "failed": invoked["failed"],
        "notifications": len(notifications),
        "captured_records": monitored.summary["records"],
        "alarms_in_alarm": alarming,
        "test_accuracy": evaluation["accuracy"],
        "coverage_at_threshold": evaluation["at_threshold"]["coverage"],
        "accepted_accuracy": evaluation["at_threshold"]["accepted_accuracy"],
        "succeeded_accuracy": invoked["succeeded_accuracy"],
        "model_data_url": deployment.trained["model_data_url"],
        "model_package_arn": deployment.trained.get("model_package_arn"),  # the release's registry version
        "report": str(monitored.report_path),
        # Reported apart so that what the demo adds to training can be judged (issue 16's target).
        "train_seconds": deployment.train_metrics.get("train_seconds"),
        "first_apply_seconds": deployment.first_apply_seconds,
        "seconds": round(time.monotonic() - started, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the demo writes everything [default: <repo>/build/demo].",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=control.DEFAULT_PORT,
    show_default=True,
    help="Port of the demo's emulator.",
)
@click.option("--count", type=click.IntRange(min=1), default=40, show_default=True, help="Workflow executions.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of training and of the images picked.")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Override the local recipe's epochs.")
@click.option(
    "--keep-running",
    is_flag=True,
    help="Leave the emulator and the deployed stack up afterwards, and print how to use and stop them.",
)
def demo_cmd(out: Path | None, port: int, count: int, seed: int, epochs: int | None, keep_running: bool) -> None:
    """Run the end-to-end demo on the local emulator."""
    config = StackConfig(out=out or repo_root() / "build" / "demo", port=port, seed=seed, epochs=epochs)
    deployment, summary = run_demo(config, count=count, keep_running=keep_running)
    stage("summary")
    for key in (
        "executions",
        "succeeded",
        "out_of_distribution",
        "low_confidence",
        "failed",
        "notifications",
        "captured_records",
    ):
        click.echo(f"    {key:<21}{summary[key]}")
    click.echo(f"    {'test_accuracy':<21}{summary['test_accuracy']:.3f}")
    click.echo(f"    {'alarms_in_alarm':<21}{', '.join(summary['alarms_in_alarm']) or 'none'}")
    click.echo(f"    {'report':<21}{summary['report']}")
    parts = [f"{summary['seconds']} s in all"]
    if summary["train_seconds"] is not None:
        parts.append(f"{summary['train_seconds']:.0f} s training")
    if summary["first_apply_seconds"] is not None:
        parts.append(f"{summary['first_apply_seconds']:.0f} s first apply")
    click.echo(f"    {'summary':<21}{config.out / 'summary.json'}  ({', '.join(parts)})")
    if keep_running:
        stage("the stack stays up (--keep-running)")
        for line in look_around(deployment):
            click.echo(f"    {line}")


if __name__ == "__main__":
    demo_cmd()
