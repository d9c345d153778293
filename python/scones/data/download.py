"""Streaming download of the CIFAR-100 archive with progress and MD5 verification."""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import click

from scones.data.errors import ChecksumMismatchError, DownloadError

CIFAR100_URL = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"
_CHUNK = 1 << 20


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, target: Path, *, md5: str | None = CIFAR100_MD5, timeout: float = 60.0) -> Path:
    """Stream `url` into `target` atomically. An existing target with the right MD5 is reused.

    Nothing is left behind on failure: the body goes to a temp file beside the target, which is
    renamed only once complete and verified.
    """
    if target.is_file() and (md5 is None or md5_of(target) == md5):
        click.echo(f"using cached {target}", err=True)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=timeout)
            except (urllib.error.URLError, OSError) as exc:
                raise DownloadError(f"cannot download {url}: {exc}") from None
            with response:
                length = int(response.headers.get("Content-Length") or 0) or None
                received = 0
                with click.progressbar(length=length, label=f"downloading {target.name}", file=None) as bar:
                    while True:
                        try:
                            chunk = response.read(_CHUNK)
                        except (OSError, urllib.error.URLError) as exc:
                            raise DownloadError(f"download of {url} broke off: {exc}") from None
                        if not chunk:
                            break
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        bar.update(len(chunk))
                if length is not None and received != length:
                    raise DownloadError(f"download of {url} truncated: {received} of {length} bytes")
        actual = digest.hexdigest()
        if md5 is not None and actual != md5:
            raise ChecksumMismatchError(f"{url}: MD5 {actual} does not match the published {md5}")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
