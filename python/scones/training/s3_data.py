"""Find the prepared data in S3 and stage the carved train/validation .lst files next to it.

Both image channels point at `<prefix>/train/`; only the .lst files differ, so no image is
copied and the test split never reaches a training job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from scones.data.errors import PreparedDataError
from scones.data.layout import parse_lst
from scones.training.splits import CarvedSplit, Entry


@dataclass(frozen=True)
class PreparedS3Data:
    bucket: str
    prefix: str
    entries: list[Entry]

    @property
    def train_images_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/train/"

    @property
    def train_lst_uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}/train.lst"


@dataclass(frozen=True)
class StagedSplit:
    split: CarvedSplit
    train_lst_uri: str
    validation_lst_uri: str


def _missing(bucket: str, prefix: str, what: str) -> PreparedDataError:
    return PreparedDataError(
        f"{what} not found in s3://{bucket}/{prefix}/: run `scones prepare --bucket {bucket} "
        f"--prefix {prefix}` first (or pass the --bucket/--prefix it used)"
    )


def load_prepared(s3: Any, bucket: str, prefix: str) -> PreparedS3Data:
    """Read `<prefix>/train.lst` and check that every image it lists is in the bucket."""
    prefix = prefix.strip("/")
    lst_key = f"{prefix}/train.lst"
    try:
        body = s3.get_object(Bucket=bucket, Key=lst_key)["Body"].read().decode()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"NoSuchKey", "404", "NoSuchBucket"}:
            raise _missing(bucket, prefix, "train.lst") from None
        raise
    entries = parse_lst(body, source=f"s3://{bucket}/{lst_key}")
    if not entries:
        raise PreparedDataError(f"s3://{bucket}/{lst_key} lists no images")
    present = set()
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{prefix}/train/"):
        present.update(obj["Key"] for obj in page.get("Contents", []))
    missing = [path for path, _ in entries if f"{prefix}/train/{path}" not in present]
    if missing:
        raise PreparedDataError(
            f"s3://{bucket}/{lst_key} lists {len(missing)} image(s) missing from the bucket, "
            f"e.g. s3://{bucket}/{prefix}/train/{missing[0]}: re-run `scones prepare`"
        )
    return PreparedS3Data(bucket=bucket, prefix=prefix, entries=entries)


def stage_split(s3: Any, data: PreparedS3Data, split: CarvedSplit) -> StagedSplit:
    """Write `<prefix>/splits/<digest>/{train,validation}.lst` (same content -> same key)."""
    base = f"{data.prefix}/splits/{split.digest}"
    for name, text in (("train.lst", split.train_lst), ("validation.lst", split.validation_lst)):
        s3.put_object(Bucket=data.bucket, Key=f"{base}/{name}", Body=text.encode(), ContentType="text/plain")
    return StagedSplit(
        split=split,
        train_lst_uri=f"s3://{data.bucket}/{base}/train.lst",
        validation_lst_uri=f"s3://{data.bucket}/{base}/validation.lst",
    )
