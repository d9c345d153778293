"""Recognising the image formats the endpoint accepts, without third-party libraries."""

from __future__ import annotations

import base64
import binascii

from lambda_common.errors import InvalidImageError

# A Standard state's payload is limited to 256 KiB and the record carries the image as base64
# (4/3 of its size) next to the other fields, so cap the raw image well below that.
MAX_IMAGE_BYTES = 150 * 1024

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def content_type_of(data: bytes, *, where: str) -> str:
    """The MIME type of PNG/JPEG bytes; InvalidImageError for anything else or oversized data."""
    if not data:
        raise InvalidImageError(f"{where} is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidImageError(f"{where} is {len(data)} bytes; at most {MAX_IMAGE_BYTES} fit in a state payload")
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    raise InvalidImageError(f"{where} is not a PNG or JPEG image (starts with {data[:8]!r})")


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def decode(image_data: str, *, where: str) -> bytes:
    if not image_data:
        raise InvalidImageError(f"image_data for {where} is empty: run SerializeImage first")
    try:
        return base64.b64decode(image_data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidImageError(f"image_data for {where} is not valid base64: {exc}") from None
