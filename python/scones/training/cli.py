"""The `scones train` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from scones.aws import InvalidS3UriError, aws_options, make_session, parse_s3_uri, validate_bucket_name
from scones.model.dataset import DEFAULT_VAL_FRACTION
from scones.model.recipes import DEFAULT, RECIPES
from scones.model.script_options import BY_NAME
from scones.paths import repo_default, repo_root
from scones.training import images
from scones.training.hyperparameters import DEFAULT_SEED, parse_overrides, pytorch_hyperparameters, pytorch_run
from scones.training.local import DEFAULT_KEPT_ARTIFACT, artifact_uri, train_locally
from scones.training.sagemaker_train import (
    ALGORITHMS,
    DEFAULT_INSTANCE_TYPE,
    TrainRequest,
    submit,
    wait_and_report,
)


def _bucket(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validate_bucket_name(value)
    except InvalidS3UriError as exc:
        raise click.BadParameter(str(exc)) from None


def _s3_uri(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parse_s3_uri(value, require_key=False)
    except InvalidS3UriError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _range_of(name: str) -> click.ParamType:
    """The option takes what `-H name=...` takes (script_options.py): one range for both."""
    hp = BY_NAME[name]
    kind = click.IntRange if hp.type is int else click.FloatRange
    return kind(min=hp.minimum, max=hp.maximum, min_open=hp.open_bounds, max_open=hp.open_bounds)


def _write_result(path: Path | None, result: dict[str, Any]) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    click.echo(f"wrote {path}")


@click.command("train")
@click.option(
    "--algorithm",
    type=click.Choice(ALGORITHMS),
    default=None,
    help="SageMaker algorithm [default: image-classification; pytorch with --local].",
)
@click.option("--local", "local", is_flag=True, help="Train the pytorch model on this machine instead.")
@click.option(
    "--role-arn", envvar="SCONES_ROLE_ARN", default=None, help="SageMaker execution role [env SCONES_ROLE_ARN]."
)
@click.option(
    "--bucket",
    envvar="SCONES_BUCKET",
    default=None,
    callback=_bucket,
    help="Bucket holding the prepared data [env SCONES_BUCKET].",
)
@click.option("--prefix", default="data", show_default=True, help="Key prefix of the prepared data.")
@click.option(
    "--output-path",
    default=None,
    callback=_s3_uri,
    help="S3 prefix for the model artifact [default: s3://<bucket>/models/]; with --local may be a .tar.gz URI.",
)
@click.option("--instance-type", default=DEFAULT_INSTANCE_TYPE, show_default=True, help="Training instance (GPU).")
@click.option(
    "--recipe",
    type=click.Choice(list(RECIPES)),
    default=None,
    help=f"pytorch and --local: the named training recipe (scones/model/recipes.py) [default: {DEFAULT.name}]; "
    "--epochs, --learning-rate, --mini-batch-size and -H change it.",
)
@click.option("--epochs", type=_range_of("epochs"), default=None, help="Training epochs.")
@click.option("--learning-rate", type=_range_of("learning_rate"), default=None, help="(Peak) learning rate.")
@click.option("--mini-batch-size", type=_range_of("batch_size"), default=None, help="Images per SGD step.")
@click.option(
    "--hyperparameter",
    "-H",
    "hyperparameters",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override or add a hyperparameter (repeatable); names the algorithm does not take, and values "
    "out of range, are rejected (pytorch and --local: the table in scones/model/script_options.py).",
)
@click.option(
    "--seed", type=int, default=None, help=f"Seed of the validation carve and training [default: {DEFAULT_SEED}]."
)
@click.option(
    "--val-fraction",
    type=_range_of("val_fraction"),
    default=None,
    help=f"Share of each class held out of train for validation [default: {DEFAULT_VAL_FRACTION}].",
)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the job to finish.")
@click.option(
    "--poll-seconds",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Seconds between two looks at the job's status (with --wait).",
)
@click.option("--timeout", type=click.FloatRange(min=1), default=None, help="Stop waiting after N seconds.")
@click.option(
    "--max-runtime",
    type=click.IntRange(min=60),
    default=4 * 3600,
    show_default=True,
    help="Seconds SageMaker lets the job run before stopping it (MaxRuntimeInSeconds).",
)
@click.option(
    "--inference-instance-type",
    default=images.DEFAULT_INFERENCE_INSTANCE_TYPE,
    show_default=True,
    help="Endpoint instance type used to pick the inference image.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    **repo_default("data/prepared"),
    help="--local: prepared data folder.",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(min=1),
    default=None,
    help="--local: finish training within N seconds. A machine too slow for the recipe in N seconds "
    "shortens each network's schedule (the result then depends on the machine).",
)
@click.option(
    "--keep-artifact",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help=f"--local: keep the trained model.tar.gz here as well as uploading it [default: {DEFAULT_KEPT_ARTIFACT} "
    "in the repository, wherever the command runs from; a relative PATH is from the current folder].",
)
@click.option(
    "--result-json",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Also write model_data_url, model_image_uri, job and metrics here (input of `scones tfvars --from-json`).",
)
@aws_options
def train_cmd(
    algorithm: str | None,
    local: bool,
    role_arn: str | None,
    bucket: str | None,
    prefix: str,
    output_path: str | None,
    instance_type: str,
    recipe: str | None,
    epochs: int | None,
    learning_rate: float | None,
    mini_batch_size: int | None,
    hyperparameters: tuple[str, ...],
    seed: int | None,
    val_fraction: float | None,
    wait: bool,
    poll_seconds: float,
    timeout: float | None,
    max_runtime: int,
    inference_instance_type: str,
    data_dir: Path,
    time_budget: float | None,
    keep_artifact: Path | None,
    result_json: Path | None,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Train a bicycle/motorcycle classifier and print the model artifact and image URIs.

    \b
    On SageMaker (GPU):  scones train --algorithm image-classification --bucket B --role-arn ARN
                         scones train --algorithm pytorch --bucket B --role-arn ARN
    On this machine:     scones train --local --bucket B [--recipe fast] [--endpoint-url http://127.0.0.1:PORT]

    Validation is carved from the train split (stratified, --seed); the test split is never used.
    """
    if time_budget is not None and not local:
        raise click.UsageError("--time-budget applies to --local training (SageMaker jobs have --max-runtime)")
    if keep_artifact is not None and not local:
        raise click.UsageError(
            "--keep-artifact applies to --local training (a job's artifact stays in S3: scones evaluate s3://...)"
        )
    if local and algorithm == "image-classification":
        raise click.UsageError("--local trains the pytorch model; image-classification runs only on SageMaker")
    algorithm = "pytorch" if local else (algorithm or "image-classification")
    if recipe is not None and algorithm != "pytorch":
        raise click.UsageError("--recipe chooses how the pytorch model trains (--algorithm pytorch or --local)")
    if output_path is None:
        if bucket is None:
            raise click.UsageError("pass --bucket (or --output-path)")
        output_path = f"s3://{bucket}/models/"

    if local:
        # The checks and names of a SageMaker pytorch job's hyperparameters, read as its entry point reads them.
        run = pytorch_run(
            pytorch_hyperparameters(
                recipe=recipe,
                epochs=epochs,
                seed=seed,
                learning_rate=learning_rate,
                mini_batch_size=mini_batch_size,
                val_fraction=val_fraction,
                overrides=parse_overrides(hyperparameters),
            )
        )
        # Only once the hyperparameters are known good: a session may prompt for or fail on a region.
        session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
        chosen = run.recipe
        click.echo(
            f"training locally from {data_dir} (recipe {chosen.name}, seed {run.seed}, epochs {chosen.epochs}, "
            f"learning rate {chosen.learning_rate}, batch {chosen.batch_size}, {chosen.ensemble} network(s), "
            f"val fraction {run.val_fraction})"
        )
        outcome = train_locally(
            session,
            data_dir=data_dir,
            output_uri=artifact_uri(output_path),
            keep_artifact=keep_artifact or repo_root() / DEFAULT_KEPT_ARTIFACT,
            recipe=chosen,
            seed=run.seed,
            val_fraction=run.val_fraction,
            echo=click.echo,
            time_budget_s=time_budget,
        )
        model_image = images.pytorch_inference_image(session.region_name, inference_instance_type)
        _print_metrics(outcome.metrics)
        click.echo(f"model_data_url:  {outcome.model_data_url}")
        click.echo(f"model_image_uri: {model_image}")
        click.echo(f"artifact kept:   {outcome.artifact_path} (scones evaluate {outcome.artifact_path})")
        _write_result(
            result_json,
            {
                "algorithm": "pytorch",
                "training_job": None,
                "model_data_url": outcome.model_data_url,
                "model_image_uri": model_image,
                "artifact_exists": True,
                "artifact_path": str(outcome.artifact_path),
                "metrics": outcome.metrics,
            },
        )
        return

    if bucket is None:
        raise click.UsageError("--bucket is required: the prepared data is read from it")
    session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
    request = TrainRequest(
        algorithm=algorithm,
        role_arn=role_arn,
        bucket=bucket,
        prefix=prefix.strip("/"),
        output_path=output_path,
        instance_type=instance_type,
        region=session.region_name,
        seed=seed,
        val_fraction=val_fraction,
        recipe=recipe,
        epochs=epochs,
        learning_rate=learning_rate,
        mini_batch_size=mini_batch_size,
        overrides=parse_overrides(hyperparameters),
        max_runtime_s=max_runtime,
        inference_instance_type=inference_instance_type,
    )
    submitted = submit(session, request, echo=click.echo)
    if not wait:
        click.echo(f"not waiting; when it has finished: scones tfvars --env ENV --training-job {submitted.job_name}")
        _write_result(
            result_json,
            {"algorithm": algorithm, "training_job": submitted.job_name, "model_image_uri": submitted.model_image_uri},
        )
        return
    outcome = wait_and_report(
        session, submitted.job_name, echo=click.echo, poll_seconds=poll_seconds, timeout_seconds=timeout
    )
    _print_metrics(outcome.metrics)
    if outcome.billable_seconds is not None:
        click.echo(f"billable time: {outcome.billable_seconds}s")
    if outcome.artifact_exists:
        click.echo(f"model_data_url:  {outcome.artifact_uri}")
    else:
        click.secho(
            f"warning: {outcome.job_name} is {outcome.status} but no model artifact was written at "
            f"{outcome.artifact_uri} (an emulated backend such as moto completes jobs without running them)",
            fg="yellow",
            err=True,
        )
    click.echo(f"model_image_uri: {submitted.model_image_uri}")
    click.echo(f"next: scones tfvars --env ENV --training-job {outcome.job_name}")
    _write_result(
        result_json,
        {
            "algorithm": algorithm,
            "training_job": outcome.job_name,
            "model_data_url": outcome.artifact_uri,
            "model_image_uri": submitted.model_image_uri,
            "artifact_exists": outcome.artifact_exists,
            "metrics": outcome.metrics,
        },
    )


def _print_metrics(metrics: dict[str, Any]) -> None:
    if not metrics:
        click.echo("final metrics: none reported")
        return
    click.echo("final metrics:")
    for name, value in sorted(metrics.items()):
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        click.echo(f"  {name:<24} {shown}")
