"""The `scones release` command: a thin layer over scones.release.pipeline."""

from __future__ import annotations

from pathlib import Path

import click

from scones.aws import make_session
from scones.paths import repo_default, repo_root
from scones.release.config import load_config
from scones.release.pipeline import ReleaseRequest, release
from scones.release.workspace import workspace_for


@click.command("release")
@click.option("--env", "env", required=True, help="Environment: a folder of terraform/envs (local, dev, prod).")
@click.option("--model-data-url", default=None, help="Release this s3://.../model.tar.gz instead of training one.")
@click.option("--model-image-uri", default=None, help="With --model-data-url: the serving image [default: PyTorch's].")
@click.option(
    "--model-package-arn",
    default=None,
    help="Release this version of the stack's model registry group instead of training one.",
)
@click.option("--epochs", type=click.IntRange(1, 500), default=None, help="Training epochs [default: the config's].")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Release configuration [default: terraform/envs/<env>/release.json].",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    **repo_default("build/release"),
    help="Reports: <out>/<env>/<timestamp>/report.json and summary.md.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    **repo_default("data/prepared"),
    help="Prepared images (scones prepare --out).",
)
@click.option("--endpoint-url", default=None, help="local: the emulator [default: http://127.0.0.1:4588].")
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="local: the Terraform state, plugins and tfvars of a private stack (as scones demo keeps them).",
)
@click.option("--region", envvar="AWS_REGION", default=None, help="AWS region [env AWS_REGION].")
@click.option("--profile", envvar="AWS_PROFILE", default=None, help="AWS named profile [env AWS_PROFILE].")
def release_cmd(
    env: str,
    model_data_url: str | None,
    model_image_uri: str | None,
    model_package_arn: str | None,
    epochs: int | None,
    config_file: Path | None,
    out: Path,
    data_dir: Path,
    endpoint_url: str | None,
    state_dir: Path | None,
    region: str | None,
    profile: str | None,
) -> None:
    """Release a model to ENV: data, train, evaluate, gate, register, record, plan, apply, verify, smoke
    test, and roll back on a failure after the apply. Re-running after a failure resumes the release.

    \b
    scones release --env local                       (train locally, on `scones local up`)
    scones release --env dev --model-data-url s3://B/models/X/model.tar.gz
    scones release --env prod --model-package-arn arn:aws:sagemaker:R:A:model-package/scones-prod-models/3
    """
    if model_image_uri is not None and model_data_url is None:
        raise click.UsageError("--model-image-uri goes with --model-data-url")
    if model_package_arn is not None and (model_data_url is not None or epochs is not None):
        raise click.UsageError("--model-package-arn releases a registered version: no --model-data-url or --epochs")
    workspace = workspace_for(
        env,
        envs_dir=repo_root() / "terraform" / "envs",
        out=out,
        data_dir=data_dir,
        endpoint_url=endpoint_url,
        state_dir=state_dir,
    )
    config = load_config(config_file or workspace.config_file)
    session = make_session(region=region, endpoint_url=workspace.endpoint_url, profile=profile)
    request = ReleaseRequest(
        model_data_url=model_data_url,
        model_image_uri=model_image_uri,
        model_package_arn=model_package_arn,
        epochs=epochs,
    )
    run = release(workspace, config, request, session)
    click.secho(f"release {env}: {run.data['status']} (report: {run.report_file})", bold=True)
