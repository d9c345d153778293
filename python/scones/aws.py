"""boto3 sessions for the scones commands, on AWS or on the local emulator (`--endpoint-url`).

One session object serves boto3 and the SageMaker SDK alike: the SDK creates its own clients
from the boto3 session it is given, so the endpoint has to live on the session, not on a client.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import boto3
import click
from botocore.config import Config

# What `scones local up` expects (docs/contracts.md); only used when talking to an endpoint override
# and nothing else provides credentials, so a real profile is never shadowed.
EMULATOR_ACCESS_KEY = "testing"
EMULATOR_SECRET_KEY = "testing"
EMULATOR_REGION = "us-east-1"

NO_HOST_PREFIX = Config(inject_host_prefix=False)

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class MissingRegionError(click.UsageError):
    """No region was given and none is configured."""


class InvalidS3UriError(ValueError):
    """A string that should be s3://bucket/key is not."""


class EndpointSession(boto3.Session):
    """A boto3 session whose clients and resources default to one endpoint URL (None: AWS)."""

    def __init__(self, *, endpoint_url: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.endpoint_url = endpoint_url

    def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if self.endpoint_url and len(args) < 5:
            kwargs.setdefault("endpoint_url", self.endpoint_url)
            # botocore sends some operations to a prefixed host (StartSyncExecution to
            # sync-<endpoint>); against one fixed endpoint such as 127.0.0.1 that host does not exist.
            kwargs["config"] = NO_HOST_PREFIX.merge(kwargs["config"]) if kwargs.get("config") else NO_HOST_PREFIX
        return super().client(service_name, *args, **kwargs)

    def resource(self, service_name: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if self.endpoint_url and len(args) < 5:
            kwargs.setdefault("endpoint_url", self.endpoint_url)
        return super().resource(service_name, *args, **kwargs)


def make_session(
    *, region: str | None = None, endpoint_url: str | None = None, profile: str | None = None
) -> EndpointSession:
    """A session for `region` (or the configured one); the emulator's fake credentials when an
    endpoint override is given and nothing else provides credentials."""
    session = EndpointSession(endpoint_url=endpoint_url, profile_name=profile, region_name=region)
    if session.region_name is None:
        if not endpoint_url:
            raise MissingRegionError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
        session = EndpointSession(endpoint_url=endpoint_url, profile_name=profile, region_name=EMULATOR_REGION)
    if endpoint_url and session.get_credentials() is None:
        session = EndpointSession(
            endpoint_url=endpoint_url,
            aws_access_key_id=EMULATOR_ACCESS_KEY,
            aws_secret_access_key=EMULATOR_SECRET_KEY,
            region_name=session.region_name,
        )
    return session


def parse_s3_uri(uri: str, *, require_key: bool = True) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); InvalidS3UriError with the reason otherwise."""
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise InvalidS3UriError(f"{uri!r} is not an S3 URI (expected s3://bucket/key)")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not _BUCKET_RE.match(bucket) or ".." in bucket:
        raise InvalidS3UriError(f"{uri!r}: {bucket!r} is not a valid S3 bucket name")
    if require_key and not key:
        raise InvalidS3UriError(f"{uri!r} has no object key (expected s3://bucket/key)")
    return bucket, key


def validate_bucket_name(bucket: str) -> str:
    parse_s3_uri(f"s3://{bucket}/", require_key=False)
    return bucket


F = TypeVar("F", bound=Callable[..., Any])


def aws_options(func: F) -> F:
    """--region, --endpoint-url and --profile, read from the usual AWS environment variables too."""
    func = click.option("--profile", envvar="AWS_PROFILE", default=None, help="AWS named profile [env AWS_PROFILE].")(
        func
    )
    func = click.option(
        "--endpoint-url",
        envvar="AWS_ENDPOINT_URL",
        default=None,
        help="Send every AWS call here, e.g. the emulator http://127.0.0.1:PORT [env AWS_ENDPOINT_URL].",
    )(func)
    func = click.option(
        "--region",
        envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
        default=None,
        help="AWS region [env AWS_REGION, AWS_DEFAULT_REGION; us-east-1 with --endpoint-url].",
    )(func)
    return func
