"""Stream data-capture JSONL lines from a local folder or an S3 location.

Files are read in chunks and split into lines as they arrive, so a day of capture never has to
fit in memory. Every line comes with its location (`<file>:<line number>`) for error reports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from scones.monitor.errors import CaptureSourceError

CAPTURE_SUFFIX = ".jsonl"
_CHUNK_BYTES = 1 << 16


@dataclass(frozen=True)
class CaptureLine:
    location: str
    data: bytes
    read_error: str | None = None
    """Set when the file could not be read from here on; the rest of the file is lost."""


class CaptureSource(Protocol):
    description: str

    def iter_files(self) -> Iterator[tuple[str, Iterator[bytes]]]:
        """Yield (file name, its content in chunks), in capture order."""
        ...


def iter_capture_lines(source: CaptureSource, on_file: Callable[[str], object] | None = None) -> Iterator[CaptureLine]:
    """Every non-blank line of every capture file, with its location; `on_file` sees each file name."""
    for name, chunks in source.iter_files():
        if on_file is not None:
            on_file(name)
        number = 0
        try:
            for number, line in enumerate(split_lines(chunks), start=1):
                if line.strip():
                    yield CaptureLine(location=f"{name}:{number}", data=line)
        except CaptureSourceError as exc:
            # One unreadable object must not hide the others.
            yield CaptureLine(location=f"{name}:{number + 1}", data=b"", read_error=str(exc))


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Lines (without the newline) of a byte stream that arrives in arbitrary chunks."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from (line.rstrip(b"\r") for line in complete)
    if pending:
        yield pending.rstrip(b"\r")


class LocalCaptureSource:
    """A folder searched recursively for *.jsonl (or a single .jsonl file)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = str(root)

    def iter_files(self) -> Iterator[tuple[str, Iterator[bytes]]]:
        if self.root.is_file():
            paths = [self.root]
        elif self.root.is_dir():
            # The YYYY/MM/DD/HH/<mm-ss-SSS>-<uuid>.jsonl layout sorts chronologically by path.
            paths = sorted(p for p in self.root.rglob(f"*{CAPTURE_SUFFIX}") if p.is_file())
        else:
            raise CaptureSourceError(f"capture folder {self.root} does not exist")
        for path in paths:
            yield str(path), _read_file_chunks(path)


def _read_file_chunks(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                yield chunk
    except OSError as exc:
        raise CaptureSourceError(f"cannot read {path}: {exc}") from exc


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix/"); the prefix is a folder."""
    if not uri.startswith("s3://"):
        raise CaptureSourceError(f"{uri!r} is not an s3:// URI")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    if not bucket:
        raise CaptureSourceError(f"{uri!r} names no bucket")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


class S3CaptureSource:
    """Every *.jsonl object under an S3 prefix (the capture destination, an endpoint, a variant...)."""

    def __init__(self, uri: str, client: Any) -> None:
        self.bucket, self.prefix = parse_s3_uri(uri)
        self.client = client
        self.description = f"s3://{self.bucket}/{self.prefix}"

    def iter_files(self) -> Iterator[tuple[str, Iterator[bytes]]]:
        for key in self._list_keys():
            yield f"s3://{self.bucket}/{key}", self._read_object_chunks(key)

    def _list_keys(self) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        keys: list[str] = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                keys.extend(obj["Key"] for obj in page.get("Contents", []) if obj["Key"].endswith(CAPTURE_SUFFIX))
        except ClientError as exc:
            raise CaptureSourceError(f"cannot list {self.description}: {exc}") from exc
        except BotoCoreError as exc:
            raise CaptureSourceError(f"cannot reach S3 for {self.description}: {exc}") from exc
        return sorted(keys)

    def _read_object_chunks(self, key: str) -> Iterator[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            yield from body.iter_chunks(_CHUNK_BYTES)
        except (ClientError, BotoCoreError) as exc:
            raise CaptureSourceError(f"cannot read s3://{self.bucket}/{key}: {exc}") from exc
