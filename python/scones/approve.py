"""`scones approve ARN`: approve a model registry version so that it can be deployed (a prod release waits for it)."""

from __future__ import annotations

from pathlib import Path

import click

from scones.aws import aws_options, make_session
from scones.paths import repo_root
from scones.release import registry
from scones.tfvars import env_dir


def group_of_env(env: str, tfvars_dir: Path | None = None) -> str:
    """The model package group of an environment root: its stack's `<name_prefix>-models`, where every root's
    name_prefix is scones-<env> (terraform/envs/<env>/main.tf)."""
    env_dir(tfvars_dir or repo_root() / "terraform" / "envs", env)  # UnknownEnvironmentError for a typo
    return f"scones-{env}-models"


@click.command("approve")
@click.argument("arn")
@click.option("--env", "env", default=None, help="Environment whose registry holds the version (local, dev, prod).")
@click.option(
    "--group", default=None, help="Model package group that holds the version [default: scones-<env>-models]."
)
@click.option("--description", default="", help="Why it is approved (recorded as the version's ApprovalDescription).")
@aws_options
def approve_cmd(
    arn: str,
    env: str | None,
    group: str | None,
    description: str,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Approve the model registry version ARN (SageMaker deploys only approved versions).

    \b
    scones approve arn:aws:sagemaker:us-west-2:123456789012:model-package/scones-prod-models/7 --env prod \\
        --description "reviewed in PR 123"
    """
    if env is None and group is None:
        raise click.UsageError("give --env ENV (or --group NAME): the registry the version must belong to")
    expected = group or group_of_env(str(env))
    # The version's own region unless told otherwise: the ARN names it.
    region = region or (arn.split(":")[3] if arn.count(":") >= 5 else None)
    session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
    before = registry.describe(session, arn, group=expected)
    if before.approval == registry.APPROVED:
        click.echo(f"{arn}: already Approved (version {before.version} of {before.group})")
        return
    version = registry.approve(session, arn, group=expected, description=description)
    click.echo(f"{arn}: {before.approval} -> {version.approval} (version {version.version} of {version.group})")
    click.echo(f"  artifact {version.model_data_url} (sha256 {version.sha256}), from {version.source or 'unknown'}")
