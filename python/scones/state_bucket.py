"""`scones bootstrap-state` (`make bootstrap-state`): the S3 bucket that holds the dev and prod roots'
Terraform state, created once per account before the first `make tf-init`, and the root's backend.hcl
that names it.

The bucket cannot be managed by the roots whose state it holds, so it is made here: versioned (every
earlier state can be restored), encrypted by default, public access blocked, TLS only. Running it again
re-applies those settings to the existing bucket.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import ClientError

from scones.aws import InvalidS3UriError, aws_options, make_session, validate_bucket_name
from scones.paths import repo_default

BACKEND_FILE = "backend.hcl"
BACKEND_EXAMPLE = "backend.hcl.example"


class StateBucketError(click.ClickException):
    """The state bucket cannot be created or configured; the message says why."""


def create_bucket_request(bucket: str, region: str) -> dict[str, Any]:
    """CreateBucket's arguments for a bucket in `region`.

    S3 creates a bucket without a location constraint in us-east-1, and us-east-1 is not one of the
    constraint's valid values (a request that names it fails with InvalidLocationConstraint); every other
    region needs CreateBucketConfiguration.LocationConstraint=<region>, or its endpoint refuses the request
    with IllegalLocationConstraintException. See "LocationConstraint" in
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucketConfiguration.html and
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html
    """
    request: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    return request


def encryption_rule(kms_key_arn: str | None) -> dict[str, Any]:
    if kms_key_arn is None:
        return {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    return {
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_arn},
        "BucketKeyEnabled": True,
    }


def tls_only_policy(bucket: str, partition: str = "aws") -> dict[str, Any]:
    """Deny every request to the bucket that is not made over TLS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def bootstrap_state_bucket(s3: Any, bucket: str, region: str, kms_key_arn: str | None = None) -> bool:
    """Create `bucket` in `region` unless this account already owns it, then make it private, versioned,
    encrypted and TLS only. Returns whether it was created."""
    created = True
    try:
        s3.create_bucket(**create_bucket_request(bucket, region))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code != "BucketAlreadyOwnedByYou":
            raise StateBucketError(f"cannot create s3://{bucket} in {region}: {code}: {exc}") from exc
        created = False
        # S3 reports us-east-1 as no constraint (and "EU", the old name, for eu-west-1).
        where = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
        where = "eu-west-1" if where == "EU" else where
        if where != region:
            raise StateBucketError(
                f"s3://{bucket} is yours already, in {where}, not {region}: pass --region {where}"
            ) from exc
    # Public access is blocked before anything else is set, so the bucket is never public for a moment.
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [encryption_rule(kms_key_arn)]})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_only_policy(bucket, s3.meta.partition)))
    return created


def backend_config(example: str, bucket: str, region: str) -> str:
    """The root's backend.hcl: its committed example with this bucket and region filled in."""
    text = re.sub(r'(?m)^(bucket\s*=\s*)".*"$', lambda m: f'{m.group(1)}"{bucket}"', example)
    text = re.sub(r'(?m)^(region\s*=\s*)".*"$', lambda m: f'{m.group(1)}"{region}"', text)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return "# Written by `scones bootstrap-state` (git-ignored); `make tf-init` passes it to terraform init.\n" + (
        "\n".join(lines) + "\n"
    )


def write_backend_config(env_dir: Path, bucket: str, region: str) -> Path | None:
    """Write env_dir/backend.hcl from its example; None when one is there already (it is left alone)."""
    target = env_dir / BACKEND_FILE
    if target.exists():
        return None
    example = env_dir / BACKEND_EXAMPLE
    if not example.is_file():
        raise StateBucketError(f"{env_dir} has no {BACKEND_EXAMPLE}: its state is not kept in S3")
    target.write_text(backend_config(example.read_text(), bucket, region))
    return target


def _bucket(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return validate_bucket_name(value)
    except InvalidS3UriError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command("bootstrap-state")
@click.option("--bucket", required=True, callback=_bucket, help="Name of the state bucket, e.g. my-tfstate-<account>.")
@click.option(
    "--env",
    "env",
    default=None,
    help="Also write terraform/envs/<env>/backend.hcl for this bucket and region (dev, prod), unless it exists.",
)
@click.option("--kms-key-arn", default=None, help="Encrypt with this KMS key instead of SSE-S3.")
@click.option(
    "--envs-dir",
    type=click.Path(path_type=Path, file_okay=False),
    **repo_default("terraform/envs"),
    help="Folder holding one folder per environment.",
)
@aws_options
def bootstrap_state_cmd(
    bucket: str,
    env: str | None,
    kms_key_arn: str | None,
    envs_dir: Path,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Create the S3 bucket of the Terraform state once per account (versioned, encrypted, private,
    TLS only; run again, it re-applies the settings), in any region.

    \b
    scones bootstrap-state --bucket my-tfstate-123456789012 --region eu-west-1 --env dev
    """
    env_dir = envs_dir / env if env is not None else None
    if env_dir is not None and not (env_dir / BACKEND_EXAMPLE).is_file():
        raise click.BadParameter(
            f"{env_dir} has no {BACKEND_EXAMPLE} (local keeps its state in a file)", param_hint="--env"
        )
    session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
    created = bootstrap_state_bucket(session.client("s3"), bucket, session.region_name, kms_key_arn)
    encryption = "SSE-KMS" if kms_key_arn else "SSE-S3"
    verb = "created" if created else "already yours, settings re-applied"
    click.echo(
        f"s3://{bucket} in {session.region_name}: {verb} (versioned, {encryption}, public access blocked, TLS only)"
    )
    if env_dir is not None:
        written = write_backend_config(env_dir, bucket, session.region_name)
        if written is None:
            click.echo(f"{env_dir / BACKEND_FILE} exists: left as it is")
        else:
            click.echo(f"wrote {written}")
