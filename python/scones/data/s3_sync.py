"""Idempotent upload of a folder to S3: objects whose content is already there are skipped."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from botocore.exceptions import ClientError

from scones.data.errors import DataError

_HASH_META = "sha256"  # x-amz-meta-sha256: ETag is not an MD5 under SSE-KMS or multipart uploads


@dataclass
class SyncResult:
    uploaded: int = 0
    skipped: int = 0


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _remote_index(s3: Any, bucket: str, prefix: str) -> dict[str, tuple[int, str]]:
    index: dict[str, tuple[int, str]] = {}
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                index[obj["Key"]] = (obj["Size"], obj["ETag"].strip('"'))
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise DataError(f"cannot list s3://{bucket}/{prefix}: {code}: {exc}") from None
    return index


def _unchanged(s3: Any, bucket: str, key: str, path: Path, remote: tuple[int, str] | None) -> bool:
    if remote is None or remote[0] != path.stat().st_size:
        return False
    etag = remote[1]
    if len(etag) == 32 and "-" not in etag and etag == _md5(path):
        return True
    # ETag is not a plain MD5 (KMS or multipart) or differs: trust our own content hash if present.
    head = s3.head_object(Bucket=bucket, Key=key)
    return head.get("Metadata", {}).get(_HASH_META) == _sha256(path)


def sync_folder(s3: Any, root: Path, files: list[Path], bucket: str, prefix: str) -> SyncResult:
    """Upload `files` (under `root`) to s3://bucket/prefix/<relative path>, skipping unchanged ones."""
    prefix = prefix.strip("/")
    base = f"{prefix}/" if prefix else ""
    remote = _remote_index(s3, bucket, base)
    result = SyncResult()
    with click.progressbar(files, label=f"uploading to s3://{bucket}/{base}", file=None) as bar:
        for path in bar:
            key = base + path.relative_to(root).as_posix()
            if _unchanged(s3, bucket, key, path, remote.get(key)):
                result.skipped += 1
                continue
            content_type = "image/png" if path.suffix == ".png" else "text/plain"
            try:
                s3.put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=path.read_bytes(),
                    ContentType=content_type,
                    Metadata={_HASH_META: _sha256(path)},
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                raise DataError(f"upload of {path} to s3://{bucket}/{key} failed: {code}: {exc}") from None
            result.uploaded += 1
    return result
