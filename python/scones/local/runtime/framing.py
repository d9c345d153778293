"""Length-prefixed frames over pipes: a JSON header plus raw bytes.

Shared by the emulator and its worker subprocesses. Kept import-light (stdlib only) because
every worker imports it before the user's code.
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

_LENGTH = struct.Struct(">I")


class FrameError(Exception):
    """A frame on a worker pipe was cut short or malformed."""


def write_frame(stream: BinaryIO, header: dict[str, Any], body: bytes = b"") -> None:
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    stream.write(_LENGTH.pack(len(header_bytes)) + header_bytes + _LENGTH.pack(len(body)) + body)
    stream.flush()


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            if not chunks and remaining == size:
                return None
            raise FrameError(f"pipe closed after {size - remaining} of {size} bytes")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> tuple[dict[str, Any], bytes] | None:
    """The next frame, or None when the other side closed the pipe between frames."""
    prefix = _read_exact(stream, _LENGTH.size)
    if prefix is None:
        return None
    header_bytes = _read_exact(stream, _LENGTH.unpack(prefix)[0]) or b""
    body_prefix = _read_exact(stream, _LENGTH.size)
    if body_prefix is None:
        raise FrameError("pipe closed between header and body")
    body = _read_exact(stream, _LENGTH.unpack(body_prefix)[0]) if _LENGTH.unpack(body_prefix)[0] else b""
    try:
        header = json.loads(header_bytes)
    except ValueError as exc:
        raise FrameError(f"frame header is not JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise FrameError("frame header is not a JSON object")
    return header, body or b""
