"""`scones teardown`: empty what `terraform destroy` would refuse to delete (scones.teardown), after showing
it and asking."""

from __future__ import annotations

import click

from scones.aws import aws_options, make_session
from scones.registry_cli import group_of_env
from scones.teardown import Inventory, inventory, stack_buckets, tear_down


def _describe(found: Inventory) -> list[str]:
    lines = []
    if found.group is not None:
        versions = found.versions
        lines.append(
            f"  {found.group}: "
            + ("no such model package group" if versions is None else f"{len(versions)} registry versions")
        )
    for bucket, count in found.buckets.items():
        lines.append(
            f"  s3://{bucket}: "
            + ("no such bucket" if count is None else f"{count} object versions and delete markers")
        )
    return lines


@click.command("teardown")
@click.option("--env", default=None, help="Empty this environment's data and capture buckets and its model registry.")
@click.option(
    "--bucket", "buckets", multiple=True, help="Empty this bucket too (repeatable), e.g. the Terraform state bucket."
)
@click.option("--yes", is_flag=True, help="Do not ask before deleting.")
@aws_options
def teardown_cmd(
    env: str | None,
    buckets: tuple[str, ...],
    yes: bool,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Delete every object version of a stack's versioned buckets and every version of its model registry,
    so that `make destroy ENV=<env>` can delete them; nothing else is touched. Shows what it will delete and
    asks first (--yes does not ask).

    \b
    scones teardown --env dev                              (then: make destroy ENV=dev)
    scones teardown --bucket my-tfstate-123456789012       (the state bucket, once every environment is gone)
    """
    if env is None and not buckets:
        raise click.UsageError("give --env ENV and/or --bucket NAME: what to empty")
    session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
    names: list[str] = []
    group = None
    if env is not None:
        group = group_of_env(env)
        account = session.client("sts").get_caller_identity()["Account"]
        names += stack_buckets(env, account, session.region_name)
    names += [bucket for bucket in buckets if bucket not in names]

    found = inventory(session, names, group)
    click.echo("\n".join(["scones teardown will delete:", *_describe(found)]))
    if found.empty:
        click.echo("Nothing to delete.")
    else:
        if not yes:
            click.confirm("Delete all of this? It cannot be undone", abort=True)
        tear_down(session, found, click.echo)
    if env is not None:
        click.echo(f"Next: make destroy ENV={env}")
