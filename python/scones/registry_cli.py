"""The model registry's commands: `scones approve ARN` (a prod release waits for it), `scones registry list` and
`scones registry reject ARN` (no release deploys it then)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

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


def _group_option(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option(
        "--group", default=None, help="Model package group that holds the version [default: scones-<env>-models]."
    )(func)
    return click.option("--env", "env", default=None, help="Environment whose registry it is (local, dev, prod).")(func)


def _expected_group(env: str | None, group: str | None) -> str:
    if env is None and group is None:
        raise click.UsageError("give --env ENV (or --group NAME): the registry the version must belong to")
    return group or group_of_env(str(env))


def _session_for(arn: str, region: str | None, endpoint_url: str | None, profile: str | None) -> Any:
    # The version's own region unless told otherwise: the ARN names it.
    region = region or (arn.split(":")[3] if arn.count(":") >= 5 else None)
    return make_session(region=region, endpoint_url=endpoint_url, profile=profile)


@click.command("approve")
@click.argument("arn")
@_group_option
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
    expected = _expected_group(env, group)
    session = _session_for(arn, region, endpoint_url, profile)
    before = registry.describe(session, arn, group=expected)
    if before.approval == registry.APPROVED:
        click.echo(f"{arn}: already Approved (version {before.version} of {before.group})")
        return
    version = registry.approve(session, arn, group=expected, description=description)
    click.echo(f"{arn}: {before.approval} -> {version.approval} (version {version.version} of {version.group})")
    click.echo(f"  artifact {version.model_data_url} (sha256 {version.sha256}), from {version.source or 'unknown'}")


@click.group("registry")
def registry_group() -> None:
    """Read an environment's model registry, or reject one of its versions."""


@registry_group.command("list")
@_group_option
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON (newest first).")
@aws_options
def list_cmd(
    env: str | None, group: str | None, as_json: bool, region: str | None, endpoint_url: str | None, profile: str | None
) -> None:
    """List the registry's versions, newest first: approval, artifact digest, source and metrics."""
    name = _expected_group(env, group)
    session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
    versions = registry.versions(session, name)
    if as_json:
        click.echo(json.dumps([asdict(version) for version in versions], indent=2))
        return
    if not versions:
        click.echo(f"{name}: no versions")
        return
    for version in versions:
        metrics = json.dumps(version.metrics, sort_keys=True)
        click.echo(f"{version.version:>4}  {version.approval:<21}  {version.sha256[:12]}  {version.source}  {metrics}")
        click.echo(f"      {version.arn}")


@registry_group.command("reject")
@click.argument("arn")
@_group_option
@click.option(
    "--description", required=True, help="Why it is rejected (recorded as the version's ApprovalDescription)."
)
@aws_options
def reject_cmd(
    arn: str,
    env: str | None,
    group: str | None,
    description: str,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Reject the model registry version ARN: a release refuses it from then on.

    \b
    scones registry reject arn:aws:sagemaker:us-west-2:123456789012:model-package/scones-prod-models/7 --env prod \\
        --description "misclassifies night-time images"
    """
    expected = _expected_group(env, group)
    session = _session_for(arn, region, endpoint_url, profile)
    before = registry.describe(session, arn, group=expected)
    version = registry.reject(session, arn, group=expected, description=description)
    click.echo(f"{arn}: {before.approval} -> {version.approval} (version {version.version} of {version.group})")
    click.echo(f"  reason: {version.approval_description}")
