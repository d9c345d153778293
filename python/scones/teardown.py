"""What `terraform destroy` cannot delete on its own, deleted on purpose: every object version and delete
marker of a stack's versioned buckets (S3 refuses DeleteBucket on a bucket that holds any, and dev and prod
leave `force_destroy` off so that a destroy never takes data by surprise), and the versions of its model
registry (SageMaker refuses DeleteModelPackageGroup while the group has versions).

`aws s3 rm --recursive` only adds delete markers to a versioned bucket; emptying one means deleting each
version by id ("Deleting object versions from a versioning-enabled bucket",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html), at most 1000 keys per
DeleteObjects request (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import click
from botocore.exceptions import ClientError

from scones.release import registry

DELETE_BATCH = 1000  # DeleteObjects' limit


class TeardownError(click.ClickException):
    """S3 or SageMaker refused a deletion; what was deleted before it stays deleted."""


def stack_buckets(env: str, account: str, region: str) -> tuple[str, str]:
    """The data and capture buckets of an environment root's stack (terraform/modules/stack/main.tf:
    `<name_prefix>-data-<account>-<region>`, `-capture-`), where every root's name_prefix is scones-<env>."""
    return f"scones-{env}-data-{account}-{region}", f"scones-{env}-capture-{account}-{region}"


@dataclass
class Inventory:
    """What a teardown would delete: per bucket its object versions and delete markers (None: no such
    bucket), and the registry's version ARNs (None: no such group)."""

    buckets: dict[str, int | None] = field(default_factory=dict)
    group: str | None = None
    versions: list[str] | None = None

    @property
    def empty(self) -> bool:
        return not any(self.buckets.values()) and not self.versions


def _keys(page: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"Key": entry["Key"], "VersionId": entry["VersionId"]}
        for kind in ("Versions", "DeleteMarkers")
        for entry in page.get(kind, [])
    ]


def _versions(s3: Any, bucket: str) -> Iterator[list[dict[str, str]]]:
    """Every object version and delete marker of bucket, a page at a time."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        yield _keys(page)


def _first_pages(s3: Any, bucket: str) -> Iterator[list[dict[str, str]]]:
    """The first page of bucket's versions (at most DeleteObjects' 1000), again and again until there is none:
    the caller deletes each before asking for the next, so no page marker can point at a deleted version."""
    while keys := _keys(s3.list_object_versions(Bucket=bucket, MaxKeys=DELETE_BATCH)):
        yield keys


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("NoSuchBucket", "404")


def count_versions(s3: Any, bucket: str) -> int | None:
    """Object versions plus delete markers in bucket; None when there is no such bucket."""
    try:
        return sum(len(batch) for batch in _versions(s3, bucket))
    except ClientError as exc:
        if _missing(exc):
            return None
        raise TeardownError(f"cannot list s3://{bucket}: {exc}") from exc


def empty_bucket(s3: Any, bucket: str, progress: Callable[[int], None] = lambda _: None) -> int:
    """Delete every object version and delete marker of bucket; return how many. `progress` gets the running
    count after each batch."""
    deleted = 0
    try:
        for batch in _first_pages(s3, bucket):
            answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise TeardownError(
                    f"s3://{bucket}: {len(answer['Errors'])} versions not deleted, e.g. {first.get('Key')} "
                    f"({first.get('Code')}: {first.get('Message')})"
                )
            deleted += len(batch)
            progress(deleted)
    except ClientError as exc:
        raise TeardownError(f"cannot empty s3://{bucket} after {deleted} deletions: {exc}") from exc
    return deleted


def registry_versions(session: Any, group: str) -> list[str] | None:
    """The ARNs of group's versions, newest first; None when there is no such group."""
    try:
        registry.require_group(session, group)
    except registry.ModelGroupNotFoundError:
        return None
    return registry.version_arns(session, group)


def delete_registry_versions(session: Any, arns: list[str]) -> None:
    sagemaker = session.client("sagemaker")
    for arn in arns:
        try:
            sagemaker.delete_model_package(ModelPackageName=arn)
        except ClientError as exc:
            raise TeardownError(f"cannot delete registry version {arn}: {exc}") from exc


def inventory(session: Any, buckets: list[str], group: str | None) -> Inventory:
    s3 = session.client("s3")
    found = Inventory({bucket: count_versions(s3, bucket) for bucket in buckets}, group)
    if group is not None:
        found.versions = registry_versions(session, group)
    return found


def tear_down(session: Any, found: Inventory, say: Callable[[str], None]) -> None:
    """Delete what `found` lists: the registry's versions, then every bucket's versions."""
    if found.versions:
        delete_registry_versions(session, found.versions)
        say(f"{found.group}: {len(found.versions)} registry versions deleted")
    s3 = session.client("s3")
    for bucket, count in found.buckets.items():
        if count:
            deleted = empty_bucket(s3, bucket, lambda n, b=bucket, c=count: say(f"s3://{b}: {n}/{c} deleted"))
            say(f"s3://{bucket}: empty ({deleted} object versions and delete markers deleted)")
